import ArgumentParser
import Foundation
import TerrainData
import TerrainTraining

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Loss and accuracy of a checkpoint on a dataset (evaluation mode).")

    @Argument(help: "A checkpoint (.safetensors) written by terrain.") var checkpoint: String
    @Option(help: "Dataset (default: the one the checkpoint was trained on).") var dataset: String?
    @Option(help: "Use a fixed random subset of this many samples of each split.") var subset: Int?
    @Option(help: "Batch size.") var batchSize: Int = 256
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        try failing {
            let ckpt = try Checkpoint.read(from: URL(fileURLWithPath: checkpoint))
            let model = try ckpt.makeModel(Float.self, source: checkpoint)
            guard let name = dataset ?? ckpt.metadata["terrain.dataset"] else {
                throw ValidationError("the checkpoint does not name its dataset: pass --dataset")
            }
            var options = DatasetOptions()
            options.trainSubset = subset
            options.testSubset = subset
            if let text = ckpt.metadata["terrain.training"], let config = try? TrainingConfig(json: text) {
                options.normalize = config.normalize
                options.seed = config.seed
            }
            let data = try DatasetCatalog.load(name, options: options)
            for (label, split) in [("train", data.train), ("test", data.test)] {
                let r = Evaluation.evaluate(model, on: split, batchSize: batchSize)
                print("\(label): loss \(String(format: "%.6f", r.loss))" + (r.accuracy.map { String(format: "  accuracy %.2f%%", $0) } ?? "") + "  (\(r.count) samples)")
            }
        }
    }
}
