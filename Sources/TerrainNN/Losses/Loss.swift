import TerrainTensor

/// The training objectives. Both return the mean over the batch and its gradient.
public enum LossFunction: String, Sendable, Codable, CaseIterable {
    /// Softmax cross-entropy of logits [N, K] against class labels.
    case crossEntropy = "cross-entropy"
    /// Mean squared error of predictions against targets of the same shape.
    case meanSquaredError = "mse"
}

public enum Loss {
    public static func crossEntropy<T: TensorScalar>(logits: Tensor<T>, labels: [Int32]) -> LossResult<T> {
        Backends.current.softmaxCrossEntropy(logits: logits, labels: labels)
    }

    public static func meanSquaredError<T: TensorScalar>(prediction: Tensor<T>, target: Tensor<T>) -> LossResult<T> {
        Backends.current.meanSquaredError(prediction: prediction, target: target)
    }
}
