import TerrainTensor

/// A table of learned vectors looked up by index (PyTorch's `nn.Embedding(V, E)`): token ids
/// [B, T] (exact integers held as scalars, as a token data set stores them) give
/// y[b, t, :] = W[ids[b, t], :], shaped [B, T, E]. Any input shape works: [..., ] → [..., E].
///
/// The weight W is [V, E], named `weight` with role `.weight`: each row is one token's vector,
/// and filter normalization treats each row as a filter. Initialized N(0, 1), as PyTorch does.
///
/// The output is linear in W and piecewise constant in the ids, so: backward ∂L/∂W[v] = Σ over
/// positions holding v of g (a scatter-add), and ∂L/∂ids = 0 (returned as zeros); tangents
/// ẏ = V[ids] for the weight tangent V = Ẇ (an id has no tangent), R{∂L/∂W} = scatter-add of ġ,
/// and no second-order term (the layer is linear in its only parameter).
///
/// Ids outside 0..<V are refused before any work by the caller's checks of the data set against
/// the model; reaching this layer with one is a programming error (a precondition).
public final class Embedding<Scalar: TensorScalar>: Module<Scalar> {
    public let weight: Parameter<Scalar>
    private var indices: Tensor<Scalar>?

    public init(_ vocabulary: Int, _ features: Int, generator: inout SeededGenerator) {
        weight = Parameter("weight", role: .weight,
                           value: .randomNormal(shape: [vocabulary, features], generator: &generator))
    }

    /// V, the number of rows (token ids 0..<V).
    public var vocabulary: Int { weight.shape[0] }
    /// E, the length of each vector.
    public var features: Int { weight.shape[1] }

    override public var localParameters: [Parameter<Scalar>] { [weight] }

    override public func forward(_ ids: Tensor<Scalar>) -> Tensor<Scalar> {
        if isRecording { indices = ids }
        return Backends.current.gatherRows(weight.value, indices: ids)
    }

    override public func backward(_ gy: Tensor<Scalar>) -> Tensor<Scalar> {
        guard let ids = indices else { fatalError("Embedding.backward without a recorded forward pass") }
        if computesParameterGradients {
            weight.accumulateGradient(Backends.current.scatterAddRows(gy, indices: ids, rows: vocabulary))
        }
        return Tensor(zeros: ids.shape)
    }

    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        requireRecordingForTangents()
        return (forward(x), weight.tangent.map { Backends.current.gatherRows($0, indices: x) })
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        guard let ids = indices else { fatalError("Embedding.backwardTangent without a recorded forwardTangent") }
        let gx = backward(g)
        if let gDot { weight.accumulateCurvature(Backends.current.scatterAddRows(gDot, indices: ids, rows: vocabulary)) }
        return (gx, nil)
    }

    override public func forgetRecordedState() { indices = nil }
}
