import ArgumentParser
import Foundation
import TerrainData
import TerrainTraining
import TerrainLandscape
import TerrainRequests

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
    @Option(help: ArgumentHelp("Sets to report: train, test or train,test (default: both); or a data file (NPZ with arrays x and y, or any path --dataset takes), evaluated as one set.",
                               valueName: "sets-or-file"),
            // Anything that names no sets is data, as `evaluate --data` always took it (a named data set too).
            transform: { DataSpec(argument: $0) ?? .file($0) })
    var data: DataSpec?
    @Option(help: ArgumentHelp("The zoo architecture of a checkpoint without Terrain's metadata: ARCH[,width=W][,hidden=64x64][,activation=A].",
                               valueName: "spec"))
    var model: String?
    @Flag(help: "ONNX models and --model: standardize inputs per channel (default: the data as stored).") var normalize = false
    @Flag(help: "A checkpoint trained on normalized inputs: fit the normalization on this dataset's training set instead of using the statistics the checkpoint stores.")
    var refitNormalization = false
    @Option(help: "Use a fixed random subset of this many samples of each split.") var subset: Int?
    @Option(help: "Batch size.") var batchSize: Int = 256
    @Option(help: "Token sequences: the context T of windows cut from a text corpus (read as bytes), or the length of NPZ token sequences (default: a checkpoint's own).")
    var context: Int?
    @OptionGroup var compute: ComputeOptions

    /// The data file `--data` names, if it names one.
    private var dataFile: String? {
        if case .file(let file) = data { return file }
        return nil
    }

    /// The sets reported.
    private var sets: [EvaluationSet] {
        if case .sets(let sets) = data { return sets }
        return EvaluationSet.allCases
    }

    func validate() throws {
        if let dataFile, let dataset { throw ValidationError("--data \(dataFile) and --dataset \(dataset) name two datasets: give one") }
        try OptionCheck.count(batchSize, "--batch-size", in: 1...EvaluationData.maximumBatchSize)
        if let subset { try OptionCheck.count(subset, "--subset", in: 1...Int.max) }
        if let context { try OptionCheck.count(context, "--context", in: 1...TokenSequences.maximumContext) }
    }

    func run() throws {
        try compute.apply()
        try failing {
            let source = try ModelSource(checkpoint: checkpoint, onnx: onnx, architecture: model)
            if case .onnx = source { return try evaluateWithOptions(source) }
            if case .stateDict = source { return try evaluateWithOptions(source) }
            let path = source.path!
            let ckpt = try Checkpoint.read(from: URL(fileURLWithPath: path))
            guard let name = dataFile ?? dataset ?? ckpt.metadata["terrain.dataset"] else {
                throw ValidationError("the checkpoint does not name its dataset: pass --dataset")
            }
            let (data, line, _) = try CheckpointData.load(name, for: ckpt, source: path, subset: subset,
                                                           refitNormalization: refitNormalization, context: context)
            try DataFit.check(ckpt.spec, model: "\(path) (\(ckpt.spec.architecture))", fits: data, dataName: name)
            let model = try ckpt.makeModel(Float.self, source: path)
            print(line)
            if let note = data.note { print(note) }
            try Self.report(sets.map { set in
                (set.rawValue, Evaluation.evaluate(model, on: set == .train ? data.train : data.test, batchSize: batchSize))
            })
        }
    }

    /// ONNX models and checkpoints described by --model load as the landscape commands load them.
    private func evaluateWithOptions(_ source: ModelSource) throws {
        let loaded = try source.load(on: EvaluationData(dataset: dataFile ?? dataset, normalize: normalize, subset: subset, batchSize: batchSize,
                                                     context: context),
                                     progress: .standard())
        let objective = try loaded.requireNetwork(for: "an evaluation")
        print("\(source.path!) on \(loaded.dataDescription)")
        try Self.report(sets.map { set in
            let split = set == .train ? objective.data.train : objective.data.test
            return (set.rawValue, Evaluation.evaluate(objective.model, on: split, batchSize: batchSize))
        })
    }

    /// Prints one line per set; a loss that is not finite is said in words (never `loss -nan`)
    /// and makes the command fail, so that scripts do not take a diverged model for a result.
    static func report(_ results: [(label: String, result: EvaluationResult)]) throws {
        for (label, r) in results {
            let loss = r.loss.isFinite ? String(format: "%.6f", r.loss) : "not finite (\(r.loss.isNaN ? "NaN" : r.loss > 0 ? "+inf" : "-inf"))"
            print("\(label): loss \(loss)" + (r.accuracy.map { String(format: "  accuracy %.2f%%", $0) } ?? "")
                  + (r.perplexity.map { String(format: "  perplexity %.4f", $0) } ?? "") + "  (\(r.count) samples)")
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
