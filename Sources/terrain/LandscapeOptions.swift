import TerrainTensor
import ArgumentParser
import Foundation
import TerrainData
import TerrainNN
import TerrainTraining
import TerrainLandscape
import TerrainObjectives
import TerrainRequests

/// Where a landscape's loss is evaluated: the data, a fixed subset, the batch size. Parsed into
/// the library's `EvaluationData`; `--model` goes into the `ModelSource`.
struct EvaluationOptions: ParsableArguments {
    @Option(help: "Dataset (default: the one the checkpoint was trained on).") var dataset: String?
    @Option(help: ArgumentHelp("Sets to evaluate at each point: train, test or train,test; or a data file (NPZ with x and y, or any path --dataset takes), evaluated as the train set.",
                               valueName: "sets-or-file"))
    var data: DataSpec = .sets([.train])
    @Option(help: ArgumentHelp("The zoo architecture of a checkpoint without Terrain's metadata (a PyTorch state_dict saved as safetensors): ARCH[,width=W][,hidden=64x64][,activation=A], or a model spec as JSON.",
                               valueName: "spec"))
    var model: String?
    @Flag(help: "ONNX models: standardize inputs per channel with the training set's statistics (default: the data as stored).")
    var normalize = false
    @Flag(help: "A checkpoint trained on normalized inputs: fit the normalization on this dataset's training set instead of using the statistics the checkpoint stores.")
    var refitNormalization = false
    @Option(help: "Evaluate on a fixed random subset of this many samples of each set.") var subset: Int?
    @Option(help: "Seed of the subset.") var subsetSeed: UInt64 = 0
    @Option(help: "Token sequences: the context T of windows cut from a text corpus (read as bytes), or the length of NPZ token sequences (default: a checkpoint's own).")
    var context: Int?
    @Option(help: "Evaluation batch size.") var batchSize: Int = 500
    @Option(help: ArgumentHelp("How the threads share the work: points (grid points side by side, one copy of the network per thread), layers (one point at a time, each layer split over the threads) or auto. Same numbers either way.",
                               valueName: "mode"))
    var spread: ThreadUse = .auto

    func validate() throws {
        try OptionCheck.count(batchSize, "--batch-size", in: 1...EvaluationData.maximumBatchSize)
        if let subset { try OptionCheck.count(subset, "--subset", in: 1...Int.max) }
        if let context { try OptionCheck.count(context, "--context", in: 1...TokenSequences.maximumContext) }
        _ = try datasetSpec()
    }

    /// `--dataset`, or the data file given as `--data FILE`.
    func datasetSpec() throws -> String? {
        if case .file(let file) = data {
            guard dataset == nil else { throw ValidationError("--data \(file) and --dataset \(dataset!) name two datasets: give one") }
            return file
        }
        return dataset
    }

    func sets() -> [EvaluationSet] { data.sets }

    /// The library's description of the data.
    func evaluationData() throws -> EvaluationData {
        EvaluationData(dataset: try datasetSpec(), sets: sets(), normalize: normalize, refitNormalization: refitNormalization,
                       subset: subset, subsetSeed: subsetSeed, batchSize: batchSize, spread: spread, context: context)
    }

    /// A model given as a path (`.onnx` files are ONNX models), with `--model`'s architecture.
    func source(_ path: String) -> ModelSource {
        ModelSource(path: path, architecture: model)
    }

    /// `--checkpoint C` or `--onnx M`, with `--model`'s architecture.
    func source(checkpoint: String?, onnx: String?) throws -> ModelSource {
        try ModelSource(checkpoint: checkpoint, onnx: onnx, architecture: model)
    }

    /// Loads a model and its data for the commands that measure a network (Hessians, sharpness).
    func network(_ source: ModelSource) throws -> (objective: ModelObjective<Float>, description: String) {
        let loaded = try source.load(on: try evaluationData(), progress: .standard())
        guard let network = loaded.network else { throw ValidationError("a network is needed") }
        return (network, loaded.dataDescription)
    }
}

/// The random directions of `terrain surface` and `terrain evolve`: seeded Gaussian directions,
/// each normalized against the weights it perturbs (`RandomDirections`).
struct RandomDirectionOptions: ParsableArguments {
    @Option(help: "Normalization of the x direction: filter, layer, weight, dfilter, dlayer, none.") var xnorm: DirectionNormalization = .filter
    @Option(help: "Normalization of the y direction.") var ynorm: DirectionNormalization = .filter
    @Option(help: "biasbn: zero direction on biases and batch-norm tensors; none: move them too.") var xignore: OneDimensionalTensors = .leftOut
    @Option(help: "The same for the y direction.") var yignore: OneDimensionalTensors = .leftOut
    @Option(help: "weights (trainable) or states (also BN running statistics).") var dirType: TensorSet = .weights
    @Option(help: "Seed of the random directions (x: seed, y: seed + 1).") var seed: UInt64 = 123
    @Flag(help: "Make the y direction orthogonal to the x direction.") var orthogonalize = false

    var directions: RandomDirections {
        RandomDirections(xNormalization: xnorm, yNormalization: ynorm, xIgnore: xignore, yIgnore: yignore, type: dirType,
                         seed: seed, orthogonalize: orthogonalize)
    }
}

/// The plane of a run's top two principal components (`terrain trajectory`, `terrain evolve
/// --mode fixed-pca`) and the grid that covers the run's path on it.
struct PCAPlaneOptions: ParsableArguments {
    @Option(help: "biasbn: leave biases and BN parameters out of the PCA; none: include them.") var ignore: OneDimensionalTensors = .leftOut
    @Option(help: "Grid points per axis of the grid covering the path (trajectory: 0 for the path alone).") var steps: Int = 21
    @Option(help: "Margin around the path, as a fraction of its extent.") var margin: Double = 0.15
}

extension ThreadUse: ExpressibleByArgument {}
extension DirectionNormalization: ExpressibleByArgument {}
extension TensorSet: ExpressibleByArgument {}

/// `biasbn` or `none`, in any case (`BiasBN`); an empty value is `none`, as it always was.
extension OneDimensionalTensors: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument.lowercased() {
        case "biasbn": self = .leftOut
        case "none", "": self = .included
        default: return nil
        }
    }
}

/// `--data`: the sets evaluated (train, test or train,test), or a data file (NPZ with x and y,
/// or anything `--dataset` takes) evaluated as the train set. A value that names no sets and
/// looks like a path (a `/` or a `.`, or an existing file) is a file; anything else must be sets,
/// so a typo in a set name is said as such.
enum DataSpec: ExpressibleByArgument, Equatable {
    case sets([EvaluationSet])
    case file(String)

    init?(argument: String) {
        let parts = argument.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let sets = parts.compactMap(EvaluationSet.init(rawValue:))
        if !parts.isEmpty, sets.count == parts.count {
            guard Set(sets).count == sets.count else { return nil }
            self = .sets(sets)
            return
        }
        let looksLikePath = argument.contains("/") || argument.contains(".")
            || FileManager.default.fileExists(atPath: NSString(string: argument).expandingTildeInPath)
        guard looksLikePath else { return nil }
        self = .file(argument)
    }

    var defaultValueDescription: String {
        switch self {
        case .sets(let sets): sets.map(\.rawValue).joined(separator: ",")
        case .file(let file): file
        }
    }

    /// The sets evaluated: a file is the train set.
    var sets: [EvaluationSet] {
        switch self {
        case .sets(let sets): sets
        case .file: [.train]
        }
    }
}

/// `--quiet`, shared by every command that computes.
struct ProgressOptions: ParsableArguments {
    @Flag(help: "No progress bar, no progress notes on standard error.") var quiet = false

    var progress: RequestProgress { .standard(quiet: quiet) }
}

/// `--overwrite`, shared by the commands whose output resumes.
struct OverwriteOptions: ParsableArguments {
    @Flag(help: "Replace an existing output of a different request.") var overwrite = false
}

/// `--checkpoint` or `--onnx`: the model at the centre of a surface or of a Hessian.
struct ModelOptions: ParsableArguments {
    @Option(help: "The checkpoint (.safetensors; a PyTorch state_dict with --model ARCH).") var checkpoint: String?
    @Option(help: "An ONNX model instead (exported by torch.onnx.export); its data: --data FILE.npz.") var onnx: String?

    func validate() throws {
        if checkpoint != nil, onnx != nil { throw ValidationError("--checkpoint and --onnx name two models: give one") }
    }

    /// Whether either was given.
    var isGiven: Bool { checkpoint != nil || onnx != nil }

    /// The model, with `--model`'s architecture for a state_dict.
    func source(_ evaluation: EvaluationOptions) throws -> ModelSource {
        try evaluation.source(checkpoint: checkpoint, onnx: onnx)
    }
}

extension EvaluationPrecision: ExpressibleByArgument {}

/// `--precision`: the arithmetic of the loss (surfaces, planes, interpolations, trajectories, evolve).
struct PrecisionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The loss's convolutions and matrix products: fp32, or bf16 (bfloat16 products summed in fp32, on CPUs with AVX-512 BF16 or AMX, for models on the compiled path; refused elsewhere, and by TERRAIN_DISABLE_BF16=1). Faster where AMX runs it; on AVX-512 BF16 alone it can be slower than fp32, and says so first. A bf16 run recomputes its centre and corners in fp32, stores and prints the largest loss difference and times both precisions (terrain.bf16.*). Gradients and curvature stay fp32.",
                               valueName: "fp32|bf16"))
    var precision: EvaluationPrecision = .fp32

    /// `data` computed in this precision.
    func apply(to data: EvaluationData) -> EvaluationData {
        var data = data
        data.precision = precision
        return data
    }
}

/// An option's old spelling, kept working (hidden from the help) so that users' scripts do not
/// break. `check` (from `validate()`) refuses both spellings at once and notes the new one on
/// standard error; `value` is the one given, else the default.
struct RenamedOption<Value> {
    var old: Value?
    var oldName: String
    var new: Value?
    var newName: String
    var defaultValue: Value

    func check() throws {
        guard old != nil else { return }
        guard new == nil else { throw ValidationError("\(oldName) is the old name of \(newName): give one of them") }
        FileHandle.standardError.write(Data("note: \(oldName) is now \(newName) (the old name still works)\n".utf8))
    }

    var value: Value { new ?? old ?? defaultValue }
}
