import Foundation
import TerrainData
import TerrainNN
import TerrainONNX
import TerrainTensor
import TerrainTraining
import TerrainLandscape
import TerrainObjectives

/// Loading an ONNX model and its data as an objective: the part shared by every command.
public enum ONNXObjective {
    /// The model, the data (as stored unless `normalize`; an x/y file is one set, used as both
    /// the train and the test set), checked against each other before any work.
    /// `context`: the length of token sequences read from a text corpus (`DatasetOptions.context`).
    public static func make(path: String, dataset: String?, normalize: Bool, subset: Int?, subsetSeed: UInt64,
                     batchSize: Int, context: Int? = nil) throws -> (objective: ModelObjective<Float>, description: String) {
        let model = try ONNXModel.read(from: URL(fileURLWithPath: path))
        guard let name = dataset else {
            throw RequestError("an ONNX model carries no data: pass --data FILE.npz (arrays x and y) or --dataset")
        }
        guard batchSize > 0 else { throw RequestError("--batch-size must be positive") }
        var options = DatasetOptions(normalize: normalize, testFraction: 0)
        options.context = context
        var pair = try DatasetCatalog.load(name, options: options)
        if pair.test.count == 0 { pair.test = pair.train }
        if let subset {
            guard subset > 0 else { throw RequestError("--subset must be positive") }
            pair = DatasetPair(train: pair.train.randomSubset(size: subset, seed: subsetSeed),
                               test: pair.test.randomSubset(size: subset, seed: subsetSeed &+ 1), normalization: pair.normalization)
        }
        guard pair.train.count > 0 else { throw RequestError("\(name) holds no samples") }
        // A token model's context is its declared input length: a longer sequence is named as such.
        if pair.train.targets.isTokens {
            try DataFit.checkInput(model: model.file, inputShape: model.declaredSampleShape, data: pair.train, dataName: name)
        }
        let graph: ONNXGraph<Float> = model.makeGraph()
        let output = try graph.outputShape(sampleShape: pair.train.sampleShape)
        try check(output: output, fits: pair.train, model: model)
        // Token ids of the test set index the vocabulary too.
        if pair.test.targets.isTokens { try check(output: output, fits: pair.test, model: model) }
        let description = "\(name)" + (context.map { " context \($0)" } ?? "") + " train \(pair.train.count) test \(pair.test.count)" + (normalize ? " normalized" : "")
            + (subset.map { " subset \($0) seed \(subsetSeed)" } ?? "")
        let objective = ModelObjective(model: graph, data: pair, batchSize: batchSize) { model.makeGraph() as Module<Float> }
        return (objective, description)
    }

    /// The loss needs [N, K] logits with K ≥ the classes, as many outputs as regression targets,
    /// or [N, T, V] logits for token sequences of T tokens below V.
    public static func check(output: [Int], fits data: Dataset, model: ONNXModel) throws {
        guard let perSample = checkedElementCount(output.dropFirst()) else {
            throw ONNXError.dataMismatch(file: model.file, detail: "the output '\(model.outputName)' has shape \(output), too many values")
        }
        if case .classes(_, let count) = data.targets, output.count != 2 {
            throw ONNXError.dataMismatch(file: model.file, detail: "the output '\(model.outputName)' has shape \(output) for one sample; "
                                         + "cross-entropy over \(count) classes needs [1, K] with K ≥ \(count)")
        }
        // The input's shape was checked by the graph's own shape inference (outputShape).
        try DataFit.check(model: model.file, inputShape: nil, outputs: perSample, outputShape: Array(output.dropFirst()),
                          data: data, dataName: data.name)
    }
}
