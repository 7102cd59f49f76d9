import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainModels
import TerrainTraining
import TerrainLandscape
import TerrainObjectives

@Suite("Surfaces")
struct SurfaceTests {
    /// L(θ) = ½ θᵀAθ + bᵀθ with a fixed symmetric A: the surface has a closed form.
    @Test func quadraticMatchesTheClosedForm() throws {
        let a: [[Double]] = [[3, 1, 0], [1, 2, 0.5], [0, 0.5, 1]]
        let b: [Double] = [0.1, -0.2, 0.3]
        func loss(_ t: [Double]) -> Double {
            var s = 0.0
            for i in 0..<3 { s += b[i] * t[i]; for j in 0..<3 { s += 0.5 * t[i] * a[i][j] * t[j] } }
            return s
        }
        let theta: [Double] = [0.5, -1, 2]
        let objective = ClosureObjective(groups: .tiling([("w", [3], .weight)]), initial: theta) { t, _ in ObjectiveValue(loss: loss(t)) }
        let dx = Direction(values: [1, 0.5, -0.25]), dy = Direction(values: [0, 1, 1])
        let grid = SurfaceGrid(x: try Axis.parse("-1:1:5").coordinates, y: try Axis.parse("-2:1:4").coordinates)
        let surface = try SurfaceComputation(objective: objective, center: theta, xDirection: dx, yDirection: dy, grid: grid, sets: [.train])
        for p in surface.pendingPoints { try surface.compute(point: p) }
        #expect(surface.pendingPoints.isEmpty)
        let z = surface.values[.trainLoss]!
        // Expand L(θ + αdx + βdy) as a polynomial in α, β: an independent computation.
        func quad(_ u: [Double], _ v: [Double]) -> Double { (0..<3).reduce(0) { s, i in s + (0..<3).reduce(0) { $0 + u[i] * a[i][$1] * v[$1] } } }
        func lin(_ u: [Double]) -> Double { (0..<3).reduce(0) { $0 + b[$1] * u[$1] } }
        for (j, beta) in grid.y.enumerated() {
            for (i, alpha) in grid.x.enumerated() {
                let expected = loss(theta) + alpha * (quad(theta, dx.values) + lin(dx.values)) + beta * (quad(theta, dy.values) + lin(dy.values))
                    + 0.5 * alpha * alpha * quad(dx.values, dx.values) + 0.5 * beta * beta * quad(dy.values, dy.values)
                    + alpha * beta * quad(dx.values, dy.values)
                #expect(abs(z[j * grid.x.count + i] - expected) < 1e-12, "(\(alpha), \(beta))")
            }
        }
        #expect(surface.values[.trainAccuracy]!.allSatisfy { $0.isNaN })
    }

    /// A point whose loss overflowed is stored as diverged (+∞, accuracy NaN); one whose loss is
    /// NaN (PyTorch's NaN) as NaN, `SurfaceValue.invalid`, with its accuracy. Neither stops the
    /// run, and both count as computed.
    @Test func divergedPointsAreRecordedAndDoNotStopTheRun() throws {
        let objective = ClosureObjective(groups: .tiling([("w", [1], .weight)]), initial: [0]) { t, _ in
            ObjectiveValue(loss: t[0] > 0.9 ? .infinity : t[0] > 0.5 ? .nan : t[0] * t[0], accuracy: 50)
        }
        let surface = try SurfaceComputation(objective: objective, center: [0], xDirection: Direction(values: [1]), yDirection: nil,
                                             grid: SurfaceGrid(x: [0, 0.25, 0.75, 1]), sets: [.train])
        for p in surface.pendingPoints { try surface.compute(point: p) }
        let losses = surface.values[.trainLoss]!, accuracies = surface.values[.trainAccuracy]!
        #expect(losses[0] == 0 && losses[1] == 0.0625 && losses[3] == .infinity)
        #expect(SurfaceValue.isInvalid(losses[2]) && losses[2].isNaN)
        #expect(accuracies[3].isNaN && accuracies[..<3].allSatisfy { $0 == 50 })
        #expect(surface.pendingPoints.isEmpty)
    }

    /// 1D interpolation between two trained models: α = 0 and α = 1 reproduce each model's own
    /// evaluation exactly, batch-norm running statistics included.
    @Test func interpolationEndpointsReproduceBothModels() throws {
        var options = DatasetOptions()
        options.syntheticCount = 300
        let data = try DatasetCatalog.load("blobs", options: options)
        // Two models with batch normalization whose running statistics differ.
        func model(seed: UInt64) throws -> Module<Float> {
            var g = SeededGenerator(seed: seed)
            let m = Sequential<Float>(Linear(2, 8, generator: &g), BatchNorm(8), ReLU(), Linear(8, 3, generator: &g))
            for _ in 0..<3 { _ = m.forward(data.train.batch(0..<64).inputs) }   // move the running statistics
            m.setTraining(false)
            return m
        }
        let m1 = try model(seed: 1), m2 = try model(seed: 2)
        let o1 = ModelObjective(model: m1, data: data), o2 = ModelObjective(model: m2, data: data)
        let t1 = o1.parameters(), t2 = o2.parameters()
        let direction = Direction.between(t1, t2, groups: o1.groups, type: .states)
        let surface = try SurfaceComputation(objective: o1, center: t1, xDirection: direction, yDirection: nil,
                                             grid: SurfaceGrid(x: [0, 0.5, 1]), sets: [.train, .test])
        let expected1 = (try o1.evaluate(.train), try o1.evaluate(.test))
        let expected2 = (try o2.evaluate(.train), try o2.evaluate(.test))
        for p in surface.pendingPoints { try surface.compute(point: p) }
        #expect(surface.values[.trainLoss]![0] == expected1.0.loss && surface.values[.testAccuracy]![0] == expected1.1.accuracy)
        #expect(surface.values[.trainLoss]![2] == expected2.0.loss && surface.values[.testLoss]![2] == expected2.1.loss)
        #expect(surface.values[.trainAccuracy]![2] == expected2.0.accuracy)
        // With `weights`, the running statistics stay at model 1's: α = 1 is then not model 2.
        let weightsOnly = Direction.between(t1, t2, groups: o1.groups, type: .weights)
        let s2 = try SurfaceComputation(objective: o1, center: t1, xDirection: weightsOnly, yDirection: nil,
                                        grid: SurfaceGrid(x: [1]), sets: [.train])
        try s2.compute(point: 0)
        #expect(s2.values[.trainLoss]![0] != expected2.0.loss)
    }

    /// Grid points spread over threads (one network copy per thread) and one point at a time
    /// (each layer split over the threads) give the same bits, for 1, 2 and 3 threads, on both
    /// evaluation paths.
    @Test(arguments: EvaluationPath.allCases)
    func spreadingPointsOverThreadsChangesNoBit(_ path: EvaluationPath) throws {
        var g = SeededGenerator(seed: 9)
        let images = Tensor<Float>.randomNormal(shape: [96, 2, 8, 8], generator: &g)
        let set = Dataset(name: "images", inputs: images, targets: .classes((0..<96).map { Int32($0 % 4) }, count: 4))
        func build() -> Module<Float> {
            var g = SeededGenerator(seed: 3)
            return Sequential<Float>(Conv2d(2, 6, kernel: 3, padding: 1, generator: &g), BatchNorm(6), ReLU(),
                                     GlobalAvgPool(), Linear(6, 4, generator: &g))
        }
        let objective = ModelObjective(model: build(), data: DatasetPair(train: set, test: set), batchSize: 40, makeModel: build)
        objective.evaluationPath = path
        #expect(objective.evaluatesCompiled == (path == .compiled))
        let theta = objective.parameters()
        let directions = DirectionRecipe(seed: 20).directions(count: 2, for: theta, groups: objective.groups)
        let grid = SurfaceGrid(x: try Axis.parse("-1:1:5").coordinates, y: try Axis.parse("-1:1:3").coordinates)
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        var surfaces: [[UInt64]] = []
        for (threads, spread) in [(1, false), (2, false), (2, true), (3, true)] {
            Parallel.threadCount = threads
            let computation = try SurfaceComputation(objective: objective, center: theta, xDirection: directions[0],
                                                     yDirection: directions[1], grid: grid, sets: [.train])
            if spread {
                #expect(try computation.spreadPointsOverThreads(threads))
                #expect(computation.concurrentPoints == threads)
            }
            let pending = computation.pendingPoints
            for start in stride(from: 0, to: pending.count, by: computation.concurrentPoints) {
                let group = Array(pending[start..<min(pending.count, start + computation.concurrentPoints)])
                let rows = try computation.compute(points: group)
                #expect(rows.count == group.count)
            }
            #expect(computation.pendingPoints.isEmpty)
            computation.restoreCenter()
            surfaces.append(computation.values[.trainLoss]!.map(\.bitPattern) + computation.values[.trainAccuracy]!.map(\.bitPattern))
        }
        #expect(objective.parameters() == theta)
        for s in surfaces.dropFirst() { #expect(s == surfaces[0]) }
        // The centre of the grid is the unmoved model: the same bits as the objective's own
        // evaluation there, and the plain layer-by-layer evaluation's loss (bit for bit on that
        // path, to 1e-5 relative on the compiled one).
        #expect(Double(bitPattern: surfaces[0][7]) == (try objective.evaluate(.train)).loss)
        let plain = Evaluation.evaluate(objective.model, on: set, batchSize: 40).loss
        if path == .layerByLayer {
            #expect(Double(bitPattern: surfaces[0][7]) == plain)
        } else {
            #expect(abs(Double(bitPattern: surfaces[0][7]) - plain) <= 1e-5 * abs(plain))
        }
    }

    @Test func objectivesThatCannotBeCopiedEvaluateOnePointAtATime() throws {
        let objective = ClosureObjective(groups: .tiling([("w", [1], .weight)]), initial: [0]) { t, _ in ObjectiveValue(loss: t[0]) }
        let computation = try SurfaceComputation(objective: objective, center: [0], xDirection: Direction(values: [1]),
                                                 yDirection: nil, grid: SurfaceGrid(x: [0, 1]), sets: [.train])
        #expect(try computation.spreadPointsOverThreads(2) == false)
        #expect(computation.concurrentPoints == 1)
    }
}
