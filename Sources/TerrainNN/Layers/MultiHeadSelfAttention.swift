import TerrainTensor

/// Which keys a query may attend to.
public enum AttentionMask: String, Sendable, Codable, CaseIterable {
    /// Position i sees positions j ≤ i only (a decoder, GPT): the scores of j > i are −∞, so their
    /// probabilities are exactly 0.
    case causal
    /// Every position sees every position (an encoder, ViT).
    case bidirectional
}

/// Multi-head self-attention over sequences x of shape [B, T, E], as PyTorch's
/// `nn.MultiheadAttention(E, H, batch_first=True)` computes `attn(x, x, x)`.
///
/// With H heads of width D = E/H, for each sequence (rows xₜ of x):
///
///     [Q K V] = x·W_inᵀ + b_in                          W_in [3E, E], b_in [3E]
///     Qₕ, Kₕ, Vₕ = columns hD..<(h+1)D of Q, K, V        [T, D] per head h
///     Sₕ = c·Qₕ·Kₕᵀ + M,  c = 1/√D                       [T, T]; M = 0, or −∞ above the diagonal (causal)
///     Pₕ = softmax(Sₕ) along the last axis (the keys)
///     Oₕ = Pₕ·Vₕ,  O = [O₁ … O_H]                         [T, E]
///     y = O·W_oᵀ + b_o                                    W_o [E, E], b_o [E]
///
/// While recording, every head of every sequence is one matrix of a `Backend.batchedMatmul` over
/// [B, H, T, ·], and one `Backend.attentionSoftmax` runs over all the scores [B, H, T, T] at once
/// (scale and mask fused; a causal one never reads the masked half). Only one batch's
/// probabilities P are kept for the backward pass (never a whole data set's). An evaluation
/// (recording off) goes through `Backend.packedSelfAttention`: each head read and written in
/// place in the packed rows, its scores one [T, T] buffer, a causal head's products cut to the
/// keys each block of queries sees.
///
/// Backward, from G = ∂L/∂y (the output projection is a `Linear`, so ∂L/∂O = G·W_o):
///
///     ∂L/∂P = ∂L/∂O·Vᵀ,  ∂L/∂V = Pᵀ·∂L/∂O,  ∂L/∂S = Jᵀ·∂L/∂P  (J = diag(p) − ppᵀ per row)
///     ∂L/∂Q = c·∂L/∂S·K,  ∂L/∂K = c·(∂L/∂S)ᵀ·Q
///     ∂L/∂W_in = (∂L/∂[Q K V])ᵀ·x,  ∂L/∂b_in = Σₜ ∂L/∂[Q K V],  ∂L/∂x = ∂L/∂[Q K V]·W_in
///
/// Tangents (Pearlmutter's R-operator, along ẋ and the parameters' tangents Ẇ_in, ḃ_in, Ẇ_o, ḃ_o).
/// The products Q·Kᵀ and P·V are bilinear, so each tangent has one term per factor, and softmax
/// has its second-order term R{Jᵀ}·∂L/∂P (`Backend.softmaxSecondOrder`):
///
///     [Q̇ K̇ V̇] = ẋ·W_inᵀ + x·Ẇ_inᵀ + ḃ_in,  Ṡ = c·(Q̇·Kᵀ + Q·K̇ᵀ),  Ṗ = J·Ṡ,  Ȯ = Ṗ·V + P·V̇
///     R{∂L/∂P} = R{∂L/∂O}·Vᵀ + ∂L/∂O·V̇ᵀ,  R{∂L/∂V} = Ṗᵀ·∂L/∂O + Pᵀ·R{∂L/∂O}
///     R{∂L/∂S} = Jᵀ·R{∂L/∂P} + R{Jᵀ}·∂L/∂P
///     R{∂L/∂Q} = c·(R{∂L/∂S}·K + ∂L/∂S·K̇),  R{∂L/∂K} = c·(R{∂L/∂S}ᵀ·Q + (∂L/∂S)ᵀ·Q̇)
///     R{∂L/∂W_in} = R{∂L/∂[Q K V]}ᵀ·x + (∂L/∂[Q K V])ᵀ·ẋ,  R{∂L/∂x} = R{∂L/∂[Q K V]}·W_in + ∂L/∂[Q K V]·Ẇ_in
///
/// A masked entry has P = 0, hence Ṗ = 0 and zero gradients, so the mask needs no other care;
/// the products skip those zeros (`CausalStructure`), and the scores above the diagonal, which
/// the softmax never reads, are not computed.
///
/// Parameters are PyTorch's: `in_proj_weight` [3E, E] and `out_proj.weight` [E, E] (role
/// `.weight`: each row is a filter), `in_proj_bias` [3E] and `out_proj.bias` [E] (role `.bias`),
/// so a `state_dict` of `nn.MultiheadAttention` loads with `strict=True`. Initialization follows
/// PyTorch too: W_in Xavier-uniform, W_o as a `Linear`'s weight, both biases 0.
public final class MultiHeadSelfAttention<Scalar: TensorScalar>: Module<Scalar> {
    public let embedding: Int
    public let heads: Int
    public let mask: AttentionMask
    /// W_in, the query, key and value projections stacked ([3E, E]).
    public let inProjectionWeight: Parameter<Scalar>
    /// b_in ([3E]).
    public let inProjectionBias: Parameter<Scalar>
    /// y = O·W_oᵀ + b_o, PyTorch's `out_proj`.
    public let outProjection: Linear<Scalar>

    /// What the backward passes need from the last forward pass, per head: [B, H, T, ·].
    private struct Recorded {
        var batch: Int, time: Int
        /// x as rows [B·T, E].
        var input: Tensor<Scalar>
        var queries: Tensor<Scalar>, keys: Tensor<Scalar>, values: Tensor<Scalar>
        /// P [B, H, T, T].
        var probabilities: Tensor<Scalar>
    }

    /// What `backwardTangent` needs from the last `forwardTangent` (nil tangents are zero).
    private struct RecordedTangents {
        var input: Tensor<Scalar>?
        var queries: Tensor<Scalar>?, keys: Tensor<Scalar>?, values: Tensor<Scalar>?
        var probabilities: Tensor<Scalar>?
    }

    private var recorded: Recorded?
    private var recordedTangents: RecordedTangents?

    /// Attention over `embedding` features split into `heads` heads (`heads` divides `embedding`).
    public init(embedding: Int, heads: Int, mask: AttentionMask, generator: inout SeededGenerator) {
        precondition(embedding > 0 && heads > 0 && embedding % heads == 0,
                     "MultiHeadSelfAttention: \(heads) heads must divide the embedding \(embedding)")
        self.embedding = embedding
        self.heads = heads
        self.mask = mask
        // Xavier-uniform over [3E, E], as PyTorch's `_reset_parameters` draws in_proj_weight.
        let bound = Scalar((6 / Double(4 * embedding)).squareRoot())
        inProjectionWeight = Parameter("in_proj_weight", role: .weight,
                                       value: .randomUniform(shape: [3 * embedding, embedding], low: -bound, high: bound,
                                                             generator: &generator))
        inProjectionBias = Parameter("in_proj_bias", role: .bias, value: Tensor(zeros: [3 * embedding]))
        outProjection = Linear(embedding, embedding, generator: &generator)
        outProjection.bias!.value = Tensor(zeros: [embedding])
    }

    /// D = E/H.
    public var headWidth: Int { embedding / heads }

    override public var localParameters: [Parameter<Scalar>] { [inProjectionWeight, inProjectionBias] }

    override public var children: [(name: String, module: Module<Scalar>)] { [("out_proj", outProjection)] }

    // MARK: Passes

    override public func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        guard isRecording else {
            // An evaluation: no backward pass follows, so nothing is split, kept or merged.
            let (batch, time, projections) = inputProjections(x)
            let o = Backends.current.packedSelfAttention(projections, batch: batch, time: time, heads: heads,
                                                          scale: scoreScale, causal: mask == .causal)
            return outProjection.forward(o).reshaped(x.shape)
        }
        let state = attend(x)
        if isRecording { recorded = state.recorded }
        return outProjection.forward(state.output).reshaped(x.shape)
    }

    override public func backward(_ gy: Tensor<Scalar>) -> Tensor<Scalar> {
        guard let r = recorded else { fatalError("MultiHeadSelfAttention.backward without a recorded forward pass") }
        let gO = separateHeads(outProjection.backward(gy.reshaped([r.batch * r.time, embedding])), batch: r.batch, time: r.time)
        let (_, gS, gV) = scoreAndValueGradients(r, outputGradient: gO)
        let projections = joinHeads(queryKeyGradients(r, scoreGradient: gS), gV)
        accumulateInProjectionGradients(projections, input: r.input)
        return inputGradient(projections, r)
    }

    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        requireRecordingForTangents()
        let backend = Backends.current
        let state = attend(x)
        let r = state.recorded
        recorded = r
        let inputDot = xDot.map { $0.reshaped([r.batch * r.time, embedding]) }
        let projectionsDot = bilinearTangent(outputShape: [r.batch * r.time, 3 * embedding], x: r.input, xDot: inputDot,
                                             weight: inProjectionWeight, bias: inProjectionBias) {
            .matrices($0, $1, transposeB: true)  // x·W_inᵀ
        }
        var qDot, kDot, vDot: Tensor<Scalar>?
        if let projectionsDot {
            let parts = splitHeads(projectionsDot, batch: r.batch, time: r.time)
            (qDot, kDot, vDot) = (parts.queries, parts.keys, parts.values)
        }
        // Ṡ = c·(Q̇·Kᵀ + Q·K̇ᵀ), Ṗ = J·Ṡ
        var sDot = sumOfProducts(qDot.map { .stacks($0, r.keys, transposeB: true) },
                                 kDot.map { .stacks(r.queries, $0, transposeB: true) })
        if sDot != nil { backend.scale(&sDot!, by: scoreScale) }
        let pDot = sDot.map { backend.softmaxJacobian(output: r.probabilities, $0, axis: 3, logarithm: false, transposed: false) }
        // Ȯ = Ṗ·V + P·V̇
        let oDot = sumOfProducts(pDot.map { .stacks($0, r.values, structure: causal(.lowerTriangularLeft)) },
                                 vDot.map { .stacks(r.probabilities, $0, structure: causal(.lowerTriangularLeft)) })
        recordedTangents = RecordedTangents(input: inputDot, queries: qDot, keys: kDot, values: vDot, probabilities: pDot)
        let (y, yDot) = outProjection.forwardTangent(state.output, oDot.map(mergeHeads))
        return (y.reshaped(x.shape), yDot?.reshaped(x.shape))
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        guard let r = recorded, let t = recordedTangents else {
            fatalError("MultiHeadSelfAttention.backwardTangent without a recorded forwardTangent")
        }
        let backend = Backends.current
        let rows = [r.batch * r.time, embedding]
        let (gORows, gORowsDot) = outProjection.backwardTangent(g.reshaped(rows), gDot?.reshaped(rows))
        let gO = separateHeads(gORows, batch: r.batch, time: r.time)
        let gODot = gORowsDot.map { separateHeads($0, batch: r.batch, time: r.time) }
        let (gP, gS, gV) = scoreAndValueGradients(r, outputGradient: gO)
        // R{∂L/∂P} = R{∂L/∂O}·Vᵀ + ∂L/∂O·V̇ᵀ
        let gPDot = sumOfProducts(gODot.map { .stacks($0, r.values, transposeB: true) },
                                  t.values.map { .stacks(gO, $0, transposeB: true) })
        // R{∂L/∂V} = Ṗᵀ·∂L/∂O + Pᵀ·R{∂L/∂O}
        let gVDot = sumOfProducts(t.probabilities.map { .stacks($0, gO, transposeA: true, structure: causal(.upperTriangularLeft)) },
                                  gODot.map { .stacks(r.probabilities, $0, transposeA: true, structure: causal(.upperTriangularLeft)) })
        // R{∂L/∂S} = c·(Jᵀ·R{∂L/∂P} + R{Jᵀ}·∂L/∂P)
        var gSDot = addTangents(
            gPDot.map { backend.softmaxJacobian(output: r.probabilities, $0, axis: 3, logarithm: false, transposed: true) },
            t.probabilities.map { backend.softmaxSecondOrder(output: r.probabilities, outputTangent: $0, gradient: gP,
                                                             axis: 3, logarithm: false) })
        if gSDot != nil { backend.scale(&gSDot!, by: scoreScale) }
        // R{∂L/∂Q} = R{c·∂L/∂S}·K + c·∂L/∂S·K̇, R{∂L/∂K} = R{c·∂L/∂S}ᵀ·Q + (c·∂L/∂S)ᵀ·Q̇
        let gQDot = sumOfProducts(gSDot.map { .stacks($0, r.keys, structure: causal(.lowerTriangularLeft)) },
                                  t.keys.map { .stacks(gS, $0, structure: causal(.lowerTriangularLeft)) })
        let gKDot = sumOfProducts(gSDot.map { .stacks($0, r.queries, transposeA: true, structure: causal(.upperTriangularLeft)) },
                                  t.queries.map { .stacks(gS, $0, transposeA: true, structure: causal(.upperTriangularLeft)) })
        let projections = joinHeads(queryKeyGradients(r, scoreGradient: gS), gV)
        var projectionsDot: Tensor<Scalar>?
        if gQDot != nil || gKDot != nil || gVDot != nil {
            let zero = Tensor<Scalar>(zeros: r.queries.shape)
            projectionsDot = joinHeads((gQDot ?? zero, gKDot ?? zero), gVDot ?? zero)
        }
        if computesParameterGradients { accumulateInProjectionGradients(projections, input: r.input) }
        // R{∂L/∂W_in} = R{∂L/∂[Q K V]}ᵀ·x + (∂L/∂[Q K V])ᵀ·ẋ,  R{∂L/∂b_in} = Σₜ R{∂L/∂[Q K V]}
        if let curvature = sumOfProducts(projectionsDot.map { .matrices($0, r.input, transposeA: true) },
                                         t.input.map { .matrices(projections, $0, transposeA: true) }) {
            inProjectionWeight.accumulateCurvature(curvature)
        }
        if let projectionsDot { inProjectionBias.accumulateCurvature(backend.sumPerFeature(projectionsDot)) }
        let gx = inputGradient(projections, r)
        let gxDot = sumOfProducts(projectionsDot.map { .matrices($0, inProjectionWeight.value) },
                                  inProjectionWeight.tangent.map { .matrices(projections, $0) })
        return (gx, gxDot?.reshaped([r.batch, r.time, embedding]))
    }

    override public func forgetRecordedState() { recorded = nil; recordedTangents = nil }

    // MARK: Pieces shared by the passes

    /// c = 1/√D.
    private var scoreScale: Scalar { 1 / Scalar(headWidth).squareRoot() }

    /// `structure` for a causal layer's products, `.general` for a bidirectional one. Under the
    /// causal mask P, Ṗ, ∂L/∂S and R{∂L/∂S} are lower triangular (exact zeros where P is), so
    /// products with them or their transposes skip the zero half of the sum.
    private func causal(_ structure: CausalStructure) -> CausalStructure { mask == .causal ? structure : .general }

    /// Everything up to the output projection: O as rows [B·T, E] and what backward needs.
    /// [Q K V] = x·W_inᵀ + b_in as rows [B·T, 3E].
    private func inputProjections(_ x: Tensor<Scalar>) -> (batch: Int, time: Int, projections: Tensor<Scalar>) {
        precondition(x.rank == 3 && x.shape[2] == embedding,
                     "MultiHeadSelfAttention(embedding \(embedding)) needs input [batch, time, \(embedding)], got \(x.shape)")
        let backend = Backends.current
        let (batch, time) = (x.shape[0], x.shape[1])
        let projections = backend.linear(x.reshaped([batch * time, embedding]), weight: inProjectionWeight.value,
                                         bias: inProjectionBias.value)
        return (batch, time, projections)
    }

    private func attend(_ x: Tensor<Scalar>) -> (output: Tensor<Scalar>, recorded: Recorded) {
        let backend = Backends.current
        let (batch, time, projections) = inputProjections(x)
        let input = x.reshaped([batch * time, embedding])
        let (q, k, v) = splitHeads(projections, batch: batch, time: time)
        // The causal softmax never reads the scores above the diagonal: they are not computed.
        let scores = backend.batchedMatmul(q, k, transposeA: false, transposeB: true, structure: causal(.lowerTriangularResult))
        let p = backend.attentionSoftmax(scores, scale: scoreScale, causal: mask == .causal)
        let o = backend.batchedMatmul(p, v, transposeA: false, transposeB: false, structure: causal(.lowerTriangularLeft))
        return (mergeHeads(o), Recorded(batch: batch, time: time, input: input, queries: q, keys: k, values: v, probabilities: p))
    }

    /// (∂L/∂Q, ∂L/∂K) = (c·∂L/∂S·K, (c·∂L/∂S)ᵀ·Q) from c·∂L/∂S [B, H, T, T].
    private func queryKeyGradients(_ r: Recorded, scoreGradient gS: Tensor<Scalar>) -> (Tensor<Scalar>, Tensor<Scalar>) {
        let backend = Backends.current
        return (backend.batchedMatmul(gS, r.keys, transposeA: false, transposeB: false, structure: causal(.lowerTriangularLeft)),
                backend.batchedMatmul(gS, r.queries, transposeA: true, transposeB: false, structure: causal(.upperTriangularLeft)))
    }

    /// (∂L/∂P, c·∂L/∂S, ∂L/∂V) from ∂L/∂O [B, H, T, D]: ∂L/∂P = ∂L/∂O·Vᵀ, ∂L/∂S = Jᵀ·∂L/∂P,
    /// ∂L/∂V = Pᵀ·∂L/∂O. The scale c is folded into ∂L/∂S so that ∂L/∂Q and ∂L/∂K are plain products.
    private func scoreAndValueGradients(_ r: Recorded, outputGradient gO: Tensor<Scalar>)
        -> (probabilities: Tensor<Scalar>, scores: Tensor<Scalar>, values: Tensor<Scalar>) {
        let backend = Backends.current
        let gP = backend.batchedMatmul(gO, r.values, transposeA: false, transposeB: true)
        var gS = backend.softmaxJacobian(output: r.probabilities, gP, axis: 3, logarithm: false, transposed: true)
        backend.scale(&gS, by: scoreScale)
        return (gP, gS, backend.batchedMatmul(r.probabilities, gO, transposeA: true, transposeB: false,
                                              structure: causal(.upperTriangularLeft)))
    }

    /// ∂L/∂W_in += (∂L/∂[Q K V])ᵀ·x, ∂L/∂b_in += Σₜ ∂L/∂[Q K V].
    private func accumulateInProjectionGradients(_ projections: Tensor<Scalar>, input: Tensor<Scalar>) {
        let backend = Backends.current
        inProjectionWeight.accumulateGradient(backend.matmul(projections, input, transposeA: true, transposeB: false))
        inProjectionBias.accumulateGradient(backend.sumPerFeature(projections))
    }

    /// ∂L/∂x = ∂L/∂[Q K V]·W_in, shaped [B, T, E].
    private func inputGradient(_ projections: Tensor<Scalar>, _ r: Recorded) -> Tensor<Scalar> {
        Backends.current.matmul(projections, inProjectionWeight.value, transposeA: false, transposeB: false)
            .reshaped([r.batch, r.time, embedding])
    }

    // MARK: Head layout

    /// [Q K V] rows [B·T, 3E] (viewed as [B, T, 3, H, D]) → Q, K, V each [B, H, T, D].
    private func splitHeads(_ projections: Tensor<Scalar>, batch: Int, time: Int)
        -> (queries: Tensor<Scalar>, keys: Tensor<Scalar>, values: Tensor<Scalar>) {
        let backend = Backends.current
        let stacked = backend.transpose(projections.reshaped([batch, time, 3, heads, headWidth]), permutation: [2, 0, 3, 1, 4])
        let parts = backend.split(stacked, axis: 0, sizes: [1, 1, 1]).map { $0.reshaped([batch, heads, time, headWidth]) }
        return (parts[0], parts[1], parts[2])
    }

    /// The adjoint of `splitHeads`: (Q, K), V [B, H, T, D] → rows [B·T, 3E].
    private func joinHeads(_ queryKey: (Tensor<Scalar>, Tensor<Scalar>), _ v: Tensor<Scalar>) -> Tensor<Scalar> {
        let backend = Backends.current
        let (q, k) = queryKey
        let (batch, time) = (q.shape[0], q.shape[2])
        let stacked = backend.concatenate([q, k, v].map { $0.reshaped([1] + $0.shape) }, axis: 0)
        return backend.transpose(stacked, permutation: [1, 3, 0, 2, 4]).reshaped([batch * time, 3 * embedding])
    }

    /// O [B, H, T, D] → rows [B·T, E] (heads side by side in each row).
    private func mergeHeads(_ o: Tensor<Scalar>) -> Tensor<Scalar> {
        let (batch, time) = (o.shape[0], o.shape[2])
        return Backends.current.transpose(o, permutation: [0, 2, 1, 3]).reshaped([batch * time, embedding])
    }

    /// The adjoint of `mergeHeads`: rows [B·T, E] → [B, H, T, D].
    private func separateHeads(_ rows: Tensor<Scalar>, batch: Int, time: Int) -> Tensor<Scalar> {
        Backends.current.transpose(rows.reshaped([batch, time, heads, headWidth]), permutation: [0, 2, 1, 3])
    }
}
