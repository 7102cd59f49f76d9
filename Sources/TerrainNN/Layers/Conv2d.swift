import TerrainTensor

/// A 2D convolution over NCHW batches with weights [out, in, kh, kw] (PyTorch's layout):
/// y[n, f] = Σ_c W[f, c] ⋆ x[n, c] + b[f], with stride and zero padding.
public final class Conv2d<Scalar: TensorScalar>: Module<Scalar> {
    public let weight: Parameter<Scalar>
    public let bias: Parameter<Scalar>?
    public let geometry: Conv2dGeometry
    private var input: Tensor<Scalar>?

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias hasBias: Bool = true, initializer: Initializer = .pytorchDefault, generator: inout SeededGenerator) {
        geometry = Conv2dGeometry(kernel: kernel, stride: stride, padding: padding)
        let fanIn = inChannels * kernel * kernel, fanOut = outChannels * kernel * kernel
        weight = Parameter("weight", role: .weight,
                           value: initializer.sample(shape: [outChannels, inChannels, kernel, kernel], fanIn: fanIn,
                                                     fanOut: fanOut, generator: &generator))
        bias = hasBias ? Parameter("bias", role: .bias,
                                   value: Initializer.pytorchDefault.sample(shape: [outChannels], fanIn: fanIn,
                                                                            fanOut: fanOut, generator: &generator)) : nil
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

    override public func forgetRecordedState() { input = nil }
}
