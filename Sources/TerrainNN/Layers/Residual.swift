import TerrainTensor

/// y = post(body(x) + shortcut(x)): a residual block.
///
/// `shortcut` nil means the identity; `hasShortcut == false` drops the addition altogether
/// (the "no shortcut" networks of Li et al. 2018, whose landscapes turn chaotic with depth).
/// The body's children appear directly under this block in parameter names
/// (`layer1.0.conv1.weight`, `layer1.0.shortcut.0.weight`), as in PyTorch's BasicBlock.
public final class Residual<Scalar: TensorScalar>: Module<Scalar> {
    public let body: Sequential<Scalar>
    public let shortcut: Module<Scalar>?
    public let hasShortcut: Bool
    public let post: Module<Scalar>?

    public init(body: Sequential<Scalar>, shortcut: Module<Scalar>? = nil, hasShortcut: Bool = true,
                post: Module<Scalar>? = nil) {
        self.body = body
        self.shortcut = shortcut
        self.hasShortcut = hasShortcut
        self.post = post
    }

    override public var children: [(name: String, module: Module<Scalar>)] {
        var list = body.children
        if hasShortcut, let shortcut { list.append(("shortcut", shortcut)) }
        if let post { list.append(("post", post)) }
        return list
    }

    override public func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        var y = body.forward(x)
        if hasShortcut {
            y = Backends.current.add(y, shortcut?.forward(x) ?? x)
        }
        return post?.forward(y) ?? y
    }

    override public func backward(_ gradient: Tensor<Scalar>) -> Tensor<Scalar> {
        let g = post?.backward(gradient) ?? gradient
        var gx = body.backward(g)
        if hasShortcut {
            gx = Backends.current.add(gx, shortcut?.backward(g) ?? g)
        }
        return gx
    }

    /// Tangents compose: ẏ = post′·(body′·ẋ + shortcut′·ẋ), and backward likewise.
    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        var state = body.forwardTangent(x, xDot)
        if hasShortcut {
            let side = shortcut?.forwardTangent(x, xDot) ?? (y: x, yDot: xDot)
            state = (Backends.current.add(state.y, side.y), addTangents(state.yDot, side.yDot))
        }
        return post?.forwardTangent(state.y, state.yDot) ?? state
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        let gy = post?.backwardTangent(g, gDot) ?? (gx: g, gxDot: gDot)
        var state = body.backwardTangent(gy.gx, gy.gxDot)
        if hasShortcut {
            let side = shortcut?.backwardTangent(gy.gx, gy.gxDot) ?? gy
            state = (Backends.current.add(state.gx, side.gx), addTangents(state.gxDot, side.gxDot))
        }
        return state
    }
}

/// y = concat(x, body(x)) along channels: DenseNet's layer.
public final class DenseConcat<Scalar: TensorScalar>: Module<Scalar> {
    public let body: Sequential<Scalar>
    private var sizes: [Int] = []

    public init(body: Sequential<Scalar>) { self.body = body }

    override public var children: [(name: String, module: Module<Scalar>)] { body.children }

    override public func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let y = body.forward(x)
        sizes = [x.shape[1], y.shape[1]]
        return Backends.current.concatFeatures([x, y])
    }

    override public func backward(_ gradient: Tensor<Scalar>) -> Tensor<Scalar> {
        let parts = Backends.current.splitFeatures(gradient, sizes: sizes)
        return Backends.current.add(parts[0], body.backward(parts[1]))
    }

    /// Tangents are concatenated like values (a zero tangent on one side is materialized).
    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        let inner = body.forwardTangent(x, xDot)
        sizes = [x.shape[1], inner.y.shape[1]]
        let backend = Backends.current
        let y = backend.concatFeatures([x, inner.y])
        guard xDot != nil || inner.yDot != nil else { return (y, nil) }
        return (y, backend.concatFeatures([xDot ?? Tensor(zeros: x.shape), inner.yDot ?? Tensor(zeros: inner.y.shape)]))
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        let backend = Backends.current
        let parts = backend.splitFeatures(g, sizes: sizes)
        let dotParts = gDot.map { backend.splitFeatures($0, sizes: sizes) }
        let inner = body.backwardTangent(parts[1], dotParts?[1])
        return (backend.add(parts[0], inner.gx), addTangents(dotParts?[0], inner.gxDot))
    }
}
