import TerrainTensor

/// A pointwise nonlinearity y = f(x); backward multiplies by f′ (from the stored input or output).
public class ActivationLayer<Scalar: TensorScalar>: Module<Scalar> {
    public let kind: Activation
    private var input: Tensor<Scalar>?
    private var output: Tensor<Scalar>?

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

    override public func forgetRecordedState() { input = nil; output = nil }
}

/// max(x, 0)
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

/// The exact GELU, x·Φ(x) with Φ the standard normal CDF.
public final class GELU<Scalar: TensorScalar>: ActivationLayer<Scalar> {
    public init() { super.init(.gelu) }
}
