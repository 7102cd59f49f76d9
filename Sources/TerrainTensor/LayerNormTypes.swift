/// The per-row constants of a layer normalization, kept by its forward pass for the backward
/// and tangent passes: the mean μ and r = 1/√(σ² + ε) of each row (the tensor's elements taken
/// `width` at a time), each shaped [rows].
public struct LayerNormStatistics<T: TensorScalar> {
    public var mean: Tensor<T>
    public var invStd: Tensor<T>
    public init(mean: Tensor<T>, invStd: Tensor<T>) {
        self.mean = mean; self.invStd = invStd
    }
}

/// What `Backend.layerNormBackward` returns: ∂L/∂x, and ∂L/∂γ, ∂L/∂β when asked for.
public struct LayerNormGradients<T: TensorScalar> {
    public var input: Tensor<T>
    public var gamma: Tensor<T>?
    public var beta: Tensor<T>?
    public init(input: Tensor<T>, gamma: Tensor<T>?, beta: Tensor<T>?) {
        self.input = input; self.gamma = gamma; self.beta = beta
    }
}

/// What `Backend.layerNormTangentBackward` returns: ∂L/∂x and its tangent R{∂L/∂x} (nil when
/// ẋ, ġ and γ̇ all vanish), the parameter gradients when asked for, and the parameters'
/// curvatures R{∂L/∂γ} (nil when ġ and ẋ vanish) and R{∂L/∂β} (nil when ġ does).
public struct LayerNormTangentGradients<T: TensorScalar> {
    public var input: Tensor<T>
    public var inputTangent: Tensor<T>?
    public var gamma: Tensor<T>?
    public var beta: Tensor<T>?
    public var gammaCurvature: Tensor<T>?
    public var betaCurvature: Tensor<T>?
}
