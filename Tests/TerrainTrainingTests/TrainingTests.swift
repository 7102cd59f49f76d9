import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainIO
import TerrainModels
import TerrainTraining
import TerrainTestSupport

/// Blobs: three Gaussian clusters in 2D, easy to fit in a few epochs.
func blobs() throws -> DatasetPair {
    var options = DatasetOptions()
    options.syntheticCount = 600
    return try DatasetCatalog.load("blobs", options: options)
}

@Suite("Checkpoints")
struct CheckpointTests {
    @Test func roundTripRebuildsTheSameModel() throws {
        let spec = ModelSpec(architecture: "resnet8", width: 0.5, inputShape: [1, 12, 12], outputs: 4, seed: 2)
        let model: Module<Float> = try spec.build()
        // Make running statistics non-trivial so that buffers are checked too.
        var g = SeededGenerator(seed: 1)
        _ = model.forward(.randomNormal(shape: [8, 1, 12, 12], generator: &g))
        let folder = try makeTemporaryFolder("tests")
        let url = folder.appendingPathComponent("m.safetensors")
        try Checkpoint(model: model, spec: spec, metadata: ["note": "hello"]).write(to: url)
        let loaded = try Checkpoint.read(from: url)
        #expect(loaded.spec == spec)
        #expect(loaded.metadata["note"] == "hello")
        let rebuilt: Module<Float> = try loaded.makeModel()
        #expect(rebuilt.flatParameters(.states) == model.flatParameters(.states))
        // PyTorch's state_dict: the parameters in module order, each batch-norm layer's
        // num_batches_tracked (one training batch seen) after its running variance.
        #expect(loaded.tensorOrder.filter { !$0.hasSuffix(Checkpoint.counterSuffix) } == model.namedParameters().map(\.name))
        #expect(loaded.tensorOrder[0..<6] == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                                              "bn1.num_batches_tracked"])
        #expect(loaded.counters.count == 9 && loaded.counters.values.allSatisfy { $0 == 1 })
        // And in Double, for curvature work.
        let asDouble: Module<Double> = try loaded.makeModel()
        #expect(asDouble.flatParameters(.states) == Tensor<Double>(converting: model.flatParameters(.states)))
    }

    @Test func plainStateDictsLoadWithAGivenArchitecture() throws {
        // A PyTorch state_dict saved as safetensors: no metadata, counters as I64 scalars.
        let spec = ModelSpec(architecture: "cnn", width: 0.25, inputShape: [1, 8, 8], outputs: 3, seed: 4)
        let model: Module<Float> = try spec.build()
        let folder = try makeTemporaryFolder("tests")
        let url = folder.appendingPathComponent("torch.safetensors")
        let written = Checkpoint(model: model, spec: spec)
        let entries = written.tensorOrder.map { name -> SafetensorsEntry in
            if name.hasSuffix(Checkpoint.counterSuffix) {
                return SafetensorsEntry(name: name, dtype: .i64, shape: [], data: withUnsafeBytes(of: Int64(42).littleEndian) { Data($0) })
            }
            return SafetensorsEntry(name: name, tensor: written.tensors[name]!)
        }
        try SafetensorsFile(entries: entries, metadata: [:]).write(to: url)
        #expect { try Checkpoint.read(from: url) } throws: { "\($0)".contains("pass --model") }
        let loaded = try Checkpoint.read(from: url, spec: spec)
        let rebuilt: Module<Float> = try loaded.makeModel()
        #expect(rebuilt.flatParameters(.states) == model.flatParameters(.states))
        #expect(loaded.counters == ["bn1.num_batches_tracked": 42, "bn2.num_batches_tracked": 42])
        #expect(Checkpoint(model: rebuilt, spec: spec).counters.values.allSatisfy { $0 == 42 })
        // A counter the model has no batch-norm layer for is named.
        let mlp = ModelSpec(architecture: "mlp", hiddenSizes: [4], inputShape: [2], outputs: 2)
        let mlpModel: Module<Float> = try mlp.build()
        let mlpURL = folder.appendingPathComponent("mlp.safetensors")
        let mlpEntries = Checkpoint(model: mlpModel, spec: mlp).tensorOrder.map {
            SafetensorsEntry(name: $0, tensor: Checkpoint(model: mlpModel, spec: mlp).tensors[$0]!)
        } + [SafetensorsEntry(name: "fc1.num_batches_tracked", dtype: .i64, shape: [], data: Data(count: 8))]
        try SafetensorsFile(entries: mlpEntries, metadata: [:]).write(to: mlpURL)
        #expect { try Checkpoint.read(from: mlpURL, spec: mlp).makeModel(Float.self) } throws: { "\($0)".contains("fc1.num_batches_tracked") }
    }

    @Test func mismatchedFilesGiveClearErrors() throws {
        let spec = ModelSpec(architecture: "mlp", hiddenSizes: [5], inputShape: [3], outputs: 2)
        let model: Module<Float> = try spec.build()
        let folder = try makeTemporaryFolder("tests")
        let good = folder.appendingPathComponent("good.safetensors")
        try Checkpoint(model: model, spec: spec).write(to: good)

        // A tensor of the wrong shape.
        var file = try SafetensorsFile.read(from: good)
        file.entries[0] = SafetensorsEntry(name: file.entries[0].name, tensor: Tensor<Float>(zeros: [5, 4]))
        let wrongShape = folder.appendingPathComponent("shape.safetensors")
        try file.write(to: wrongShape)
        #expect { try Checkpoint.read(from: wrongShape).makeModel(Float.self) } throws: { "\($0)".contains("shape [5, 4]") }

        // A tensor missing.
        var missing = try SafetensorsFile.read(from: good)
        missing.entries.removeLast()
        let missingURL = folder.appendingPathComponent("missing.safetensors")
        try missing.write(to: missingURL)
        #expect { try Checkpoint.read(from: missingURL).makeModel(Float.self) } throws: { "\($0)".contains("missing") }

        // Not written by terrain: no model description.
        let plain = folder.appendingPathComponent("plain.safetensors")
        try SafetensorsFile(entries: [SafetensorsEntry(name: "w", tensor: Tensor<Float>(zeros: [2]))]).write(to: plain)
        #expect { try Checkpoint.read(from: plain) } throws: { "\($0)".contains("no model description") }

        // Garbage and truncation.
        let garbage = folder.appendingPathComponent("garbage.safetensors")
        try Data("definitely not a checkpoint".utf8).write(to: garbage)
        #expect(throws: CheckpointError.self) { try Checkpoint.read(from: garbage) }
        let bytes = try Data(contentsOf: good)
        for cut in [0, 7, 8, 40, bytes.count / 2, bytes.count - 1] {
            let truncated = folder.appendingPathComponent("cut\(cut).safetensors")
            try bytes.prefix(cut).write(to: truncated)
            #expect(throws: CheckpointError.self) { try Checkpoint.read(from: truncated) }
        }
    }
}

@Suite("Training")
struct TrainerTests {
    func config(_ optimizer: OptimizerKind = .sgd, epochs: Int = 4) -> TrainingConfig {
        var c = TrainingConfig(model: ModelSpec(architecture: "mlp", hiddenSizes: [16, 16], inputShape: [], outputs: 0, seed: 1),
                               dataset: "blobs")
        c.epochs = epochs
        c.batchSize = 32
        c.optimizer = optimizer
        c.learningRate = optimizer == .sgd ? 0.1 : 0.01
        c.saveEveryIterations = 10
        return c
    }

    @Test(arguments: [OptimizerKind.sgd, .adam, .adamw])
    func learnsBlobsAndRecordsTheRun(optimizer: OptimizerKind) throws {
        let folder = try makeTemporaryFolder("tests")
        let trainer = try Trainer(config: config(optimizer), folder: folder)
        trainer.showProgress = false
        let summaries = try trainer.run(data: blobs())
        #expect(summaries.count == 4)
        #expect(summaries.last!.train.loss < summaries.first!.train.loss)
        #expect(summaries.last!.test.accuracy! > 80)
        let fm = FileManager.default
        for file in ["run.json", "metrics.csv", "metrics.jsonl", "iterations.csv", "final.safetensors",
                     "checkpoints/epoch-0000.safetensors", "checkpoints/epoch-0004.safetensors", "checkpoints/iter-00000010.safetensors"] {
            #expect(fm.fileExists(atPath: folder.appendingPathComponent(file).path), "\(file)")
        }
        // The final checkpoint reproduces the final test metrics.
        let model: Module<Float> = try Checkpoint.read(from: folder.appendingPathComponent("final.safetensors")).makeModel()
        let data = try blobs()
        #expect(Evaluation.evaluate(model, on: data.test) == summaries.last!.test)
    }

    @Test func samAndSWA() throws {
        var c = config()
        c.samRadius = 0.05
        c.swaStart = 1
        let folder = try makeTemporaryFolder("tests")
        let trainer = try Trainer(config: c, folder: folder)
        trainer.showProgress = false
        let summaries = try trainer.run(data: blobs())
        #expect(summaries.last!.test.accuracy! > 80)
        let swa = try Checkpoint.read(from: folder.appendingPathComponent("swa.safetensors"))
        let final = try Checkpoint.read(from: folder.appendingPathComponent("final.safetensors"))
        #expect(swa.tensors["fc1.weight"] != final.tensors["fc1.weight"])
    }

    @Test func multiStepDropsAreRecorded() throws {
        var c = config(epochs: 3)
        c.schedule = "multistep:1,2"
        let folder = try makeTemporaryFolder("tests")
        let trainer = try Trainer(config: c, folder: folder)
        trainer.showProgress = false
        let summaries = try trainer.run(data: blobs())
        #expect(summaries.map(\.learningRate).map { ($0 * 1e6).rounded() / 1e6 } == [0.1, 0.01, 0.001])
        let run = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("run.json"))) as! [String: Any]
        let drops = run["learning_rate_changes"] as! [[String: Any]]
        #expect(drops.map { $0["epoch"] as! Int } == [1, 2])
    }

    @Test func sameSeedIsBitIdentical() throws {
        func train() throws -> Tensor<Float> {
            let folder = try makeTemporaryFolder("tests")
            let trainer = try Trainer(config: config(epochs: 2), folder: folder)
            trainer.showProgress = false
            try trainer.run(data: blobs())
            return try Checkpoint.read(from: folder.appendingPathComponent("final.safetensors")).tensors["fc1.weight"]!
        }
        #expect(try train() == train())
    }

    @Test func divergenceStopsWithAClearError() throws {
        var c = config()
        c.learningRate = 1e8
        let trainer = try Trainer(config: c, folder: makeTemporaryFolder("tests"))
        trainer.showProgress = false
        #expect { try trainer.run(data: blobs()) } throws: { "\($0)".contains("diverged") }
    }

    @Test func invalidConfigurations() throws {
        var c = config()
        c.epochs = 0
        let first = try makeTemporaryFolder("tests")
        #expect(throws: TrainingError.self) { try Trainer(config: c, folder: first) }
        c = config()
        c.learningRate = -1
        let second = try makeTemporaryFolder("tests")
        #expect(throws: TrainingError.self) { try Trainer(config: c, folder: second) }
    }
}
