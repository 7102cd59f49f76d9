import TerrainTensor

/// A pointwise nonlinearity y = f(x); backward multiplies by f′ (from the stored input or output).
///
/// Tangents: ẏ = f′(x)·ẋ; dx = f′(x)·g, R{dx} = f″(x)·ẋ·g + f′(x)·ġ (f″ = 0 for ReLU and leaky
/// ReLU; tanh: f′ = 1 − y², f″ = −2y·f′; sigmoid: f′ = y(1 − y), f″ = f′·(1 − 2y);
/// GELU x·Φ(x): f′ = Φ + x·φ, f″ = φ·(2 − x²); GELU's tanh approximation: `Activation.geluTanh`; erf: f′ = 2/√π·e^(−x²), f″ = −2x·f′; clip and
/// hard sigmoid: f″ = 0; hard swish: f″ = 1/3 on (−3, 3); softplus: f′ = σ, f″ = σ(1 − σ)).
public class ActivationLayer<Scalar: TensorScalar>: Module<Scalar> {
    public let kind: Activation
    private var input: Tensor<Scalar>?
    private var output: Tensor<Scalar>?
    private var inputTangent: Tensor<Scalar>?

    public init(_ kind: Activation) { self.kind = kind }

    override public func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let y = Backends.current.activation(kind, x)
        if isRecording { input = x; output = y }
        return y
    }

    override public func backward(_ gy: Tensor<Scalar>) -> Tensor<Scalar> {
        guard let x = input, let y = output else { fatalError("\(kind) backward without a recorded forward pass") }
        return Backends.current.activationBackward(kind, input: x, output: y, gradient: gy)
    }

    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        requireRecordingForTangents()
        inputTangent = xDot
        guard let xDot else { return (forward(x), nil) }
        let (y, yDot) = Backends.current.activationWithTangent(kind, x, tangent: xDot)
        input = x; output = y
        return (y, yDot)
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        guard let x = input, let y = output else { fatalError("\(kind) backwardTangent without a recorded forwardTangent") }
        return Backends.current.activationBackwardTangent(kind, input: x, output: y, gradient: g, gradientTangent: gDot,
                                                          inputTangent: inputTangent)
    }

    override public func forgetRecordedState() { input = nil; output = nil; inputTangent = nil }
}

/// max(x, 0), with NaN passing through as in PyTorch (relu(NaN) = NaN, so an invalid value upstream
/// gives an invalid loss instead of a plausible one).
public final class ReLU<Scalar: TensorScalar>: ActivationLayer<Scalar> {
    public init() { super.init(.relu) }
}

/// x for x > 0, slope·x otherwise (PyTorch's default slope 0.01).
public final class LeakyReLU<Scalar: TensorScalar>: ActivationLayer<Scalar> {
    public init(slope: Double = 0.01) { super.init(.leakyRelu(slope: slope)) }
}

public final class Tanh<Scalar: TensorScalar>: ActivationLayer<Scalar> {
    public init() { super.init(.tanh) }
}

/// 1 / (1 + e^(−x))
public final class Sigmoid<Scalar: TensorScalar>: ActivationLayer<Scalar> {
    public init() { super.init(.sigmoid) }
}

/// GELU: the exact x·Φ(x) with Φ the standard normal CDF, or with `tanhApproximation` GPT-2's
/// ½x·(1 + tanh(√(2/π)(x + 0.044715x³))) (PyTorch's `nn.GELU(approximate="tanh")`).
public final class GELU<Scalar: TensorScalar>: ActivationLayer<Scalar> {
    public init(tanhApproximation: Bool = false) { super.init(tanhApproximation ? .geluTanh : .gelu) }
}
