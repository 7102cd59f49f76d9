import TerrainTensor

/// A learned position embedding added to a sequence batch: y[b, t, :] = x[b, t, :] + P[t, :] for
/// x of shape [B, T, E] and P of shape [T_max, E] (T ≤ T_max, the context length).
///
/// P is named `weight` (role `.weight`, one row per position, a filter of its own under filter
/// normalization), as PyTorch's `nn.Embedding(T_max, E)` names it: a PyTorch twin adds
/// `wpe(torch.arange(T))`, as GPT-2 does. Initialized N(0, 1) like `nn.Embedding`.
///
/// The layer is affine: ∂L/∂x = g, ∂L/∂P[t] = Σ_b g[b, t] (rows t ≥ T get zero); tangents
/// ẏ = ẋ + V[t] (V = Ṗ), R{∂L/∂x} = ġ, R{∂L/∂P[t]} = Σ_b ġ[b, t], no second-order term.
public final class PositionEmbedding<Scalar: TensorScalar>: Module<Scalar> {
    public let weight: Parameter<Scalar>
    private var inputShape: [Int] = []

    public init(context: Int, features: Int, generator: inout SeededGenerator) {
        weight = Parameter("weight", role: .weight, value: .randomNormal(shape: [context, features], generator: &generator))
    }

    /// T_max, the longest sequence the layer accepts.
    public var context: Int { weight.shape[0] }
    public var features: Int { weight.shape[1] }

    override public var localParameters: [Parameter<Scalar>] { [weight] }

    /// The first `length` rows of a [T_max, E] table.
    private func leadingRows(_ table: Tensor<Scalar>, _ length: Int) -> Tensor<Scalar> {
        length == context ? table : Backends.current.split(table, axis: 0, sizes: [length, context - length])[0]
    }

    /// A [T, E] gradient as a [T_max, E] one, zero beyond row T.
    private func padded(_ rows: Tensor<Scalar>) -> Tensor<Scalar> {
        let length = rows.shape[0]
        return length == context ? rows
            : Backends.current.concatenate([rows, Tensor(zeros: [context - length, features])], axis: 0)
    }

    override public func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(x.rank == 3 && x.shape[1] <= context && x.shape[2] == features,
                     "PositionEmbedding(\(context)×\(features)) expects [B, T ≤ \(context), \(features)], got \(x.shape)")
        inputShape = x.shape
        return Backends.current.broadcast(.add, x, leadingRows(weight.value, x.shape[1]))
    }

    /// Σ_b g[b, t], padded to [T_max, E].
    private func tableGradient(_ g: Tensor<Scalar>) -> Tensor<Scalar> {
        padded(Backends.current.sum(g, toShape: [inputShape[1], features]))
    }

    override public func backward(_ gy: Tensor<Scalar>) -> Tensor<Scalar> {
        if computesParameterGradients { weight.accumulateGradient(tableGradient(gy)) }
        return gy
    }

    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        let y = forward(x)
        guard let v = weight.tangent else { return (y, xDot) }
        return (y, Backends.current.broadcast(.add, xDot ?? Tensor(zeros: x.shape), leadingRows(v, x.shape[1])))
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        let gx = backward(g)
        if let gDot { weight.accumulateCurvature(tableGradient(gDot)) }
        return (gx, gDot)
    }
}
