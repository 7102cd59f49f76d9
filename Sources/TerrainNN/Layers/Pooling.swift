import TerrainTensor

/// Maximum over k×k windows; backward routes each gradient to its window's arg-max.
///
/// Linear at a fixed arg-max: the tangent ẏ takes ẋ at each window's recorded arg-max, and
/// R{dx} routes ġ like dx.
public final class MaxPool2d<Scalar: TensorScalar>: Module<Scalar> {
    public let geometry: Pool2dGeometry
    private var inputShape: [Int] = []
    private var argmax: [Int32] = []

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        geometry = Pool2dGeometry(kernel: kernel, stride: stride ?? kernel, padding: padding)
    }

    override public func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let (y, indices) = Backends.current.maxPool2d(x, geometry: geometry)
        if isRecording { inputShape = x.shape; argmax = indices }
        return y
    }

    override public func backward(_ gy: Tensor<Scalar>) -> Tensor<Scalar> {
        Backends.current.maxPool2dBackward(gradient: gy, argmax: argmax, inputShape: inputShape)
    }

    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        requireRecordingForTangents()
        let y = forward(x)
        return (y, xDot.map { Backends.current.maxPool2dTangent($0, argmax: argmax, outputShape: y.shape) })
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        (backward(g), gDot.map { backward($0) })
    }

    override public func forgetRecordedState() { argmax = [] }
}

/// Mean over k×k windows (padding counts in the divisor, as in PyTorch).
public final class AvgPool2d<Scalar: TensorScalar>: Module<Scalar> {
    public let geometry: Pool2dGeometry
    private var inputShape: [Int] = []

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        geometry = Pool2dGeometry(kernel: kernel, stride: stride ?? kernel, padding: padding)
    }

    override public func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        inputShape = x.shape
        return Backends.current.avgPool2d(x, geometry: geometry)
    }

    override public func backward(_ gy: Tensor<Scalar>) -> Tensor<Scalar> {
        Backends.current.avgPool2dBackward(gradient: gy, inputShape: inputShape, geometry: geometry)
    }

    /// Linear: the tangent goes through the same operation.
    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        (forward(x), xDot.map { forward($0) })
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        (backward(g), gDot.map { backward($0) })
    }
}

/// Mean over all spatial positions: [N, C, H, W] → [N, C].
public final class GlobalAvgPool<Scalar: TensorScalar>: Module<Scalar> {
    private var inputShape: [Int] = []

    override public init() {}

    override public func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(x.rank == 4, "GlobalAvgPool expects [N, C, H, W], got \(x.shape)")
        inputShape = x.shape
        let g = Pool2dGeometry(kernel: (x.shape[2], x.shape[3]), stride: (1, 1), padding: (0, 0))
        return Backends.current.avgPool2d(x, geometry: g).reshaped([x.shape[0], x.shape[1]])
    }

    override public func backward(_ gy: Tensor<Scalar>) -> Tensor<Scalar> {
        let g = Pool2dGeometry(kernel: (inputShape[2], inputShape[3]), stride: (1, 1), padding: (0, 0))
        return Backends.current.avgPool2dBackward(gradient: gy.reshaped([inputShape[0], inputShape[1], 1, 1]),
                                                  inputShape: inputShape, geometry: g)
    }

    /// Linear: the tangent goes through the same operation.
    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        (forward(x), xDot.map { forward($0) })
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        (backward(g), gDot.map { backward($0) })
    }
}

/// The mean over a sequence's positions: [B, T, E] → [B, E] (a ViT's pooling when it has no
/// class token). Linear: ∂L/∂x[b, t] = g[b]/T, tangents go through the same operations.
public final class SequenceMeanPool<Scalar: TensorScalar>: Module<Scalar> {
    private var inputShape: [Int] = []

    override public init() {}

    override public func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(x.rank == 3 && x.shape[1] > 0, "SequenceMeanPool expects [B, T, E], got \(x.shape)")
        inputShape = x.shape
        var y = Backends.current.sum(x, toShape: [x.shape[0], 1, x.shape[2]])
        Backends.current.scale(&y, by: 1 / Scalar(x.shape[1]))
        return y.reshaped([x.shape[0], x.shape[2]])
    }

    override public func backward(_ g: Tensor<Scalar>) -> Tensor<Scalar> {
        var share = g.reshaped([inputShape[0], 1, inputShape[2]])
        Backends.current.scale(&share, by: 1 / Scalar(inputShape[1]))
        return Backends.current.broadcast(.add, Tensor(zeros: inputShape), share)
    }

    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        (forward(x), xDot.map { forward($0) })
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        (backward(g), gDot.map { backward($0) })
    }
}
