import ArgumentParser
import Foundation
import TerrainData
import TerrainTraining
import TerrainLandscape
import TerrainIO

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Loss and accuracy of a checkpoint or an ONNX model on a dataset (evaluation mode).",
        discussion: """
        A checkpoint written by terrain names its model and data. A PyTorch state_dict saved as \
        safetensors needs its zoo architecture (--model) and data; an ONNX model (--onnx, or a \
        path ending in .onnx) needs its data, as stored: --data FILE.npz with arrays x and y is \
        evaluated as one set.
        """)

    @Argument(help: "A checkpoint (.safetensors), or an .onnx model.") var checkpoint: String?
    @Option(help: "An ONNX model (exported by torch.onnx.export) instead of a checkpoint.") var onnx: String?
    @Option(help: "Dataset (default: the one the checkpoint was trained on).") var dataset: String?
    @Option(help: "A data file (NPZ with arrays x and y, or any path --dataset takes), evaluated as one set.") var data: String?
    @Option(help: ArgumentHelp("The zoo architecture of a checkpoint without Terrain's metadata: ARCH[,width=W][,hidden=64x64][,activation=A].",
                               valueName: "spec"))
    var model: String?
    @Flag(help: "ONNX models and --model: standardize inputs per channel (default: the data as stored).") var normalize = false
    @Flag(help: "A checkpoint trained on normalized inputs: fit the normalization on this dataset's training set instead of using the statistics the checkpoint stores.")
    var refitNormalization = false
    @Option(help: "Use a fixed random subset of this many samples of each split.") var subset: Int?
    @Option(help: "Batch size.") var batchSize: Int = 256
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        try OptionCheck.count(batchSize, "--batch-size", in: 1...EvaluationOptions.maximumBatchSize)
        if let subset { try OptionCheck.count(subset, "--subset", in: 1...Int.max) }
    }

    func run() throws {
        try compute.apply()
        try failing {
            let source = try ModelSource(checkpoint: checkpoint, onnx: onnx)
            if case .onnx = source { return try evaluateWithOptions(source) }
            if model != nil { return try evaluateWithOptions(source) }
            let ckpt = try Checkpoint.read(from: URL(fileURLWithPath: source.path))
            guard let name = data ?? dataset ?? ckpt.metadata["terrain.dataset"] else {
                throw ValidationError("the checkpoint does not name its dataset: pass --dataset")
            }
            let (data, line, _) = try CheckpointData.load(name, for: ckpt, source: source.path, subset: subset,
                                                           refitNormalization: refitNormalization)
            try DataFit.check(ckpt.spec, model: "\(source.path) (\(ckpt.spec.architecture))", fits: data, dataName: name)
            let model = try ckpt.makeModel(Float.self, source: source.path)
            print(line)
            try Self.report([("train", data.train), ("test", data.test)].map { label, split in
                (label, Evaluation.evaluate(model, on: split, batchSize: batchSize))
            })
        }
    }

    /// ONNX models and checkpoints described by --model load as the landscape commands load them.
    private func evaluateWithOptions(_ source: ModelSource) throws {
        var arguments = ["--batch-size", "\(batchSize)"]
        if let dataset { arguments += ["--dataset", dataset] }
        if let data {
            guard dataset == nil else { throw ValidationError("--data \(data) and --dataset \(dataset!) name two datasets: give one") }
            arguments += ["--data", data]
        }
        if let model { arguments += ["--model", model] }
        if let subset { arguments += ["--subset", "\(subset)"] }
        if normalize { arguments.append("--normalize") }
        let options = try EvaluationOptions.parse(arguments)
        let (objective, _, description) = try options.objective(source)
        print("\(source.path) on \(description)")
        try Self.report(EvaluationSet.allCases.map { set in
            let split = set == .train ? objective.data.train : objective.data.test
            return (set.rawValue, Evaluation.evaluate(objective.model, on: split, batchSize: batchSize))
        })
    }

    /// Prints one line per set; a loss that is not finite is said in words (never `loss -nan`)
    /// and makes the command fail, so that scripts do not take a diverged model for a result.
    static func report(_ results: [(label: String, result: EvaluationResult)]) throws {
        for (label, r) in results {
            let loss = r.loss.isFinite ? String(format: "%.6f", r.loss) : "not finite (\(r.loss.isNaN ? "NaN" : r.loss > 0 ? "+inf" : "-inf"))"
            print("\(label): loss \(loss)" + (r.accuracy.map { String(format: "  accuracy %.2f%%", $0) } ?? "") + "  (\(r.count) samples)")
        }
        let diverged = results.filter { !$0.result.loss.isFinite }.map(\.label)
        guard diverged.isEmpty else {
            throw EvaluationFailure(description: "the loss on the \(diverged.joined(separator: " and ")) set\(diverged.count > 1 ? "s is" : " is") not finite: the model diverged (its outputs overflow)")
        }
    }
}

/// An evaluation whose result is not a number.
struct EvaluationFailure: Error, CustomStringConvertible {
    var description: String
}
