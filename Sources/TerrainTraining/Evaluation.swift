import TerrainTensor
import TerrainNN
import TerrainData

/// Loss (and accuracy, for classification) of a model on a dataset.
public struct EvaluationResult: Sendable, Equatable {
    /// Mean loss per sample.
    public var loss: Double
    /// Percentage of correct arg-max predictions; nil for regression.
    public var accuracy: Double?
    public var count: Int

    /// The result of summed per-sample losses and correct predictions over all of `data`
    /// (an empty set gives loss 0 and, for classes, accuracy 0).
    public init(lossSum: Double, correct: Int, on data: Dataset) {
        let n = Double(max(data.count, 1))
        self.init(loss: lossSum / n, accuracy: data.classCount == nil ? nil : 100 * Double(correct) / n, count: data.count)
    }

    public init(loss: Double, accuracy: Double?, count: Int) {
        self.loss = loss
        self.accuracy = accuracy
        self.count = count
    }
}

/// The loss that fits a dataset's targets: cross-entropy for classes, MSE for values.
public enum TaskLoss {
    public static func compute<T: TensorScalar>(output: Tensor<T>, targets: Targets) -> LossResult<T> {
        switch targets {
        case .classes(let labels, _):
            return Loss.crossEntropy(logits: output, labels: labels)
        case .values(let values):
            return Loss.meanSquaredError(prediction: output, target: Tensor<T>(converting: values).reshaped(output.shape))
        }
    }

    /// `compute` with the gradient's tangent R{∂L/∂output} along the output's tangent (for
    /// Hessian-vector products): cross-entropy for classes, MSE for values.
    public static func computeWithTangent<T: TensorScalar>(output: Tensor<T>, tangent: Tensor<T>?, targets: Targets)
        -> (result: LossResult<T>, gradientTangent: Tensor<T>?) {
        switch targets {
        case .classes(let labels, _):
            return Loss.crossEntropyTangent(logits: output, labels: labels, tangent: tangent)
        case .values(let values):
            return Loss.meanSquaredErrorTangent(prediction: output, target: Tensor<T>(converting: values).reshaped(output.shape),
                                                tangent: tangent)
        }
    }
}

public enum Evaluation {
    /// Evaluates in evaluation mode (running BN statistics, no dropout) without recording
    /// backward state, batch by batch; the loss is the per-sample mean over the whole set.
    /// The model's previous modes are restored afterwards.
    public static func evaluate<T: TensorScalar>(_ model: Module<T>, on data: Dataset, batchSize: Int = 256) -> EvaluationResult {
        let wasTraining = model.isTraining, wasRecording = model.isRecording
        model.setTraining(false)
        model.setRecording(false)
        defer { model.setTraining(wasTraining); model.setRecording(wasRecording) }
        var lossSum = 0.0, correct = 0
        data.forEachBatch(of: batchSize, as: T.self) { rows, inputs, targets in
            let result = TaskLoss.compute(output: model.forward(inputs), targets: targets)
            lossSum += result.loss * Double(rows.count)
            correct += result.correct
        }
        return EvaluationResult(lossSum: lossSum, correct: correct, on: data)
    }
}
