import TerrainTensor

/// [N, d1, d2, …] → [N, d1·d2·…]; backward restores the shape.
public final class Flatten<Scalar: TensorScalar>: Module<Scalar> {
    private var inputShape: [Int] = []

    override public init() {}

    override public func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        inputShape = x.shape
        return x.reshaped([x.shape[0], -1])
    }

    override public func backward(_ gy: Tensor<Scalar>) -> Tensor<Scalar> { gy.reshaped(inputShape) }

    /// Linear: the tangent goes through the same operation.
    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        (forward(x), xDot.map { forward($0) })
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        (backward(g), gDot.map { backward($0) })
    }
}

/// Inverted dropout: in training, each element is zeroed with probability p and the survivors
/// scaled by 1/(1−p); in evaluation the layer is the identity. The mask stream is seeded.
public final class Dropout<Scalar: TensorScalar>: Module<Scalar> {
    public let probability: Double
    private var generator: SeededGenerator
    private var mask: Tensor<Scalar>?

    public init(_ probability: Double = 0.5, seed: UInt64 = 0) {
        precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1)")
        self.probability = probability
        generator = SeededGenerator(seed: seed)
    }

    override public func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        guard isTraining && probability > 0 else { mask = nil; return x }
        var m = Tensor<Scalar>(uninitializedShape: x.shape)
        let keep = Scalar(1 / (1 - probability))
        let p = m.mutablePointer()
        for i in 0..<m.count { p[i] = generator.nextUniform() < probability ? 0 : keep }
        mask = m
        return Backends.current.multiply(x, m)
    }

    override public func backward(_ gy: Tensor<Scalar>) -> Tensor<Scalar> {
        guard let mask else { return gy }
        return Backends.current.multiply(gy, mask)
    }

    /// Linear for a given mask (the identity in evaluation mode): the tangent is masked like x.
    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        let y = forward(x)
        guard let xDot else { return (y, nil) }
        return (y, mask.map { Backends.current.multiply(xDot, $0) } ?? xDot)
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        (backward(g), gDot.map { backward($0) })
    }

    override public func forgetRecordedState() { mask = nil }
}
