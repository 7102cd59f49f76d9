import ArgumentParser
import Foundation
import TerrainData
import TerrainModels
import TerrainNN
import TerrainONNX
import TerrainTraining
import TerrainLandscape
import TerrainTensor
import TerrainObjectives

/// What a landscape command measures: a Terrain checkpoint (safetensors, with or without Terrain's
/// metadata) or an ONNX model exported from PyTorch.
enum ModelSource: Equatable {
    case checkpoint(String)
    case onnx(String)

    /// A path given as an argument: `.onnx` files are ONNX models, anything else a checkpoint.
    init(path: String) {
        self = path.lowercased().hasSuffix(".onnx") ? .onnx(path) : .checkpoint(path)
    }

    /// `--checkpoint C` or `--onnx M`: exactly one of them.
    init(checkpoint: String?, onnx: String?) throws {
        switch (checkpoint, onnx) {
        case (let c?, nil): self.init(path: c)
        case (nil, let m?): self = .onnx(m)
        case (nil, nil): throw ValidationError("name the model: --checkpoint FILE.safetensors or --onnx FILE.onnx")
        case (_?, _?): throw ValidationError("--checkpoint and --onnx name two models: give one")
        }
    }

    var path: String {
        switch self {
        case .checkpoint(let p), .onnx(let p): p
        }
    }

    /// The attribute under which surfaces record the model (`terrain hessian-map` reads it back).
    var attributeKey: String {
        switch self {
        case .checkpoint: "terrain.checkpoint"
        case .onnx: "terrain.onnx"
        }
    }

    /// The model named by a surface file's attributes, if any.
    static func recorded(in attributes: [String: String]) -> ModelSource? {
        if let onnx = attributes["terrain.onnx"] { return .onnx(onnx) }
        return attributes["terrain.checkpoint"].map { .checkpoint($0) }
    }
}

/// `--model`'s text: a zoo architecture with options, `ARCH[,key=value…]` (keys width, hidden as
/// sizes joined by x, activation, seed), or a `ModelSpec` as JSON. The input shape and the number
/// of outputs come from the data.
struct ModelDescription {
    var spec: ModelSpec

    init(_ text: String, sampleShape: [Int], outputs: Int) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("{") {
            spec = try ModelSpec(json: trimmed)
            if spec.inputShape.isEmpty { spec.inputShape = sampleShape }
            if spec.outputs <= 0 { spec.outputs = outputs }
            return
        }
        let parts = trimmed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let architecture = parts.first, !architecture.isEmpty else {
            throw ValidationError("--model needs an architecture (see `terrain models`), e.g. mlp,hidden=64x64 or resnet20")
        }
        spec = ModelSpec(architecture: architecture, inputShape: sampleShape, outputs: outputs)
        for part in parts.dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { throw ValidationError("--model options are key=value, got '\(part)'") }
            switch pair[0] {
            case "width":
                guard let w = Double(pair[1]), w > 0 else { throw ValidationError("--model width must be a positive number, got '\(pair[1])'") }
                spec.width = w
            case "hidden":
                let sizes = pair[1].split(separator: "x").map { Int($0) }
                guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) > 0 }) else {
                    throw ValidationError("--model hidden takes sizes joined by x (e.g. hidden=64x64), got '\(pair[1])'")
                }
                spec.hiddenSizes = sizes.map { $0! }
            case "activation": spec.activation = pair[1]
            case "seed":
                guard let s = UInt64(pair[1]) else { throw ValidationError("--model seed must be a whole number, got '\(pair[1])'") }
                spec.seed = s
            default:
                throw ValidationError("unknown --model option '\(pair[0])' (width, hidden, activation, seed)")
            }
        }
    }
}

/// Loading an ONNX model and its data as an objective: the part shared by every command.
enum ONNXObjective {
    /// The model, the data (as stored unless `normalize`; an x/y file is one set, used as both
    /// the train and the test set), checked against each other before any work.
    static func make(path: String, dataset: String?, normalize: Bool, subset: Int?, subsetSeed: UInt64,
                     batchSize: Int) throws -> (objective: ModelObjective<Float>, description: String) {
        let model = try ONNXModel.read(from: URL(fileURLWithPath: path))
        guard let name = dataset else {
            throw ValidationError("an ONNX model carries no data: pass --data FILE.npz (arrays x and y) or --dataset")
        }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        var pair = try DatasetCatalog.load(name, options: DatasetOptions(normalize: normalize, testFraction: 0))
        if pair.test.count == 0 { pair.test = pair.train }
        if let subset {
            guard subset > 0 else { throw ValidationError("--subset must be positive") }
            pair = DatasetPair(train: pair.train.randomSubset(size: subset, seed: subsetSeed),
                               test: pair.test.randomSubset(size: subset, seed: subsetSeed &+ 1), normalization: pair.normalization)
        }
        guard pair.train.count > 0 else { throw ValidationError("\(name) holds no samples") }
        let graph: ONNXGraph<Float> = model.makeGraph()
        let output = try graph.outputShape(sampleShape: pair.train.sampleShape)
        try check(output: output, fits: pair.train, model: model)
        let description = "\(name) train \(pair.train.count) test \(pair.test.count)" + (normalize ? " normalized" : "")
            + (subset.map { " subset \($0) seed \(subsetSeed)" } ?? "")
        let objective = ModelObjective(model: graph, data: pair, batchSize: batchSize) { model.makeGraph() as Module<Float> }
        return (objective, description)
    }

    /// The loss needs [N, K] logits with K ≥ the classes, or as many outputs as regression targets.
    static func check(output: [Int], fits data: Dataset, model: ONNXModel) throws {
        guard let perSample = checkedElementCount(output.dropFirst()) else {
            throw ONNXError.dataMismatch(file: model.file, detail: "the output '\(model.outputName)' has shape \(output), too many values")
        }
        if case .classes(_, let count) = data.targets, output.count != 2 {
            throw ONNXError.dataMismatch(file: model.file, detail: "the output '\(model.outputName)' has shape \(output) for one sample; "
                                         + "cross-entropy over \(count) classes needs [1, K] with K ≥ \(count)")
        }
        // The input's shape was checked by the graph's own shape inference (outputShape).
        try DataFit.check(model: model.file, inputShape: nil, outputs: perSample, data: data, dataName: data.name)
    }
}
