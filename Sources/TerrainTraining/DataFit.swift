import TerrainTensor
import TerrainNN
import TerrainData
import TerrainModels

/// Whether a model can be evaluated on a dataset: the one check every command that pairs a model
/// with data makes before any work.
///
/// A model takes samples of one shape and gives a fixed number of outputs per sample; the loss
/// then needs, for class labels, at least as many outputs as classes (cross-entropy reads the
/// label's logit), and for regression targets exactly as many outputs as target values (MSE
/// compares them one to one). Data of another shape would otherwise reach a layer's
/// precondition (`Linear` checks its input width) and stop the program.
///
/// Token sequences (`Targets.tokens`) ask more: sequences no longer than the model's context
/// (its input shape `[C]`; exactly as long for a model that does not take shorter ones, such as
/// an ONNX graph exported for one length), an output of `[time, vocabulary]` per sequence
/// (`[batch, time, vocabulary]` per batch, T the data's length), and every token id, of the
/// inputs and of the targets, inside the model's vocabulary (its outputs per position).
public enum DataFit {
    /// Throws `DataFitError` when `data` cannot be fed to the model or scored by its loss.
    /// `inputShape` nil: the model checks its input itself (an ONNX graph's shape inference).
    /// `outputShape`: the model's output for one sample (without the batch), where known; token
    /// sequences need it. `acceptsShorterSequences`: `inputShape` [C] is a context, the longest
    /// token sequence the model takes (a zoo gpt, `ModelSpec.takesShorterSequences`).
    public static func check(model: String, inputShape: [Int]?, outputs: Int, outputShape: [Int]? = nil,
                             acceptsShorterSequences: Bool = false, data: Dataset, dataName: String) throws {
        try checkInput(model: model, inputShape: inputShape, acceptsShorterSequences: acceptsShorterSequences, data: data, dataName: dataName)
        switch data.targets {
        case .classes(_, let count):
            guard count <= outputs else {
                throw DataFitError(model: model, dataName: dataName,
                                   detail: "the model has \(outputs) outputs, the data \(count) classes (cross-entropy needs an output per class)")
            }
        case .values:
            guard data.outputCount == outputs else {
                throw DataFitError(model: model, dataName: dataName,
                                   detail: "the model has \(outputs) outputs, the data \(data.outputCount) regression targets per sample")
            }
        case .tokens(_, let length, _):
            guard let outputShape, outputShape.count == 2, outputShape[0] == length, outputShape[1] >= 1 else {
                let shape = outputShape.map { "[batch] + \($0)" } ?? "unknown"
                throw DataFitError(model: model, dataName: dataName,
                                   detail: "the model's output is shaped \(shape); next-token targets need [batch, time, vocabulary] = [batch, \(length), V] (logits for every position)")
            }
            let vocabulary = outputShape[1]
            if let largest = largestToken(in: data), largest.id >= vocabulary {
                throw DataFitError(model: model, dataName: dataName,
                                   detail: "token id \(largest.id) (\(largest.place)) is outside the model's vocabulary of \(vocabulary) (ids 0..<\(vocabulary))")
            }
        }
    }

    /// Throws `DataFitError` when `data`'s samples are not shaped as the model's input (nil:
    /// unknown, nothing to check); for token sequences the message names the model's context and
    /// the data's sequence length. With `acceptsShorterSequences`, token sequences of any length
    /// T ≤ C fit a model of context C (`inputShape` [C]).
    public static func checkInput(model: String, inputShape: [Int]?, acceptsShorterSequences: Bool = false,
                                  data: Dataset, dataName: String) throws {
        let sample = data.sampleShape
        guard let inputShape, !inputFits(inputShape, data, acceptsShorterSequences: acceptsShorterSequences) else { return }
        if case .tokens(_, let length, _) = data.targets, inputShape.count == 1 {
            let context = inputShape[0]
            throw DataFitError(model: model, dataName: dataName,
                               detail: length > context
                                ? "the data's sequences hold \(length) tokens, longer than the model's context of \(context) tokens (give --context \(context))"
                                : "the model takes sequences of \(context) tokens, the data's hold \(length) (give --context \(context))")
        }
        throw DataFitError(model: model, dataName: dataName,
                           detail: "the model takes samples shaped \(inputShape), the data's samples are shaped \(sample)")
    }

    /// Whether samples of `data` are what a model of input shape `inputShape` takes: the same
    /// shape, or (`acceptsShorterSequences`) token sequences [T] with T ≤ C for `inputShape` [C].
    static func inputFits(_ inputShape: [Int], _ data: Dataset, acceptsShorterSequences: Bool) -> Bool {
        let sample = data.sampleShape
        if inputShape == sample { return true }
        guard acceptsShorterSequences, data.targets.isTokens, inputShape.count == 1, sample.count == 1 else { return false }
        return sample[0] <= inputShape[0]
    }

    /// `check` for a zoo model described by `spec`, on both sets of a pair. For token sequences
    /// the model is built and run on one sequence of zeros of the data's length to learn its
    /// output's shape (once per length).
    public static func check(_ spec: ModelSpec, model: String, fits pair: DatasetPair, dataName: String) throws {
        let shorter = spec.takesShorterSequences
        var outputShapes: [[Int]: [Int]] = [:]
        for set in [pair.train, pair.test] where set.count > 0 {
            // A gpt scores every position: one class label or value per sample cannot be its
            // targets (the loss would meet logits [N, T, V]).
            if spec.architecture.lowercased() == "gpt", !set.targets.isTokens {
                let has = set.targets.classCount != nil ? "one class label per sample" : "regression values"
                throw DataFitError(model: model, dataName: dataName,
                                   detail: "gpt predicts the next token at every position and needs token-sequence targets (a text file with --context, token NPZ, or fortunes); the data has \(has)")
            }
            // Every input id a whole number inside the vocabulary: the embedding's lookup would
            // otherwise meet it.
            do { try spec.checkTokenIDs(set.inputs) } catch {
                throw DataFitError(model: model, dataName: dataName, detail: "\(error)")
            }
            if set.targets.isTokens, outputShapes[set.sampleShape] == nil,
               inputFits(spec.inputShape, set, acceptsShorterSequences: shorter) {
                outputShapes[set.sampleShape] = try sampleOutputShape(of: spec, sampleShape: set.sampleShape)
            }
            try check(model: model, inputShape: spec.inputShape, outputs: spec.outputs, outputShape: outputShapes[set.sampleShape],
                      acceptsShorterSequences: shorter, data: set, dataName: dataName)
        }
    }

    /// The shape of the output of `spec`'s model for one sample of zeros shaped `sampleShape`
    /// (without the batch).
    static func sampleOutputShape(of spec: ModelSpec, sampleShape: [Int]) throws -> [Int] {
        let probe: Module<Float> = try spec.build()
        probe.setTraining(false)
        probe.setRecording(false)
        return Array(probe.forward(Tensor<Float>(zeros: [1] + sampleShape)).shape.dropFirst())
    }

    /// The largest token id of a set's inputs and targets, and where it is.
    static func largestToken(in data: Dataset) -> (id: Int, place: String)? {
        guard case .tokens(let ids, let length, _) = data.targets, length > 0 else { return nil }
        var best: (id: Int, place: String)?
        if let k = ids.indices.max(by: { ids[$0] < ids[$1] }) {
            best = (Int(ids[k]), "the target at sequence \(k / length), position \(k % length)")
        }
        let inputs = data.inputs.scalars
        if let k = inputs.indices.max(by: { inputs[$0] < inputs[$1] }), Int(inputs[k]) > best?.id ?? -1 {
            best = (Int(inputs[k]), "the input at sequence \(k / length), position \(k % length)")
        }
        return best
    }
}

/// A model and a dataset that do not fit each other, with both shapes.
public struct DataFitError: Error, CustomStringConvertible {
    public var model: String
    public var dataName: String
    public var detail: String

    public var description: String { "\(model) does not fit the data \(dataName): \(detail)" }
}
