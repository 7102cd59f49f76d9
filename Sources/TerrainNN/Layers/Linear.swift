import TerrainTensor

/// A fully connected layer: y = x·Wᵀ + b for x of shape [N, in], W of shape [out, in].
///
/// Backward: dW = dyᵀ·x, db = Σₙ dy, dx = dy·W.
///
/// Tangents (R-operator, V = Ẇ, ḃ): ẏ = ẋ·Wᵀ + x·Vᵀ + ḃ; R{dx} = ġ·W + g·V,
/// R{dW} = ġᵀ·x + gᵀ·ẋ, R{db} = Σₙ ġ.
public final class Linear<Scalar: TensorScalar>: Module<Scalar> {
    public let weight: Parameter<Scalar>
    public let bias: Parameter<Scalar>?
    private var input: Tensor<Scalar>?
    private var inputTangent: Tensor<Scalar>?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias hasBias: Bool = true,
                initializer: Initializer = .pytorchDefault, generator: inout SeededGenerator) {
        (weight, bias) = initializer.weightAndBias(shape: [outFeatures, inFeatures], fanIn: inFeatures,
                                                   fanOut: outFeatures, bias: hasBias, generator: &generator)
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    override public var localParameters: [Parameter<Scalar>] { [weight] + (bias.map { [$0] } ?? []) }

    override public func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(x.rank == 2 && x.shape[1] == inFeatures, "Linear(\(inFeatures)→\(outFeatures)) got input \(x.shape)")
        if isRecording { input = x }
        var y = Backends.current.matmul(x, weight.value, transposeA: false, transposeB: true)
        if let bias { Backends.current.addFeatureBias(&y, bias.value) }
        return y
    }

    override public func backward(_ gy: Tensor<Scalar>) -> Tensor<Scalar> {
        guard let x = input else { fatalError("Linear.backward without a recorded forward pass") }
        let backend = Backends.current
        weight.accumulateGradient(backend.matmul(gy, x, transposeA: true, transposeB: false))
        if let bias { bias.accumulateGradient(backend.sumPerFeature(gy)) }
        return backend.matmul(gy, weight.value, transposeA: false, transposeB: false)
    }

    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        requireRecordingForTangents()
        let y = forward(x)
        inputTangent = xDot
        return (y, bilinearTangent(outputShape: y.shape, x: x, xDot: xDot, weight: weight, bias: bias) {
            Backends.current.matmul($0, $1, transposeA: false, transposeB: true)  // x·Wᵀ
        })
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        guard let x = input else { fatalError("Linear.backwardTangent without a recorded forwardTangent") }
        let backend = Backends.current
        let gx = computesParameterGradients ? backward(g) : backend.matmul(g, weight.value, transposeA: false, transposeB: false)
        if let curvature = addTangents(gDot.map { backend.matmul($0, x, transposeA: true, transposeB: false) },
                                       inputTangent.map { backend.matmul(g, $0, transposeA: true, transposeB: false) }) {
            weight.accumulateCurvature(curvature)
        }
        if let bias, let gDot { bias.accumulateCurvature(backend.sumPerFeature(gDot)) }
        let gxDot = addTangents(gDot.map { backend.matmul($0, weight.value, transposeA: false, transposeB: false) },
                                weight.tangent.map { backend.matmul(g, $0, transposeA: false, transposeB: false) })
        return (gx, gxDot)
    }

    override public func forgetRecordedState() { input = nil; inputTangent = nil }
}
