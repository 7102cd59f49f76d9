import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainIO
import TerrainModels
import TerrainTraining
import TerrainLandscape
import TerrainObjectives
import TerrainTestSupport

/// A small training run shared by the tests: an MLP on three Gaussian blobs, 3 epochs, a
/// checkpoint every 4 iterations.
final class TinyRun: @unchecked Sendable {
    let folder: String
    let data: DatasetPair
    let history: RunHistory

    static let shared = Result { try TinyRun() }

    init() throws {
        var options = DatasetOptions()
        options.syntheticCount = 300
        data = try DatasetCatalog.load("blobs", options: options)
        var config = TrainingConfig(model: ModelSpec(architecture: "mlp", hiddenSizes: [12], inputShape: [], outputs: 0, seed: 5),
                                    dataset: "blobs")
        config.epochs = 3
        config.batchSize = 32
        config.learningRate = 0.05
        config.saveEveryIterations = 4
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-evolve-\(UUID().uuidString)")
        let trainer = try Trainer(config: config, folder: url)
        trainer.showProgress = false
        try trainer.run(data: data)
        folder = url.path
        history = try RunHistory(folder: folder)
    }

    /// The model of a checkpoint with the run's data, as `terrain surface` loads it.
    func objective(_ path: String) throws -> ModelObjective<Float> {
        let checkpoint = try Checkpoint.read(from: URL(fileURLWithPath: path))
        return ModelObjective(model: try checkpoint.makeModel(Float.self), data: data, batchSize: 64) {
            try checkpoint.spec.build() as Module<Float>
        }
    }

}

@Suite("Landscapes through training")
struct EvolveTests {
    func bits(_ v: [Double]?) -> [UInt64] { (v ?? []).map(\.bitPattern) }

    /// Runs a stack into a file with the resumable runner and reads it back.
    func run(_ computation: SurfaceStackComputation, data: String, to path: String) throws -> SurfaceStack {
        let runner = SurfaceRunner(computation: computation, path: path, fingerprint: computation.fingerprint(data: data), options: .quiet())
        try runner.run()
        return try SurfaceStack.read(from: path)
    }

    /// Riding: each frame is, bit for bit, the surface around its checkpoint along the seeded
    /// directions normalized to that checkpoint, computed the way `terrain surface` does it (a
    /// model loaded from that checkpoint, directions drawn and normalized there), even with the
    /// points spread over threads. Each frame's own values are the checkpoint's loss and accuracy.
    @Test func ridingFramesAreTheSurfacesAroundEachCheckpoint() throws {
        let tiny = try TinyRun.shared.get()
        let frames = tiny.history.frames(.all, limit: 4)
        #expect(frames.count == 4 && frames[0].iteration == 0 && frames[3].iteration == tiny.history.entries.last!.iteration)
        let grid = SurfaceGrid(x: try Axis.parse("-1:1:5").coordinates, y: try Axis.parse("-0.5:0.5:3").coordinates)
        let recipe = DirectionRecipe(seed: 41, normalizations: [.filter, .layer], oneDimensional: [.leftOut, .included])
        let objective = try tiny.objective(tiny.history.finalPath)
        let computation = try LandscapeEvolution.riding(objective: objective, frames: frames, recipe: recipe, grid: grid,
                                                        sets: [.train, .test])
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 3
        #expect(try computation.spreadPointsOverThreads())
        let stack = try run(computation, data: "blobs", to: temporaryPath("riding.h5", label: "stack"))
        #expect(stack.count == 4 && stack.mode == "riding")
        for (k, entry) in frames.enumerated() {
            let ordinary = try tiny.objective(entry.path)
            let theta = ordinary.parameters()
            var dx = Direction.random(groups: ordinary.groups, type: .weights, seed: 41)
            dx.normalize(against: theta, groups: ordinary.groups, type: .weights, normalization: .filter, oneDimensional: .leftOut)
            var dy = Direction.random(groups: ordinary.groups, type: .weights, seed: 42)
            dy.normalize(against: theta, groups: ordinary.groups, type: .weights, normalization: .layer, oneDimensional: .included)
            Parallel.threadCount = 1
            let surface = try SurfaceComputation(objective: ordinary, center: theta, xDirection: dx, yDirection: dy, grid: grid,
                                                 sets: [.train, .test])
            for p in 0..<grid.pointCount { try surface.compute(point: p) }
            for q in SurfaceQuantity.allCases {
                #expect(bits(stack.values(q, frame: k)) == bits(surface.values[q]), "frame \(k) \(q)")
            }
            // The centre point (0, 0) is the checkpoint itself: the frame's own values.
            let centre = grid.x.count * 1 + 2
            #expect(stack.frames[k].values[.trainLoss]!.bitPattern == surface.values[.trainLoss]![centre].bitPattern)
            #expect(stack.frames[k].values[.testAccuracy]!.bitPattern == surface.values[.testAccuracy]![centre].bitPattern)
            #expect(stack.frames[k].checkpoint == entry.path && stack.frames[k].iteration == entry.iteration)
            #expect(stack.frames[k].x == 0 && stack.frames[k].y == 0)
            #expect(stack.frames[k].label.hasPrefix("epoch \(entry.epoch) · iteration \(entry.iteration) · train loss "))
        }
        // Later checkpoints sit lower: training worked, and the frames differ.
        #expect(stack.frames[3].values[.trainLoss]! < stack.frames[0].values[.trainLoss]!)
        // Epoch checkpoints carry what training logged; the initialization does not.
        #expect(stack.frames[0].logged.isEmpty)
        #expect(stack.frames[3].logged[.testAccuracy] != nil)
    }

    /// A fixed plane: every frame holds the same surface, the one on the run's PCA plane through
    /// the final weights (what `terrain trajectory` computes), and each frame sits at its
    /// checkpoint's projection, the path's point for that checkpoint.
    @Test func fixedPlaneFramesShareOnePlane() throws {
        let tiny = try TinyRun.shared.get()
        let objective = try tiny.objective(tiny.history.finalPath)
        let final = objective.parameters()
        let thetas = try tiny.history.entries.map { try RunHistory.parameters(of: $0.path, groups: objective.groups) }
        let pca = try TrajectoryPCA(checkpoints: thetas, final: final, groups: objective.groups, type: .weights, oneDimensional: .leftOut)
        let (xAxis, yAxis) = try pca.coveringAxes(points: 4)
        let grid = SurfaceGrid(x: xAxis.coordinates, y: yAxis.coordinates)
        let frames = tiny.history.frames(.epochs)
        #expect(frames.map(\.epoch) == [0, 1, 2, 3] && frames.allSatisfy(\.isEpochCheckpoint))
        let positions = frames.map { f in pca.path[tiny.history.entries.firstIndex { $0.iteration == f.iteration }!] }
        let computation = try LandscapeEvolution.fixedPlane(objective: objective, center: final, axes: pca.axes, frames: frames,
                                                            positions: positions, grid: grid, sets: [.train])
        #expect(computation.layers.count == 1 && computation.pointCount == frames.count + grid.pointCount)
        let stack = try run(computation, data: "blobs", to: temporaryPath("fixed.h5", label: "stack"))
        #expect(stack.mode == "fixed-pca" && stack.quantities == [.trainLoss, .trainAccuracy])
        let plane = try SurfaceComputation(objective: try tiny.objective(tiny.history.finalPath), center: final,
                                           xDirection: pca.axes[0], yDirection: pca.axes[1], grid: grid, sets: [.train])
        for p in 0..<grid.pointCount { try plane.compute(point: p) }
        for k in 0..<stack.count {
            #expect(bits(stack.values(.trainLoss, frame: k)) == bits(plane.values[.trainLoss]))
            #expect(stack.frames[k].x == positions[k].x && stack.frames[k].y == positions[k].y)
            // The checkpoint's own loss is its own, not the plane's: the same bits as its own
            // objective gives, and the plain layer-by-layer evaluation's loss to 1e-5 relative.
            let checkpoint = try tiny.objective(frames[k].path)
            #expect(stack.frames[k].values[.trainLoss]! == (try checkpoint.evaluate(.train)).loss)
            let own = Evaluation.evaluate(checkpoint.model, on: tiny.data.train, batchSize: 64)
            #expect(abs(stack.frames[k].values[.trainLoss]! - own.loss) <= 1e-5 * abs(own.loss))
        }
        #expect(stack.frames.last!.x == 0 && stack.frames.last!.y == 0)
    }

    /// A bumpy function of two parameters seen as three layers and four frames.
    final class Bumpy {
        var calls = 0
        var failAfter: Int?
        struct Interrupted: Error {}
        func objective() -> ClosureObjective {
            ClosureObjective(groups: .tiling([("w", [2], .weight)]), initial: [0.3, -0.2]) { [self] w, _ in
                calls += 1
                if let limit = failAfter, calls > limit { throw Interrupted() }
                return ObjectiveValue(loss: sin(3 * w[0]) * cos(2 * w[1]) + w[0] * w[0], accuracy: 50 + 10 * w[1])
            }
        }

        func computation() throws -> SurfaceStackComputation {
            let grid = SurfaceGrid(x: try Axis.parse("-1:1:5").coordinates, y: try Axis.parse("-1:1:4").coordinates)
            let centres: [[Double]] = [[0, 0], [0.5, -0.3], [1, 1]]
            let layers = centres.map { SurfaceStackComputation.Layer(center: $0, xDirection: Direction(values: [1, 0.2]),
                                                                     yDirection: Direction(values: [-0.3, 1])) }
            let frames = [0, 1, 1, 2].enumerated().map { k, l in
                SurfaceStackComputation.FrameSource(frame: StackFrame(checkpoint: "c\(k)", epoch: k, iteration: 10 * k),
                                                    weights: centres[l].map { $0 + 0.01 * Double(k) }, layer: l)
            }
            return try SurfaceStackComputation(mode: "riding", objective: objective(), layers: layers, frames: frames, grid: grid, sets: [.train])
        }
    }

    /// A run stopped at any point (the file rewritten after every point, or only the journal
    /// holding them) resumes with every finished point and ends with the bits of an
    /// uninterrupted run: the frames' own values and every layer.
    @Test(arguments: [0.0, 1000.0])
    func aStoppedStackResumesToTheSameBits(consolidation: Double) throws {
        let whole = try run(try Bumpy().computation(), data: "bumpy", to: temporaryPath("whole.h5", label: "stack"))
        let total = 4 + 3 * 20
        for stop in [2, 4, 31, 63] {
            let path = try temporaryPath("stopped.h5", label: "stack")
            let first = Bumpy()
            first.failAfter = stop
            let c1 = try first.computation()
            let r1 = SurfaceRunner(computation: c1, path: path, fingerprint: c1.fingerprint(data: "bumpy"),
                                   options: .quiet { $0.consolidationInterval = consolidation })
            #expect(throws: Bumpy.Interrupted.self) { try r1.run() }
            let second = Bumpy()
            let c2 = try second.computation()
            let r2 = SurfaceRunner(computation: c2, path: path, fingerprint: c2.fingerprint(data: "bumpy"), options: .quiet())
            try r2.run()
            #expect(r2.resumedPoints == stop)
            #expect(second.calls == total - stop)
            let resumed = try SurfaceStack.read(from: path)
            for q in [SurfaceQuantity.trainLoss, .trainAccuracy] {
                #expect(bits(resumed.file.values[q]) == bits(whole.file.values[q]), "stopped after \(stop)")
                #expect(resumed.frames.map { $0.values[q]!.bitPattern } == whole.frames.map { $0.values[q]!.bitPattern })
            }
        }
        // Frames 1 and 2 show one layer: the same values; the others differ.
        #expect(whole.values(.trainLoss, frame: 1) == whole.values(.trainLoss, frame: 2))
        #expect(whole.values(.trainLoss, frame: 0) != whole.values(.trainLoss, frame: 1))
        #expect(whole.frames[1].values[.trainLoss] != whole.frames[2].values[.trainLoss])
    }

    /// The file's layout as h5py sees it, and readers that refuse the wrong kind of file.
    @Test func theStackFileLayout() throws {
        let path = try temporaryPath("layout.h5", label: "stack")
        let stack = try run(try Bumpy().computation(), data: "bumpy", to: path)
        let file = try HDF5File(path: path, mode: .readOnly)
        #expect(try file.readDoubles("train_loss").shape == [4, 4, 5])
        #expect(try file.readDoubles("train_acc").shape == [4, 4, 5])
        #expect(try file.readDoubles("xcoordinates").shape == [5] && file.readDoubles("ycoordinates").shape == [4])
        #expect(try file.readStrings("frame_checkpoint") == ["c0", "c1", "c2", "c3"])
        #expect(try file.readDoubles("frame_iteration").values == [0, 10, 20, 30])
        #expect(try file.readDoubles("frame_train_loss").shape == [4])
        #expect(try file.readDoubles("frame_logged_test_acc").values.allSatisfy(\.isNaN))
        #expect(try file.attribute(SurfaceStack.modeAttribute) == .string("riding"))
        #expect(!file.exists("frame_test_loss"))
        file.close()
        // Frame k's surface is [k] of the 3D datasets, and an ordinary surface file.
        let one = stack.surface(at: 3)
        #expect(one.frameCount == nil && one.values[.trainLoss]! == Array(stack.file.values[.trainLoss]![60..<80]))
        #expect(one.extraDatasets.keys.allSatisfy { !$0.hasPrefix("frame_") })
        let written = try temporaryPath("frame.h5", label: "stack")
        try one.write(to: written)
        #expect(try SurfaceFile.read(from: written).values[.trainLoss] == one.values[.trainLoss])
        // Code for one surface is not handed a stack, and the reverse.
        #expect { try SurfaceFile.read(from: path) } throws: { "\($0)".contains("stack of 4 surfaces") }
        #expect { try SurfaceStack.read(from: written) } throws: { "\($0)".contains("not a stack") }
    }

    @Test func frameSelection() throws {
        let history = try TinyRun.shared.get().history
        let all = history.frames(.all)
        // 8 iterations an epoch, a checkpoint every 4: iterations 0, 4, …, 24, the epoch
        // checkpoint standing for its iteration where both were written.
        #expect(all.map(\.iteration) == [0, 4, 8, 12, 16, 20, 24])
        #expect(all.map(\.isEpochCheckpoint) == [true, false, true, false, true, false, true])
        #expect(history.frames(.all, limit: 0).count == all.count)
        #expect(history.frames(.all, limit: 1).map(\.iteration) == [all.last!.iteration])
        let five = history.frames(.all, limit: 5)
        #expect(five.count == 5 && five.first!.iteration == 0 && five.last!.iteration == all.last!.iteration)
        #expect(zip(five, five.dropFirst()).allSatisfy { $0.iteration < $1.iteration })
        #expect(history.frames(.epochs, limit: 2).map(\.epoch) == [0, 3])
    }

    /// The caption falls back on what training logged when the stack has no value yet.
    @Test func frameLabels() {
        var frame = StackFrame(checkpoint: "c", epoch: 2, iteration: 90, logged: [.testLoss: 0.5, .testAccuracy: 81.25])
        #expect(frame.label == "epoch 2 · iteration 90 · test loss 0.5, accuracy 81.25 %")
        frame.values = [.trainLoss: .infinity, .trainAccuracy: .nan]
        #expect(frame.label == "epoch 2 · iteration 90 · train loss diverged · test loss 0.5, accuracy 81.25 %")
        #expect(StackFrame(checkpoint: "c", epoch: 0, iteration: 0).label == "epoch 0 · iteration 0")
    }
}
