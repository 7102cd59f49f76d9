import Testing
import Foundation
import TerrainData
import TerrainModels
import TerrainTraining
import TerrainLandscape
import TerrainRequests
import TerrainTestSupport

/// `terrain connect` as a request: a curve trained between two MLPs of different seeds has a
/// lower barrier than the straight line between them, the files say so, and what cannot be
/// connected is refused with a message.
@Suite("Mode connectivity")
struct ConnectRequestTests {
    /// Two MLPs on the spirals, trained from different seeds: the ends of the curve.
    static func trainedEnd(_ folder: URL, seed: UInt64, hidden: [Int] = [24, 24]) throws -> String {
        var config = TrainingConfig(model: ModelSpec(architecture: "mlp", hiddenSizes: hidden, inputShape: [], outputs: 0, seed: seed),
                                    dataset: "spirals")
        config.epochs = 12
        config.batchSize = 32
        config.learningRate = 0.1
        config.seed = seed
        let run = folder.appendingPathComponent("run\(seed)-\(hidden.count)")
        let trainer = try Trainer(config: config, folder: run)
        trainer.showProgress = false
        var options = DatasetOptions()
        options.seed = seed
        try trainer.run(data: try DatasetCatalog.load("spirals", options: options))
        return run.appendingPathComponent("final.safetensors").path
    }

    func request(_ a: String, _ b: String, out: URL) -> ConnectRequest {
        ConnectRequest(a: a, b: b, curve: .bezier,
                       training: CurveTrainingSettings(epochs: 8, batchSize: 32, learningRate: 0.05, weightDecay: 0),
                       data: EvaluationData(sets: [.train, .test], subset: 400), points: 11, planeGrid: 5, output: out.path)
    }

    @Test func theTrainedCurveHasALowerBarrierThanTheLine() throws {
        let root = try makeTemporaryFolder("connect")
        let a = try Self.trainedEnd(root, seed: 1), b = try Self.trainedEnd(root, seed: 2)
        let out = root.appendingPathComponent("connect")
        let result = try request(a, b, out: out).run(progress: .silent)
        let train = try #require(result.barriers.first { $0.set == .train })
        #expect(train.line > 0.1, "two independently trained networks: the line between them rises (\(train.line))")
        #expect(train.curve < 0.5 * train.line, "the curve goes round the barrier: \(train.curve) against the line's \(train.line)")
        #expect(result.barriers.contains { $0.set == .test })

        let curve = try SurfaceFile.read(from: out.appendingPathComponent("curve.h5").path)
        #expect(curve.grid.x.count == 11 && curve.grid.x.first == 0 && curve.grid.x.last == 1)
        #expect(curve.extraDatasets["line_test_loss"]?.count == 11)
        #expect(curve.numberAttributes["terrain.barrier.curve.train"] == train.curve)
        #expect(curve.numberAttributes["terrain.barrier.line.train"] == train.line)
        #expect(curve.textAttributes["terrain.curve"] == "bezier")
        // Both ends are A and B themselves, on the curve and on the line.
        #expect(curve.values[.trainLoss]!.first == curve.extraDatasets["line_train_loss"]!.first)
        #expect(curve.values[.trainLoss]!.last == curve.extraDatasets["line_train_loss"]!.last)
        let plane = try SurfaceFile.read(from: out.appendingPathComponent("plane.h5").path)
        #expect(plane.grid.shape == [5, 5])
        #expect(plane.extraDatasets["path_y"]?.max() == 0.5, "the Bézier curve's highest point is β = 2·½·½")
        let bend = try Checkpoint.read(from: out.appendingPathComponent("curve.safetensors"))
        #expect(bend.metadata["terrain.curve"] == "bezier" && bend.metadata["terrain.curve.a"] == a)

        // The same request again: the curve is this request's, the grids are done.
        let bytes = try Data(contentsOf: out.appendingPathComponent("curve.safetensors"))
        var notes: [String] = []
        let again = try request(a, b, out: out).run(progress: RequestProgress(showsBar: false, log: { notes.append($0) }, status: { _ in }))
        #expect(again.barriers == result.barriers)
        #expect(try Data(contentsOf: out.appendingPathComponent("curve.safetensors")) == bytes)
        #expect(notes.contains { $0.contains("trained already") })
        // Other training options: refused without --overwrite.
        var other = request(a, b, out: out)
        other.training.epochs = 2
        #expect { try other.run(progress: .silent) } throws: { "\($0)".contains("another request") }
        // Other grids over the same curve: --overwrite recomputes them and keeps the curve.
        var finer = request(a, b, out: out)
        finer.points = 21
        #expect(throws: (any Error).self) { try finer.run(progress: .silent) }
        finer.overwrite = true
        notes = []
        let fine = try finer.run(progress: RequestProgress(showsBar: false, log: { notes.append($0) }, status: { _ in }))
        #expect(notes.contains { $0.contains("trained already") })
        #expect(try Data(contentsOf: out.appendingPathComponent("curve.safetensors")) == bytes)
        #expect(fine.curveFile?.grid.x.count == 21)

        // What cannot be connected.
        let small = try Self.trainedEnd(root, seed: 3, hidden: [8])
        #expect { try request(a, small, out: root.appendingPathComponent("x")).run(progress: .silent) } throws: {
            "\($0)".contains("different models") && "\($0)".contains("mlp")
        }
        let text = root.appendingPathComponent("notes.txt")
        try Data("not a checkpoint".utf8).write(to: text)
        #expect { try request(a, text.path, out: root.appendingPathComponent("y")).run(progress: .silent) } throws: {
            "\($0)".contains("is not a Terrain checkpoint")
        }
        var noRate = request(a, b, out: root.appendingPathComponent("z"))
        noRate.training.learningRate = 0
        #expect { try noRate.run(progress: .silent) } throws: { "\($0)".contains("--lr must be a positive number") }
        var onePoint = request(a, b, out: root.appendingPathComponent("z"))
        onePoint.points = 1
        #expect { try onePoint.run(progress: .silent) } throws: { "\($0)".contains("--points must be at least 2") }
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("z").path), "a refused request writes nothing")
    }
}
