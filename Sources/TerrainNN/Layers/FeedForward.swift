import TerrainTensor

/// A transformer's position-wise MLP: y = fc2(GELU(fc1(x))) on [..., E], with a hidden width H
/// (4E in GPT and ViT): fc1 is Linear(E → H), fc2 is Linear(H → E), GELU the exact x·Φ(x).
///
/// Parameters are named `fc1.weight`, `fc1.bias`, `fc2.weight`, `fc2.bias` (a PyTorch twin has
/// attributes `fc1`, `gelu`, `fc2`). Its passes are those of its three layers in sequence; the
/// second-order term of a Hessian-vector product comes from GELU's f″ = φ(x)·(2 − x²) and from
/// the products of the two weights (see `Linear` and `ActivationLayer`).
public final class FeedForward<Scalar: TensorScalar>: Module<Scalar> {
    public let fc1: Linear<Scalar>
    public let fc2: Linear<Scalar>
    private let layers: Sequential<Scalar>

    public init(features: Int, hidden: Int, generator: inout SeededGenerator) {
        fc1 = Linear(features, hidden, generator: &generator)
        fc2 = Linear(hidden, features, generator: &generator)
        layers = Sequential(named: [("fc1", fc1), ("gelu", GELU()), ("fc2", fc2)])
    }

    override public var children: [(name: String, module: Module<Scalar>)] { layers.children }

    override public func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> { layers.forward(x) }
    override public func backward(_ g: Tensor<Scalar>) -> Tensor<Scalar> { layers.backward(g) }

    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        layers.forwardTangent(x, xDot)
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        layers.backwardTangent(g, gDot)
    }
}
