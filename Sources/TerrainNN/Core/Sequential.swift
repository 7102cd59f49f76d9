import TerrainTensor

/// Modules applied one after another. Children are named "0", "1", … unless names are given,
/// matching `torch.nn.Sequential` (and modules with named attributes, e.g. `conv1`, `bn1`).
public final class Sequential<Scalar: TensorScalar>: Module<Scalar> {
    public private(set) var layers: [(name: String, module: Module<Scalar>)]

    public init(_ modules: [Module<Scalar>]) {
        layers = modules.enumerated().map { ("\($0.offset)", $0.element) }
    }

    public init(named modules: [(String, Module<Scalar>)]) {
        layers = modules.map { (name: $0.0, module: $0.1) }
    }

    public convenience init(_ modules: Module<Scalar>...) { self.init(modules) }

    override public var children: [(name: String, module: Module<Scalar>)] { layers }

    override public func forward(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        var x = input
        for layer in layers { x = layer.module.forward(x) }
        return x
    }

    override public func backward(_ gradient: Tensor<Scalar>) -> Tensor<Scalar> {
        var g = gradient
        for layer in layers.reversed() { g = layer.module.backward(g) }
        return g
    }

    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        var state = (y: x, yDot: xDot)
        for layer in layers { state = layer.module.forwardTangent(state.y, state.yDot) }
        return state
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        var state = (gx: g, gxDot: gDot)
        for layer in layers.reversed() { state = layer.module.backwardTangent(state.gx, state.gxDot) }
        return state
    }
}
