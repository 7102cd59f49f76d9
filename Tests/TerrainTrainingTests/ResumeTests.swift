import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainIO
import TerrainModels
@testable import TerrainTraining
import TerrainTestSupport

/// A stopped run resumed from its last completed epoch ends exactly where the run that never
/// stopped ends: the same checkpoint bytes, logs and weight average.
@Suite("Resuming training")
struct ResumeTests {
    func config(_ optimizer: OptimizerKind) -> TrainingConfig {
        var c = TrainingConfig(model: ModelSpec(architecture: "mlp", hiddenSizes: [16, 16], inputShape: [], outputs: 0, seed: 1),
                               dataset: "blobs")
        c.epochs = 3
        c.batchSize = 32
        c.optimizer = optimizer
        c.learningRate = optimizer == .sgd ? 0.1 : 0.01
        c.weightDecay = 0.05
        c.decayScope = .weights
        c.betas = [0.9, 0.95]
        c.clipNorm = 0.5
        c.schedule = "warmup-cosine:5:1e-4"
        c.swaStart = 1
        c.saveEveryIterations = 7
        return c
    }

    func contents(_ url: URL) throws -> Data { try Data(contentsOf: url) }

    /// A CSV without the columns that measure time (seconds, images per second).
    func withoutTimings(_ url: URL) throws -> [String] {
        let lines = String(decoding: try contents(url), as: UTF8.self).split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false)
        let timed = Set(header.indices.filter { ["seconds", "images_per_s"].contains(String(header[$0])) })
        return lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).enumerated()
            .filter { !timed.contains($0.offset) }.map { String($0.element) }.joined(separator: ",") }
    }

    @Test(arguments: [OptimizerKind.adamw, .sgd])
    func resumedRunEndsWithTheSameFiles(optimizer: OptimizerKind) throws {
        let root = try makeTemporaryFolder("tests")
        let straight = root.appendingPathComponent("straight"), stopped = root.appendingPathComponent("stopped")
        let c = config(optimizer)
        let uninterrupted = try Trainer(config: c, folder: straight)
        uninterrupted.showProgress = false
        try uninterrupted.run(data: try blobs())
        #expect(!FileManager.default.fileExists(atPath: straight.appendingPathComponent("resume.safetensors").path),
                "a finished run keeps no resume state")

        let first = try Trainer(config: c, folder: stopped)
        first.showProgress = false
        first.stopAfterEpochs = 2
        #expect(throws: Trainer.SimulatedStop.self) { try first.run(data: try blobs()) }
        #expect(FileManager.default.fileExists(atPath: stopped.appendingPathComponent("resume.safetensors").path))
        // A resume with other options is refused, naming what differs.
        var other = c
        other.clipNorm = 2
        #expect { try Trainer(config: other, folder: stopped).run(data: try blobs(), resume: true) } throws: {
            "\($0)".contains("clipNorm: 0.5 → 2")
        }
        let resumed = try Trainer(config: c, folder: stopped)
        resumed.showProgress = false
        var resumedAfter: Int?
        resumed.onResume = { resumedAfter = $0 }
        let summaries = try resumed.run(data: try blobs(), resume: true)
        #expect(resumedAfter == 2)
        #expect(summaries.map(\.epoch) == [3], "only the third epoch is trained again")

        for name in ["final.safetensors", "swa.safetensors", "iterations.csv"] {
            #expect(try contents(stopped.appendingPathComponent(name)) == contents(straight.appendingPathComponent(name)), "\(name)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: straight.appendingPathComponent("checkpoints").path).sorted()
        #expect(try FileManager.default.contentsOfDirectory(atPath: stopped.appendingPathComponent("checkpoints").path).sorted() == files)
        for file in files {
            let path = "checkpoints/" + file
            #expect(try contents(stopped.appendingPathComponent(path)) == contents(straight.appendingPathComponent(path)), "\(path)")
        }
        #expect(try withoutTimings(stopped.appendingPathComponent("metrics.csv")) == withoutTimings(straight.appendingPathComponent("metrics.csv")))
        #expect(!FileManager.default.fileExists(atPath: stopped.appendingPathComponent("resume.safetensors").path))
        let record = { (folder: URL) throws -> [String] in
            let json = try JSONSerialization.jsonObject(with: contents(folder.appendingPathComponent("run.json"))) as! [String: Any]
            return ["checkpoints", "learning_rate_changes", "config", "final_test", "swa_test"].map { key in
                String(decoding: try! JSONSerialization.data(withJSONObject: json[key]!, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
            }
        }
        #expect(try record(stopped) == record(straight))
        // A finished run cannot be resumed.
        #expect { try Trainer(config: c, folder: stopped).run(data: try blobs(), resume: true) } throws: { "\($0)".contains("has finished") }
    }
}
