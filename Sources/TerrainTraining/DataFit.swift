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
public enum DataFit {
    /// Throws `DataFitError` when `data` cannot be fed to the model or scored by its loss.
    /// `inputShape` nil: the model checks its input itself (an ONNX graph's shape inference).
    public static func check(model: String, inputShape: [Int]?, outputs: Int, data: Dataset, dataName: String) throws {
        let sample = data.sampleShape
        if let inputShape, inputShape != sample {
            throw DataFitError(model: model, dataName: dataName,
                               detail: "the model takes samples shaped \(inputShape), the data's samples are shaped \(sample)")
        }
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
        }
    }

    /// `check` for a zoo model described by `spec`, on both sets of a pair.
    public static func check(_ spec: ModelSpec, model: String, fits pair: DatasetPair, dataName: String) throws {
        for set in [pair.train, pair.test] where set.count > 0 {
            try check(model: model, inputShape: spec.inputShape, outputs: spec.outputs, data: set, dataName: dataName)
            // A gpt scores every position: per-sample class labels or values cannot be its targets
            // (the loss would meet logits [N, T, V]).
            if spec.architecture.lowercased() == "gpt", case .classes = set.targets {
                throw DataFitError(model: model, dataName: dataName,
                                   detail: "gpt predicts the next token at every position and needs token-sequence targets, the data has one class label per sample")
            }
            if spec.architecture.lowercased() == "gpt", case .values = set.targets {
                throw DataFitError(model: model, dataName: dataName,
                                   detail: "gpt predicts the next token at every position and needs token-sequence targets, the data has regression values")
            }
            do {
                try spec.checkTokenIDs(set.inputs)
            } catch {
                throw DataFitError(model: model, dataName: dataName, detail: "\(error)")
            }
        }
    }
}

/// A model and a dataset that do not fit each other, with both shapes.
public struct DataFitError: Error, CustomStringConvertible {
    public var model: String
    public var dataName: String
    public var detail: String

    public var description: String { "\(model) does not fit the data \(dataName): \(detail)" }
}
