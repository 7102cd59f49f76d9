/// The seam between layers and the hardware.
///
/// Layers express their forward and backward passes only through these tensor-level operations;
/// they never touch memory themselves. The CPU back end implements them with OpenBLAS and Swift
/// kernels; a CUDA back end, loaded at run time, will implement the same protocol (with its own
/// device storage) without changes to any layer.
public protocol Backend: Sendable {
    var name: String { get }

    // MARK: Linear algebra
    /// op(A) · op(B) for matrices (rank-2 tensors).
    func matmul<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>, transposeA: Bool, transposeB: Bool) -> Tensor<T>
    /// op(A_b) · op(B_b) for every matrix b of a batch: the last two axes of each operand are a
    /// matrix ([…, M, K] and […, K, N], or […, K, M] / […, N, K] when transposed), the axes before
    /// them index the batch. The batch axes of A and B are equal, or one operand holds a single
    /// matrix (no batch axes, or batch axes whose product is 1) that every item shares: a batch
    /// stride of 0, as NumPy's `matmul` broadcasts it. The result is [batch axes…, M, N].
    /// With a `structure` other than `.general` the products skip what a causal attention's
    /// triangular matrices make zero or unread (see `CausalStructure`).
    func batchedMatmul<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>, transposeA: Bool, transposeB: Bool,
                                        structure: CausalStructure) -> Tensor<T>
    /// y = x·Wᵀ + b for rows x [N, in], W [out, in], b [out] or nil (PyTorch's `F.linear`): each
    /// block of rows gets its bias right after its product, while it is in cache. The values of
    /// `matmul` then `addFeatureBias`.
    func linear<T: TensorScalar>(_ x: Tensor<T>, weight: Tensor<T>, bias: Tensor<T>?) -> Tensor<T>
    /// C += op(A)·op(B): `matmul`'s product added into C [M, N] by the GEMM itself (β = 1), with
    /// no pass of its own. Tangents are sums of such products (the product rule).
    func matmul<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>, transposeA: Bool, transposeB: Bool,
                                 addingTo c: inout Tensor<T>)
    /// C += `batchedMatmul`(A, B), the same way.
    func batchedMatmul<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>, transposeA: Bool, transposeB: Bool,
                                        structure: CausalStructure, addingTo c: inout Tensor<T>)

    // MARK: Elementwise
    func add<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T>
    func multiply<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T>
    /// y += alpha · x (BLAS axpy).
    func axpy<T: TensorScalar>(_ alpha: T, _ x: Tensor<T>, into y: inout Tensor<T>)
    /// x *= alpha.
    func scale<T: TensorScalar>(_ x: inout Tensor<T>, by alpha: T)
    func dot<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>) -> Double
    func sum<T: TensorScalar>(_ a: Tensor<T>) -> Double
    func activation<T: TensorScalar>(_ kind: Activation, _ x: Tensor<T>) -> Tensor<T>
    /// dL/dx from dL/dy, given the forward input x and output y.
    func activationBackward<T: TensorScalar>(_ kind: Activation, input x: Tensor<T>, output y: Tensor<T>,
                                             gradient gy: Tensor<T>) -> Tensor<T>
    /// σ″(x) ⊙ t, given the forward input x and output y of y = σ(x): the second-order term
    /// σ″(x)·ẋ·g of a Hessian-vector product through the activation (t = ẋ ⊙ g). Zero for the
    /// piecewise-linear activations (ReLU, leaky ReLU) away from their kink.
    func activationSecondDerivative<T: TensorScalar>(_ kind: Activation, input x: Tensor<T>, output y: Tensor<T>,
                                                     times t: Tensor<T>) -> Tensor<T>
    /// y = σ(x) and its tangent ẏ = σ′(x) ⊙ ẋ in one call (the same values as `activation` and
    /// `activationBackward`; GELU computes Φ once for both).
    func activationWithTangent<T: TensorScalar>(_ kind: Activation, _ x: Tensor<T>,
                                                tangent xDot: Tensor<T>) -> (y: Tensor<T>, yDot: Tensor<T>)
    /// The backward pass and its R-operator in one call: ∂L/∂x = σ′(x) ⊙ g and
    /// R{∂L/∂x} = σ′(x) ⊙ ġ + σ″(x) ⊙ (ẋ ⊙ g), a term left out where its tangent is nil (and the
    /// second one where σ″ = 0); nil when nothing remains. The same values as `activationBackward`,
    /// `activationSecondDerivative` and an add.
    func activationBackwardTangent<T: TensorScalar>(_ kind: Activation, input x: Tensor<T>, output y: Tensor<T>,
                                                    gradient g: Tensor<T>, gradientTangent gDot: Tensor<T>?,
                                                    inputTangent xDot: Tensor<T>?) -> (gx: Tensor<T>, gxDot: Tensor<T>?)

    // MARK: Bias and per-feature reductions
    /// Adds `bias[c]` to every element of feature c, for x shaped [N, C, spatial…] or [N, C].
    func addFeatureBias<T: TensorScalar>(_ x: inout Tensor<T>, _ bias: Tensor<T>)
    /// Sums x over every axis except axis 1: the gradient of a per-feature bias.
    func sumPerFeature<T: TensorScalar>(_ x: Tensor<T>) -> Tensor<T>
    /// y = x · scale[c] + shift[c] per feature c (batch normalization in evaluation mode).
    func featureAffine<T: TensorScalar>(_ x: Tensor<T>, scale: Tensor<T>, shift: Tensor<T>) -> Tensor<T>

    // MARK: Convolution and pooling (NCHW)
    func conv2d<T: TensorScalar>(_ x: Tensor<T>, weight: Tensor<T>, bias: Tensor<T>?, geometry: Conv2dGeometry) -> Tensor<T>
    func conv2dBackward<T: TensorScalar>(input x: Tensor<T>, weight: Tensor<T>, gradient gy: Tensor<T>,
                                         geometry: Conv2dGeometry, needsInputGradient: Bool) -> Conv2dGradients<T>
    /// Evaluation-mode batch normalization's R-operator forward, in one sweep:
    /// ẏ = a·ẋ + γ̇·(x − μ)·r + β̇ per feature (r = 1/√(v+ε), a = γ·r); nil tangents are zero.
    func batchNormEvaluationTangent<T: TensorScalar>(input x: Tensor<T>, inputTangent xDot: Tensor<T>?,
                                                     statistics: BatchNormEvaluationStatistics<T>,
                                                     gammaTangent: Tensor<T>?, betaTangent: Tensor<T>?) -> Tensor<T>
    /// Evaluation-mode batch normalization's backward pass and its R-operator, in one sweep:
    /// dx = a·g, dγ = Σ g·x̂, dβ = Σ g (when `parameterGradients`), R{dx} = a·ġ + γ̇·r·g,
    /// R{dγ} = Σ (ġ·x̂ + r·g·ẋ), R{dβ} = Σ ġ, with x̂ = (x − μ)·r and sums over all axes but 1.
    func batchNormEvaluationTangentBackward<T: TensorScalar>(input x: Tensor<T>, inputTangent xDot: Tensor<T>?,
                                                             gradient g: Tensor<T>, gradientTangent gDot: Tensor<T>?,
                                                             statistics: BatchNormEvaluationStatistics<T>,
                                                             gammaTangent: Tensor<T>?, parameterGradients: Bool)
        -> BatchNormTangentGradients<T>
    /// dL/dx alone (convᵀ(dL/dy, W)) for an input of shape `inputShape`.
    func conv2dBackwardData<T: TensorScalar>(gradient gy: Tensor<T>, weight: Tensor<T>, inputShape: [Int],
                                             geometry: Conv2dGeometry) -> Tensor<T>
    func maxPool2d<T: TensorScalar>(_ x: Tensor<T>, geometry: Pool2dGeometry) -> (output: Tensor<T>, argmax: [Int32])
    func maxPool2dBackward<T: TensorScalar>(gradient gy: Tensor<T>, argmax: [Int32], inputShape: [Int]) -> Tensor<T>
    /// y[o] = x[argmax[o]]: max pooling linearized at a recorded arg-max (the transpose of
    /// `maxPool2dBackward`), which carries a tangent ẋ through the pooling.
    func maxPool2dTangent<T: TensorScalar>(_ x: Tensor<T>, argmax: [Int32], outputShape: [Int]) -> Tensor<T>
    func avgPool2d<T: TensorScalar>(_ x: Tensor<T>, geometry: Pool2dGeometry) -> Tensor<T>
    func avgPool2dBackward<T: TensorScalar>(gradient gy: Tensor<T>, inputShape: [Int], geometry: Pool2dGeometry) -> Tensor<T>

    // MARK: Normalization
    /// Batch statistics per feature (axis 1): mean and biased variance, accumulated in Double.
    func featureMoments<T: TensorScalar>(_ x: Tensor<T>) -> (mean: [Double], variance: [Double])
    /// Backward of y = γ·(x−μ)/σ + β with batch statistics: dL/dx, dL/dγ, dL/dβ.
    func batchNormBackward<T: TensorScalar>(input x: Tensor<T>, gradient gy: Tensor<T>, mean: [Double],
                                            invStd: [Double], gamma: Tensor<T>) -> BatchNormGradients<T>

    // MARK: Layer normalization (over the last axis)
    /// y = γ ⊙ x̂ + β with x̂ = (x − μ)/√(σ² + ε) per row of the last axis (μ and the biased
    /// variance σ² of the row), γ and β shaped like that axis (β nil: zero); returns the row
    /// statistics the other passes need. Several trailing axes are normalized together by
    /// reshaping them into one first (row-major: free).
    func layerNorm<T: TensorScalar>(_ x: Tensor<T>, gamma: Tensor<T>, beta: Tensor<T>?,
                                    epsilon: Double) -> (output: Tensor<T>, statistics: LayerNormStatistics<T>)
    /// ∂L/∂x = r·(u − mean(u) − x̂·mean(x̂ ⊙ u)) per row with u = γ ⊙ g; with
    /// `parameterGradients`, ∂L/∂γ = Σ g ⊙ x̂ and ∂L/∂β = Σ g over the rows.
    func layerNormBackward<T: TensorScalar>(input x: Tensor<T>, gradient g: Tensor<T>, statistics: LayerNormStatistics<T>,
                                            gamma: Tensor<T>, parameterGradients: Bool) -> LayerNormGradients<T>
    /// The R-operator forward, in one sweep: ẏ = γ ⊙ r·(ẋ − mean(ẋ) − x̂·mean(x̂ ⊙ ẋ)) + γ̇ ⊙ x̂ + β̇;
    /// nil tangents are zero.
    func layerNormTangent<T: TensorScalar>(input x: Tensor<T>, inputTangent xDot: Tensor<T>?,
                                           statistics: LayerNormStatistics<T>, gamma: Tensor<T>,
                                           gammaTangent: Tensor<T>?, betaTangent: Tensor<T>?) -> Tensor<T>
    /// The backward pass and its R-operator, in one sweep: ∂L/∂x, R{∂L/∂x} (second-order terms
    /// of the normalization included), ∂L/∂γ, ∂L/∂β (when `parameterGradients`), R{∂L/∂γ} and
    /// R{∂L/∂β}. The formulas are in `CPUBackend.layerNormTangentBackward`.
    func layerNormTangentBackward<T: TensorScalar>(input x: Tensor<T>, inputTangent xDot: Tensor<T>?,
                                                   gradient g: Tensor<T>, gradientTangent gDot: Tensor<T>?,
                                                   statistics: LayerNormStatistics<T>, gamma: Tensor<T>,
                                                   gammaTangent: Tensor<T>?, parameterGradients: Bool)
        -> LayerNormTangentGradients<T>

    // MARK: Table lookups (embeddings)
    /// y[i…, :] = table[indices[i…], :] for a table [rows, width]: the indices' shape plus
    /// [width]. Indices are exact integers in 0..<rows held as scalars (checked by the caller).
    func gatherRows<T: TensorScalar>(_ table: Tensor<T>, indices: Tensor<T>) -> Tensor<T>
    /// The adjoint of `gatherRows`: a [rows, width] table of zeros to which each values[i…, :]
    /// is added at row indices[i…] (repeated indices add up).
    func scatterAddRows<T: TensorScalar>(_ values: Tensor<T>, indices: Tensor<T>, rows: Int) -> Tensor<T>

    // MARK: Shape
    /// Concatenates along axis 1.
    func concatFeatures<T: TensorScalar>(_ parts: [Tensor<T>]) -> Tensor<T>
    /// Splits along axis 1 into pieces of the given sizes.
    func splitFeatures<T: TensorScalar>(_ x: Tensor<T>, sizes: [Int]) -> [Tensor<T>]
    /// Concatenates along any axis (the parts agree on every other dimension).
    func concatenate<T: TensorScalar>(_ parts: [Tensor<T>], axis: Int) -> Tensor<T>
    /// Splits along any axis into pieces of the given sizes (the adjoint of `concatenate`).
    func split<T: TensorScalar>(_ x: Tensor<T>, axis: Int, sizes: [Int]) -> [Tensor<T>]
    /// y[i₀, …] = x[i_{p⁻¹(0)}, …]: axis k of y is axis permutation[k] of x (NumPy's transpose).
    func transpose<T: TensorScalar>(_ x: Tensor<T>, permutation: [Int]) -> Tensor<T>

    // MARK: Indexing (ONNX Gather, Slice, Where; token embeddings)
    /// Picks entries along `axis`: y has x's shape with dimension `axis` replaced by
    /// `indices.count`, and y[…, k, …] = x[…, indices[k], …] (every index in 0..<x.shape[axis]).
    func gather<T: TensorScalar>(_ x: Tensor<T>, axis: Int, indices: [Int]) -> Tensor<T>
    /// The adjoint of `gather`: a tensor of `inputShape` whose slice i along `axis` is the sum of
    /// the gradient's slices k with indices[k] = i (zero where no index points), summed in order.
    func gatherBackward<T: TensorScalar>(_ gradient: Tensor<T>, axis: Int, indices: [Int], inputShape: [Int]) -> Tensor<T>
    /// y = condition ? a : b elementwise, for a, b and the condition of one shape. A select, not
    /// arithmetic: an infinite value on the side not taken never reaches y (masks use −∞).
    func select<T: TensorScalar>(_ condition: [Bool], _ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T>
    /// xᵖ elementwise for a constant exponent p (√x for ½, 1/x for −1), as `pow` of the type.
    func power<T: TensorScalar>(_ x: Tensor<T>, _ exponent: Double) -> Tensor<T>

    // MARK: Broadcasting
    /// a ∘ b elementwise with NumPy broadcasting: shapes are aligned at their last axes and a
    /// dimension of 1 (or a missing one) repeats; the result has the broadcast shape.
    func broadcast<T: TensorScalar>(_ operation: BinaryOperation, _ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T>
    /// Sums x over the axes that broadcasting from `shape` to x's shape repeated: the adjoint of
    /// broadcasting (the gradient of an operand that was broadcast). Sums are taken in Double.
    func sum<T: TensorScalar>(_ x: Tensor<T>, toShape shape: [Int]) -> Tensor<T>

    // MARK: Softmax along an axis
    /// softmax(x) = eˣ/Σeˣ along `axis`, or its logarithm x − log Σeˣ.
    func softmax<T: TensorScalar>(_ x: Tensor<T>, axis: Int, logarithm: Bool) -> Tensor<T>
    /// Attention's probabilities: softmax(c·S + M) along the last axis of scores S [..., T, T],
    /// with M = 0, or, when `causal`, −∞ above the diagonal (query i sees keys j ≤ i), in one pass
    /// that never reads the masked scores and leaves their probabilities exactly 0. Equal to
    /// `softmax` of the scaled, masked scores (the scale rounded to T first, as `scale` does).
    func attentionSoftmax<T: TensorScalar>(_ scores: Tensor<T>, scale: T, causal: Bool) -> Tensor<T>
    /// Self-attention without a backward pass: `projections` [B·T, 3E] hold each position's
    /// [Q | K | V], head h in columns h·D..<(h+1)·D of each (D = E/heads); returns O [B·T, E]
    /// with O's head h in the same columns, softmax(scale·Q·Kᵀ (+ the causal mask))·V per sequence
    /// and head, the values `attentionSoftmax` and `batchedMatmul` give (to rounding of the
    /// products' blocking).
    func packedSelfAttention<T: TensorScalar>(_ projections: Tensor<T>, batch: Int, time: Int, heads: Int,
                                              scale: T, causal: Bool) -> Tensor<T>
    /// J·v (or Jᵀ·v when `transposed`) for the Jacobian J of `softmax` at output y, along `axis`:
    /// softmax J = diag(y) − yyᵀ (symmetric): J·v = y ⊙ (v − ⟨y, v⟩); log-softmax J = I − 1sᵀ with
    /// s = e^y: J·v = v − ⟨s, v⟩, Jᵀ·v = v − s·Σv. The tangent (J·ẋ) and the backward pass (Jᵀ·g).
    func softmaxJacobian<T: TensorScalar>(output y: Tensor<T>, _ v: Tensor<T>, axis: Int, logarithm: Bool,
                                          transposed: Bool) -> Tensor<T>
    /// R{Jᵀ}·g, the second-order term of a Hessian-vector product through softmax, given the
    /// output y, its tangent ẏ and the output gradient g: softmax ẏ ⊙ (g − ⟨g, y⟩) − y·⟨g, ẏ⟩;
    /// log-softmax −(s ⊙ ẏ)·Σg with s = e^y (then ṡ = s ⊙ ẏ).
    func softmaxSecondOrder<T: TensorScalar>(output y: Tensor<T>, outputTangent yDot: Tensor<T>, gradient g: Tensor<T>,
                                             axis: Int, logarithm: Bool) -> Tensor<T>

    // MARK: Losses
    /// Mean softmax cross-entropy of logits [N, K] against class labels, its gradient, and the
    /// number of correct arg-max predictions.
    func softmaxCrossEntropy<T: TensorScalar>(logits: Tensor<T>, labels: [Int32]) -> LossResult<T>
    /// Each row's term of `softmaxCrossEntropy`, −log softmax(zᵢ)[labelᵢ] (the same values its
    /// mean is made of), and whether the row's arg-max is its label: per-sample losses, no gradient.
    func softmaxCrossEntropyRows<T: TensorScalar>(logits: Tensor<T>, labels: [Int32]) -> (losses: [Double], correct: [Bool])
    /// The directional derivative of the mean cross-entropy's gradient along a logit tangent ż:
    /// R{∂L/∂z} = (p ⊙ ż − p·(pᵀż)) / N per row, p = softmax(z) (it does not depend on the labels).
    func softmaxCrossEntropyTangent<T: TensorScalar>(logits: Tensor<T>, tangent: Tensor<T>) -> Tensor<T>
    /// Mean over all elements of (prediction − target)², its gradient.
    func meanSquaredError<T: TensorScalar>(prediction: Tensor<T>, target: Tensor<T>) -> LossResult<T>
}

/// What a batched product of causal attention's square [T, T] matrices may skip. Each matrix's
/// rows go in blocks of 32; a block of rows lo..<hi sees only part of the inner dimension, or
/// writes only part of its row:
public enum CausalStructure: Sendable, Equatable, Hashable {
    /// Every product in full.
    case general
    /// op(A) is lower triangular (zero above the diagonal, as P, Ṗ and ∂L/∂S are): rows lo..<hi
    /// sum over k < hi only.
    case lowerTriangularLeft
    /// op(A) is upper triangular (zero below the diagonal: Pᵀ): rows lo..<hi sum over k ≥ lo.
    case upperTriangularLeft
    /// Only C's lower triangle is read afterwards (scores before the causal softmax): rows
    /// lo..<hi are computed in columns < hi, the rest of C is left unwritten.
    case lowerTriangularResult
}

extension Backend {
    public func batchedMatmul<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>, transposeA: Bool, transposeB: Bool) -> Tensor<T> {
        batchedMatmul(a, b, transposeA: transposeA, transposeB: transposeB, structure: .general)
    }

    public func batchedMatmul<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>, transposeA: Bool, transposeB: Bool,
                                               addingTo c: inout Tensor<T>) {
        batchedMatmul(a, b, transposeA: transposeA, transposeB: transposeB, structure: .general, addingTo: &c)
    }
}

/// Pointwise nonlinearities.
public enum Activation: Sendable, Equatable, Hashable {
    case relu
    case leakyRelu(slope: Double)
    case tanh
    case sigmoid
    /// The exact GELU, x·Φ(x).
    case gelu
    /// GELU's tanh approximation (GPT-2's; PyTorch's `approximate="tanh"`, ONNX's Gelu with
    /// approximate = "tanh"): ½x·(1 + tanh u), u = √(2/π)·(x + 0.044715x³). With t = tanh u,
    /// u′ = √(2/π)·(1 + 3·0.044715x²) and u″ = 6·√(2/π)·0.044715x:
    /// f′ = ½(1 + t) + ½x·(1 − t²)·u′ and f″ = (1 − t²)·(u′ − x·t·u′² + ½x·u″).
    case geluTanh
    /// The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt (ONNX's Erf, in exported GELUs).
    case erf
    /// min(max(x, min), max) (PyTorch's clamp and hardtanh; ReLU6 is clip to [0, 6]); f′ = 1
    /// strictly inside the bounds, 0 outside and at them (as hardtanh's backward), f″ = 0.
    case clip(min: Double, max: Double)
    /// max(0, min(1, αx + β)) (ONNX's HardSigmoid; PyTorch's Hardsigmoid is α = 1/6, β = 1/2);
    /// f′ = α strictly inside the ramp, f″ = 0.
    case hardSigmoid(alpha: Double, beta: Double)
    /// x·max(0, min(1, x/6 + 1/2)) (MobileNetV3's Hardswish); f′ = x/3 + 1/2 on (−3, 3), 0
    /// below, 1 above; f″ = 1/3 on (−3, 3).
    case hardSwish
    /// log(1 + eˣ), computed as max(x, 0) + log(1 + e^(−|x|)); f′ = sigmoid(x), f″ = f′·(1 − f′).
    case softplus

    /// Whether f″ = 0 wherever f is twice differentiable (the piecewise-linear ones): a
    /// Hessian-vector product gets no second-order term from them.
    public var isPiecewiseLinear: Bool {
        switch self {
        case .relu, .leakyRelu, .clip, .hardSigmoid: true
        case .tanh, .sigmoid, .gelu, .geluTanh, .erf, .hardSwish, .softplus: false
        }
    }
}

/// Binary elementwise operations of `Backend.broadcast`.
public enum BinaryOperation: Sendable, Equatable, Hashable {
    case add, subtract, multiply, divide
}

/// Geometry of a 2D convolution: kernel, stride, zero padding, dilation and channel groups.
///
/// `padding` is added before the first row/column, `paddingEnd` after the last (equal unless made
/// asymmetric, as ONNX's `pads` may be). With dilation d the kernel's taps are d apart, so its
/// extent is d·(k − 1) + 1. With g groups, input and output channels are cut into g equal blocks
/// and output block i sees input block i only (weights [F, C/g, kh, kw]).
public struct Conv2dGeometry: Sendable, Equatable, Hashable {
    public var kernel: (height: Int, width: Int)
    public var stride: (height: Int, width: Int)
    public var padding: (height: Int, width: Int)
    public var paddingEnd: (height: Int, width: Int)
    public var dilation: (height: Int, width: Int)
    public var groups: Int

    public init(kernel: Int, stride: Int = 1, padding: Int = 0) {
        self.init(kernel: (kernel, kernel), stride: (stride, stride), padding: (padding, padding))
    }

    public init(kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), paddingEnd: (Int, Int)? = nil,
                dilation: (Int, Int) = (1, 1), groups: Int = 1) {
        self.kernel = kernel; self.stride = stride; self.padding = padding
        self.paddingEnd = paddingEnd ?? padding
        self.dilation = dilation; self.groups = groups
    }

    /// ⌊(H + padding + paddingEnd − dilation·(k − 1) − 1) / stride⌋ + 1 per axis.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height + padding.height + paddingEnd.height - dilation.height * (kernel.height - 1) - 1) / stride.height + 1,
         (width + padding.width + paddingEnd.width - dilation.width * (kernel.width - 1) - 1) / stride.width + 1)
    }

    private var numbers: [Int] {
        [kernel.height, kernel.width, stride.height, stride.width, padding.height, padding.width,
         paddingEnd.height, paddingEnd.width, dilation.height, dilation.width, groups]
    }

    public static func == (a: Self, b: Self) -> Bool { a.numbers == b.numbers }

    public func hash(into h: inout Hasher) {
        for v in numbers { h.combine(v) }
    }
}

/// Pooling windows share the convolution's geometry.
public typealias Pool2dGeometry = Conv2dGeometry

public struct Conv2dGradients<T: TensorScalar> {
    public var input: Tensor<T>?
    public var weight: Tensor<T>
    public var bias: Tensor<T>
    public init(input: Tensor<T>?, weight: Tensor<T>, bias: Tensor<T>) {
        self.input = input; self.weight = weight; self.bias = bias
    }
}

public struct BatchNormGradients<T: TensorScalar> {
    public var input: Tensor<T>
    public var gamma: Tensor<T>
    public var beta: Tensor<T>
    public init(input: Tensor<T>, gamma: Tensor<T>, beta: Tensor<T>) {
        self.input = input; self.gamma = gamma; self.beta = beta
    }
}

/// The per-feature constants of an evaluation-mode batch normalization: μ, r = 1/√(v+ε), a = γ·r.
public struct BatchNormEvaluationStatistics<T: TensorScalar> {
    public var mean: Tensor<T>
    public var invStd: Tensor<T>
    public var scale: Tensor<T>
    public init(mean: Tensor<T>, invStd: Tensor<T>, scale: Tensor<T>) {
        self.mean = mean; self.invStd = invStd; self.scale = scale
    }
}

/// What `batchNormEvaluationTangentBackward` returns (gradients nil when not asked for,
/// R{dx} nil when ġ and γ̇ are both zero).
public struct BatchNormTangentGradients<T: TensorScalar> {
    public var input: Tensor<T>
    public var inputTangent: Tensor<T>?
    public var gamma: Tensor<T>?
    public var beta: Tensor<T>?
    public var gammaCurvature: Tensor<T>?
    public var betaCurvature: Tensor<T>?
}

public struct LossResult<T: TensorScalar> {
    /// The mean loss, accumulated in Double.
    public var loss: Double
    /// dLoss/dPrediction of the mean loss.
    public var gradient: Tensor<T>
    /// Correct arg-max predictions (classification), or 0.
    public var correct: Int
    public init(loss: Double, gradient: Tensor<T>, correct: Int) {
        self.loss = loss; self.gradient = gradient; self.correct = correct
    }
}

/// The back end used by layers. Set it once at start-up.
public enum Backends {
    nonisolated(unsafe) public static var current: any Backend = CPUBackend()
}
