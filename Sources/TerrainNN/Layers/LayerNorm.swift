import TerrainTensor

/// Layer normalization over the last axis (PyTorch's `nn.LayerNorm(E)`): for each row x of E
/// features, y = γ ⊙ (x − μ)/√(σ² + ε) + β with μ and σ² the row's mean and biased variance.
///
/// γ (`weight`, role `.normWeight`, initially 1) and β (`bias`, `.normBias`, initially 0) are
/// shaped [E]; inputs are [..., E] (a sequence batch [B, T, E] normalizes each token). Unlike
/// batch normalization, the statistics belong to each sample, so training and evaluation modes
/// compute the same function and tangents are defined in both.
///
/// With x̂ = (x − μ)·r, r = 1/√(σ² + ε), and J = ∂x̂/∂x = r·(I − 11ᵀ/E − x̂x̂ᵀ/E) (symmetric):
/// backward ∂L/∂x = J·(γ ⊙ g), ∂L/∂γ = Σ g ⊙ x̂, ∂L/∂β = Σ g; tangents ẏ = γ ⊙ J·ẋ + γ̇ ⊙ x̂ + β̇,
/// R{∂L/∂x} = J·(γ̇ ⊙ g + γ ⊙ ġ) + R{J}·(γ ⊙ g), R{∂L/∂γ} = Σ (ġ ⊙ x̂ + g ⊙ J·ẋ), R{∂L/∂β} = Σ ġ
/// (sums over rows). Each pass is one fused `Backend` kernel (`layerNorm…`).
public final class LayerNorm<Scalar: TensorScalar>: Module<Scalar> {
    public let weight: Parameter<Scalar>
    public let bias: Parameter<Scalar>
    public let epsilon: Double
    private var input: Tensor<Scalar>?
    private var inputTangent: Tensor<Scalar>?
    private var statistics: LayerNormStatistics<Scalar>?

    public init(_ features: Int, epsilon: Double = 1e-5) {
        weight = Parameter("weight", role: .normWeight, value: Tensor(repeating: 1, shape: [features]))
        bias = Parameter("bias", role: .normBias, value: Tensor(zeros: [features]))
        self.epsilon = epsilon
    }

    public var features: Int { weight.shape[0] }

    override public var localParameters: [Parameter<Scalar>] { [weight, bias] }

    override public func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(x.rank >= 1 && x.shape[x.rank - 1] == features, "LayerNorm(\(features)) got input \(x.shape)")
        let (y, stats) = Backends.current.layerNorm(x, gamma: weight.value, beta: bias.value, epsilon: epsilon)
        if isRecording { input = x; statistics = stats }
        return y
    }

    override public func backward(_ gy: Tensor<Scalar>) -> Tensor<Scalar> {
        guard let x = input, let statistics else { fatalError("LayerNorm.backward without a recorded forward pass") }
        let g = Backends.current.layerNormBackward(input: x, gradient: gy, statistics: statistics, gamma: weight.value,
                                                   parameterGradients: computesParameterGradients)
        if let gamma = g.gamma { weight.accumulateGradient(gamma) }
        if let beta = g.beta { bias.accumulateGradient(beta) }
        return g.input
    }

    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        requireRecordingForTangents()
        let y = forward(x)
        inputTangent = xDot
        guard xDot != nil || weight.tangent != nil || bias.tangent != nil else { return (y, nil) }
        let yDot = Backends.current.layerNormTangent(input: x, inputTangent: xDot, statistics: statistics!, gamma: weight.value,
                                                     gammaTangent: weight.tangent, betaTangent: bias.tangent)
        return (y, yDot)
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        guard let x = input, let statistics else { fatalError("LayerNorm.backwardTangent without a recorded forwardTangent") }
        let r = Backends.current.layerNormTangentBackward(
            input: x, inputTangent: inputTangent, gradient: g, gradientTangent: gDot, statistics: statistics,
            gamma: weight.value, gammaTangent: weight.tangent, parameterGradients: computesParameterGradients)
        if let gamma = r.gamma { weight.accumulateGradient(gamma) }
        if let beta = r.beta { bias.accumulateGradient(beta) }
        if let c = r.gammaCurvature { weight.accumulateCurvature(c) }
        if let c = r.betaCurvature { bias.accumulateCurvature(c) }
        return (r.input, r.inputTangent)
    }

    override public func forgetRecordedState() { input = nil; inputTangent = nil; statistics = nil }
}
