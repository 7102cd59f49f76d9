import TerrainTensor

/// Losses with the directional derivative of their gradient, for Hessian-vector products: given
/// the prediction's tangent ẏ (R{y}), each returns the loss result (mean loss, g = ∂L/∂y) and
/// ġ = R{∂L/∂y}, the seed of `Module.backwardTangent`. A nil ẏ gives a nil (zero) ġ.
extension Loss {
    /// Mean softmax cross-entropy over N rows of logits z, p = softmax(z):
    /// g = (p − onehot)/N and ġ = (p ⊙ ż − p·(pᵀż))/N per row, i.e. (diag(p) − ppᵀ)·ż / N.
    public static func crossEntropyTangent<T: TensorScalar>(logits: Tensor<T>, labels: [Int32], tangent: Tensor<T>?)
        -> (result: LossResult<T>, gradientTangent: Tensor<T>?) {
        let result = crossEntropy(logits: logits, labels: labels)
        return (result, tangent.map { Backends.current.softmaxCrossEntropyTangent(logits: logits, tangent: $0) })
    }

    /// Mean squared error over all M elements: g = 2(ŷ − t)/M and ġ = 2ẏ/M.
    public static func meanSquaredErrorTangent<T: TensorScalar>(prediction: Tensor<T>, target: Tensor<T>, tangent: Tensor<T>?)
        -> (result: LossResult<T>, gradientTangent: Tensor<T>?) {
        let result = meanSquaredError(prediction: prediction, target: target)
        guard var gDot = tangent else { return (result, nil) }
        precondition(gDot.shape == prediction.shape, "MSE tangent \(gDot.shape) for a prediction of shape \(prediction.shape)")
        Backends.current.scale(&gDot, by: T(2 / Double(max(prediction.count, 1))))
        return (result, gDot)
    }
}
