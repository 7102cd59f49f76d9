import TerrainTensor

/// A fully connected layer: y = x·Wᵀ + b for x of shape [N, in], W of shape [out, in].
///
/// Inputs [..., in] of any rank ≥ 2 are applied to every row of the last axis, as PyTorch's
/// `nn.Linear` is (a sequence batch [B, T, E] maps each token): the leading axes are flattened
/// into N = B·T… rows (row-major, so free), and the output is [..., out].
///
/// Backward: dW = dyᵀ·x, db = Σₙ dy, dx = dy·W.
///
/// Tangents (R-operator, V = Ẇ, ḃ): ẏ = ẋ·Wᵀ + x·Vᵀ + ḃ; R{dx} = ġ·W + g·V,
/// R{dW} = ġᵀ·x + gᵀ·ẋ, R{db} = Σₙ ġ.
public final class Linear<Scalar: TensorScalar>: Module<Scalar> {
    public let weight: Parameter<Scalar>
    public let bias: Parameter<Scalar>?
    /// The recorded input and its tangent as [N, in] matrices.
    private var input: Tensor<Scalar>?
    private var inputTangent: Tensor<Scalar>?
    /// The shape the input had, which ∂L/∂x takes back.
    private var inputShape: [Int] = []

    public init(_ inFeatures: Int, _ outFeatures: Int, bias hasBias: Bool = true,
                initializer: Initializer = .pytorchDefault, generator: inout SeededGenerator) {
        (weight, bias) = initializer.weightAndBias(shape: [outFeatures, inFeatures], fanIn: inFeatures,
                                                   fanOut: outFeatures, bias: hasBias, generator: &generator)
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    override public var localParameters: [Parameter<Scalar>] { [weight] + (bias.map { [$0] } ?? []) }

    /// [..., in] as [N, in].
    private func rows(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        x.rank == 2 ? x : x.reshaped([-1, inFeatures])
    }

    /// [N, out] as [..., out], the leading axes of the recorded input.
    private func unflattened(_ y: Tensor<Scalar>) -> Tensor<Scalar> {
        inputShape.count == 2 ? y : y.reshaped(Array(inputShape.dropLast()) + [outFeatures])
    }

    override public func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(x.rank >= 2 && x.shape[x.rank - 1] == inFeatures, "Linear(\(inFeatures)→\(outFeatures)) got input \(x.shape)")
        let x2 = rows(x)
        inputShape = x.shape
        if isRecording { input = x2 }
        return unflattened(Backends.current.linear(x2, weight: weight.value, bias: bias?.value))
    }

    override public func backward(_ gy: Tensor<Scalar>) -> Tensor<Scalar> {
        guard let x = input else { fatalError("Linear.backward without a recorded forward pass") }
        let backend = Backends.current, g = gy.reshaped([-1, outFeatures])
        weight.accumulateGradient(backend.matmul(g, x, transposeA: true, transposeB: false))
        if let bias { bias.accumulateGradient(backend.sumPerFeature(g)) }
        return backend.matmul(g, weight.value, transposeA: false, transposeB: false).reshaped(inputShape)
    }

    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        requireRecordingForTangents()
        let y = forward(x)
        let x2 = rows(x), xDot2 = xDot.map(rows)
        inputTangent = xDot2
        let yDot = bilinearTangent(outputShape: [x2.shape[0], outFeatures], x: x2, xDot: xDot2, weight: weight, bias: bias) {
            .matrices($0, $1, transposeB: true)  // x·Wᵀ
        }
        return (y, yDot.map(unflattened))
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        guard let x = input else { fatalError("Linear.backwardTangent without a recorded forwardTangent") }
        let backend = Backends.current
        let g2 = g.reshaped([-1, outFeatures]), gDot2 = gDot.map { $0.reshaped([-1, outFeatures]) }
        let gx = computesParameterGradients
            ? backward(g) : backend.matmul(g2, weight.value, transposeA: false, transposeB: false).reshaped(inputShape)
        if let curvature = sumOfProducts(gDot2.map { .matrices($0, x, transposeA: true) },
                                         inputTangent.map { .matrices(g2, $0, transposeA: true) }) {
            weight.accumulateCurvature(curvature)
        }
        if let bias, let gDot2 { bias.accumulateCurvature(backend.sumPerFeature(gDot2)) }
        let gxDot = sumOfProducts(gDot2.map { .matrices($0, weight.value) }, weight.tangent.map { .matrices(g2, $0) })
        return (gx, gxDot.map { $0.reshaped(inputShape) })
    }

    override public func forgetRecordedState() { input = nil; inputTangent = nil }
}
