import TerrainTensor

/// A 2D convolution over NCHW batches with weights [out, in, kh, kw] (PyTorch's layout):
/// y[n, f] = Σ_c W[f, c] ⋆ x[n, c] + b[f], with stride and zero padding.
///
/// The convolution is bilinear in (x, W), so its tangents (V = Ẇ, ḃ) are those of `Linear` with
/// the convolution's operators: ẏ = conv(ẋ, W) + conv(x, V) + ḃ; R{dx} = convᵀ(ġ, W) + convᵀ(g, V);
/// R{dW} = ∂W(ġ, x) + ∂W(g, ẋ); R{db} = Σ ġ (convᵀ: backward-data, ∂W: backward-weight).
public final class Conv2d<Scalar: TensorScalar>: Module<Scalar> {
    public let weight: Parameter<Scalar>
    public let bias: Parameter<Scalar>?
    public let geometry: Conv2dGeometry
    private var input: Tensor<Scalar>?
    private var inputTangent: Tensor<Scalar>?

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias hasBias: Bool = true, initializer: Initializer = .pytorchDefault, generator: inout SeededGenerator) {
        geometry = Conv2dGeometry(kernel: kernel, stride: stride, padding: padding)
        let fanIn = inChannels * kernel * kernel, fanOut = outChannels * kernel * kernel
        (weight, bias) = initializer.weightAndBias(shape: [outChannels, inChannels, kernel, kernel], fanIn: fanIn,
                                                   fanOut: fanOut, bias: hasBias, generator: &generator)
    }

    public var inChannels: Int { weight.shape[1] }
    public var outChannels: Int { weight.shape[0] }

    override public var localParameters: [Parameter<Scalar>] { [weight] + (bias.map { [$0] } ?? []) }

    override public func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(x.rank == 4 && x.shape[1] == inChannels,
                     "Conv2d(\(inChannels)→\(outChannels)) expects [N, \(inChannels), H, W], got \(x.shape)")
        if isRecording { input = x }
        return Backends.current.conv2d(x, weight: weight.value, bias: bias?.value, geometry: geometry)
    }

    override public func backward(_ gy: Tensor<Scalar>) -> Tensor<Scalar> {
        guard let x = input else { fatalError("Conv2d.backward without a recorded forward pass") }
        let g = Backends.current.conv2dBackward(input: x, weight: weight.value, gradient: gy,
                                                geometry: geometry, needsInputGradient: true)
        weight.accumulateGradient(g.weight)
        bias?.accumulateGradient(g.bias)
        return g.input!
    }

    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        requireRecordingForTangents()
        let y = forward(x)
        inputTangent = xDot
        return (y, bilinearTangent(outputShape: y.shape, x: x, xDot: xDot, weight: weight, bias: bias) { input, w in
            Backends.current.conv2d(input, weight: w, bias: nil, geometry: geometry)
        })
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        guard let x = input else { fatalError("Conv2d.backwardTangent without a recorded forwardTangent") }
        let backend = Backends.current
        let gx = computesParameterGradients
            ? backward(g)
            : backend.conv2dBackwardData(gradient: g, weight: weight.value, inputShape: x.shape, geometry: geometry)
        var gxDot: Tensor<Scalar>?
        if let gDot {
            // convᵀ(ġ, W), ∂W(ġ, x) and Σ ġ in one backward pass.
            let r = backend.conv2dBackward(input: x, weight: weight.value, gradient: gDot, geometry: geometry,
                                           needsInputGradient: true)
            gxDot = r.input
            weight.accumulateCurvature(r.weight)
            bias?.accumulateCurvature(r.bias)
        }
        let v = weight.tangent
        if v != nil || inputTangent != nil {
            // convᵀ(g, V) and ∂W(g, ẋ) in one backward pass (a nil side stands in as zeros).
            let r = backend.conv2dBackward(input: inputTangent ?? Tensor(zeros: x.shape), weight: v ?? Tensor(zeros: weight.shape),
                                           gradient: g, geometry: geometry, needsInputGradient: v != nil)
            if v != nil { gxDot = addTangents(gxDot, r.input) }
            if inputTangent != nil { weight.accumulateCurvature(r.weight) }
        }
        return (gx, gxDot)
    }

    override public func forgetRecordedState() { input = nil; inputTangent = nil }
}
