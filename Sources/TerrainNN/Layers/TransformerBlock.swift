import TerrainTensor

/// A pre-LayerNorm transformer block (GPT-2, ViT):
///
///     h = x + attn(ln_1(x))
///     y = h + mlp(ln_2(h))
///
/// on sequences [B, T, E], with `MultiHeadSelfAttention` (causal in a decoder, bidirectional in
/// an encoder) and a GELU `FeedForward` of hidden width 4E. Parameters are named as a PyTorch
/// twin with attributes `ln_1` (`nn.LayerNorm`), `attn` (`nn.MultiheadAttention`, batch_first),
/// `ln_2` and `mlp` (`fc1`, `gelu`, `fc2`) names them: `ln_1.weight`, `attn.in_proj_weight`,
/// `attn.out_proj.weight`, `mlp.fc1.weight`, ….
///
/// Each residual branch is a sum, so its passes add the branch's to the identity's: ∂L/∂h =
/// g + ln_2ᵀ(mlpᵀ(g)), ∂L/∂x = ∂L/∂h + ln_1ᵀ(attnᵀ(∂L/∂h)), and likewise for tangents
/// (ḣ = ẋ + attn′·ln_1′·ẋ + …) and their backward passes; the second-order terms are the
/// layers' own.
public final class TransformerBlock<Scalar: TensorScalar>: Module<Scalar> {
    public let ln1: LayerNorm<Scalar>
    public let attention: MultiHeadSelfAttention<Scalar>
    public let ln2: LayerNorm<Scalar>
    public let mlp: FeedForward<Scalar>

    public init(features: Int, heads: Int, mask: AttentionMask, generator: inout SeededGenerator) {
        ln1 = LayerNorm(features)
        attention = MultiHeadSelfAttention(embedding: features, heads: heads, mask: mask, generator: &generator)
        ln2 = LayerNorm(features)
        mlp = FeedForward(features: features, hidden: 4 * features, generator: &generator)
    }

    override public var children: [(name: String, module: Module<Scalar>)] {
        [("ln_1", ln1), ("attn", attention), ("ln_2", ln2), ("mlp", mlp)]
    }

    override public func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let backend = Backends.current
        let h = backend.add(x, attention.forward(ln1.forward(x)))
        return backend.add(h, mlp.forward(ln2.forward(h)))
    }

    override public func backward(_ g: Tensor<Scalar>) -> Tensor<Scalar> {
        let backend = Backends.current
        let gh = backend.add(g, ln2.backward(mlp.backward(g)))
        return backend.add(gh, ln1.backward(attention.backward(gh)))
    }

    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        let backend = Backends.current
        let normed1 = ln1.forwardTangent(x, xDot)
        let attended = attention.forwardTangent(normed1.y, normed1.yDot)
        let h = backend.add(x, attended.y), hDot = addTangents(xDot, attended.yDot)
        let normed2 = ln2.forwardTangent(h, hDot)
        let transformed = mlp.forwardTangent(normed2.y, normed2.yDot)
        return (backend.add(h, transformed.y), addTangents(hDot, transformed.yDot))
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        let backend = Backends.current
        let throughMLP = mlp.backwardTangent(g, gDot)
        let throughLN2 = ln2.backwardTangent(throughMLP.gx, throughMLP.gxDot)
        let gh = backend.add(g, throughLN2.gx), ghDot = addTangents(gDot, throughLN2.gxDot)
        let throughAttention = attention.backwardTangent(gh, ghDot)
        let throughLN1 = ln1.backwardTangent(throughAttention.gx, throughAttention.gxDot)
        return (backend.add(gh, throughLN1.gx), addTangents(ghDot, throughLN1.gxDot))
    }
}
