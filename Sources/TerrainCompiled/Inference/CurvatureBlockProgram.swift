import TerrainTensor

/// A `CurvatureProgram` for a block of K tangents at once: the Hessian-vector products H·v₁ …
/// H·v_K of one chunk of samples, with the passes that depend on θ alone run once for the block.
///
/// In a product's R-operator pass, the values x of every layer, the pre-activation outputs y and
/// the loss gradients g (forward pass, loss, backward-data pass) depend on θ and the data only;
/// the tangents ẋ, ẏ and ġ and the products depend on v. A block program splits a chunk's run
/// into a **value pass** (those θ-only results, kept in a `CurvatureChunkState`) and a **tangent
/// pass** that reads them and carries the K tangents, stacked along the batch dimension wherever
/// one kernel serves them all (W ⊛ [ẋ₁ … ẋ_K] and Wᵀ ⊛ [ġ₁ … ġ_K] are one convolution each of
/// K·n samples; the terms with V_k, the probes' weight tangents, are one per probe). A state
/// kept across runs at one θ (`CompiledCurvature`'s cache) lets later products skip the value
/// pass altogether.
///
/// Each probe's products have `CurvatureProgram`'s layout (R{∂L/∂W}, then S₁, S₂, S₃ per
/// slot). They equal a `CurvatureProgram`'s to Float rounding (its kernels pair each value with
/// its tangent); a probe's products are the same bits whether its chunk's state was computed in
/// this run or kept from an earlier one.
public protocol CurvatureBlockProgram: AnyObject {
    var graph: InferenceGraph { get }
    /// Samples per run.
    var batchSize: Int { get }
    /// K, the tangents per run.
    var probes: Int { get }
    /// Floats of one probe's products (as `CurvatureProgram.productCount`).
    var productCount: Int { get }
    func productOffset(_ slot: Int) -> Int
    /// Bytes one chunk's `CurvatureChunkState` holds.
    var stateByteCount: Int { get }
    /// Storage for one chunk's θ-only results (any block program of the same graph and batch
    /// size reads it).
    func makeState() -> CurvatureChunkState
    /// Slot `slot`'s weights W, each probe's tangent V_k (`tangents`, K of them, W's layout) and
    /// the epilogue coefficients: A and C (θ only), Ȧ_k and Ċ_k per probe. Not during a run.
    func setSlot(_ slot: Int, weight: UnsafeBufferPointer<Float>, tangents: [UnsafeBufferPointer<Float>],
                 scale: [Float], shift: [Float], scaleTangents: [[Float]], shiftTangents: [[Float]])
    /// One chunk (input NCHW, contiguous). When `fresh`, first the value pass into `state`, with
    /// `valueLoss(output, gradient)` writing ∂L/∂output ([batchSize, F]); then the tangent pass,
    /// with `tangentLoss(k, output, outputTangent, gradientTangent)` writing R{∂L/∂output} for
    /// probe k. `products` receives K × `productCount` floats, probe by probe. Runs with different
    /// states may happen on several threads at once.
    func run(input: UnsafePointer<Float>, state: CurvatureChunkState, fresh: Bool,
             valueLoss: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void,
             tangentLoss: (Int, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void,
             products: UnsafeMutablePointer<Float>)
}

/// The θ-only results of one chunk (see `CurvatureBlockProgram`), and what the caller kept
/// beside them (the chunk's loss sum and correct predictions).
public protocol CurvatureChunkState: AnyObject {
    var byteCount: Int { get }
    var lossSum: Double { get set }
    var correct: Int { get set }
}
