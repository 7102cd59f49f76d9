import TerrainTensor

/// An `InferenceGraph` compiled for exact Hessian-vector products (Pearlmutter's R-operator):
/// one run carries a chunk of samples forward with their tangents, hands the output and its
/// tangent to the caller's loss, and carries the loss gradient and its tangent back, writing the
/// chunk's R{∂L/∂W} for every weight slot.
///
/// Layer by layer, a product costs three convolutions forward and five backward per layer, each
/// of which reorders its operands into the kernel's layout and back, plus a pass over memory for
/// every batch norm, activation and residual sweep. A program keeps values and their tangents
/// side by side in the kernels' layout from the first layer to the last (a value of n samples
/// and its tangent form one batch of 2n, so W·x and W·ẋ are one convolution, and so are the two
/// backward-data products with W and the two weight-gradient products) and fuses the cheap
/// operations into one sweep per step and direction.
///
/// **The step's epilogue.** Graph steps with weights compute y = W ⊛ x (no bias), then
/// z = A·y + C (+ the addend) per output channel, then the activation; the tangent is
/// ż = A·ẏ + Ȧ·y + Ċ (+ the addend's tangent) with ẏ = W ⊛ ẋ + V ⊛ x (V: the weights' tangent).
/// A, C, Ȧ, Ċ are the caller's: a bias b gives A = 1, C = b, Ċ = ḃ; an evaluation-mode batch
/// norm a·(y + b) + c gives A = a, C = a·b + c, Ȧ = ȧ, Ċ = a·ḃ + ȧ·b + ċ. Besides R{∂L/∂W}, a run
/// returns three sums per output channel from which the caller forms the other products:
/// S₁ = Σ (ġ_z·y + g_z·ẏ), S₂ = Σ ġ_z, S₃ = Σ g_z (over samples and positions; g_z = ∂L/∂z,
/// ġ_z = R{∂L/∂z}). Then R{∂L/∂a} = S₁ + b·S₂ + ḃ·S₃, R{∂L/∂c} = S₂, R{∂L/∂b} = A·S₂ + Ȧ·S₃.
public protocol CurvatureProgram: AnyObject {
    var graph: InferenceGraph { get }
    /// Samples per run.
    var batchSize: Int { get }
    /// Floats one run writes to `products`: for each weight slot in order, R{∂L/∂W} (the
    /// weights' layout), then S₁, S₂, S₃ (F values each).
    var productCount: Int { get }
    /// Where slot `slot`'s entries start in `products`.
    func productOffset(_ slot: Int) -> Int
    /// Sets slot `slot`'s weights W, their tangent V (same layout; zeros where v has none) and
    /// the epilogue coefficients (F values each). Not while a run is in progress.
    func setSlot(_ slot: Int, weight: UnsafeBufferPointer<Float>, tangent: UnsafeBufferPointer<Float>,
                 scale: [Float], shift: [Float], scaleTangent: [Float], shiftTangent: [Float])
    /// One chunk of `batchSize` samples (input: NCHW, contiguous; the input has no tangent).
    /// `loss(output, outputTangent, gradient, gradientTangent)` receives the output and its
    /// tangent ([batchSize, F] each) and writes ∂L/∂output and R{∂L/∂output} in the same shape.
    /// `products` receives `productCount` floats. Runs may happen on several threads at once.
    func run(input: UnsafePointer<Float>,
             loss: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void,
             products: UnsafeMutablePointer<Float>)
}
