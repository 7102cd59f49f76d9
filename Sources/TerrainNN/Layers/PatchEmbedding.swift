import TerrainTensor

/// A vision transformer's patch embedding: images [B, C, H, W] cut into P×P patches, each mapped
/// linearly to E features, as a sequence [B, (H/P)·(W/P), E] of patches in row-major order.
///
/// It is a convolution with kernel = stride = P (`proj`, PyTorch's `nn.Conv2d(C, E, P, stride=P)`,
/// parameters `proj.weight` [E, C, P, P] and `proj.bias` [E]) followed by
/// `flatten(2).transpose(1, 2)`, exactly as timm's and torchvision's ViTs write it. H and W must
/// be multiples of P (checked by `ModelSpec.validate` before a build). No class token: the zoo's
/// ViT pools the sequence by its mean (`SequenceMeanPool`).
///
/// The reshaping is linear and the convolution bilinear in (x, W), so every pass is the
/// convolution's pass between the two reshapings (see `Conv2d` for the formulas).
public final class PatchEmbedding<Scalar: TensorScalar>: Module<Scalar> {
    public let proj: Conv2d<Scalar>
    private var gridShape: [Int] = []

    public init(channels: Int, features: Int, patch: Int, generator: inout SeededGenerator) {
        proj = Conv2d(channels, features, kernel: patch, stride: patch, generator: &generator)
    }

    public var patch: Int { proj.geometry.kernel.height }
    public var features: Int { proj.outChannels }

    override public var children: [(name: String, module: Module<Scalar>)] { [("proj", proj)] }

    /// [B, E, h, w] → [B, h·w, E].
    private func toSequence(_ y: Tensor<Scalar>) -> Tensor<Scalar> {
        gridShape = y.shape
        return Backends.current.transpose(y.reshaped([y.shape[0], y.shape[1], y.shape[2] * y.shape[3]]), permutation: [0, 2, 1])
    }

    /// [B, h·w, E] → [B, E, h, w], the adjoint of `toSequence`.
    private func toGrid(_ g: Tensor<Scalar>) -> Tensor<Scalar> {
        Backends.current.transpose(g, permutation: [0, 2, 1]).reshaped(gridShape)
    }

    override public func forward(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(x.rank == 4 && x.shape[2] % patch == 0 && x.shape[3] % patch == 0,
                     "PatchEmbedding(\(patch)) expects [B, C, H, W] with H and W multiples of \(patch), got \(x.shape)")
        return toSequence(proj.forward(x))
    }

    override public func backward(_ g: Tensor<Scalar>) -> Tensor<Scalar> { proj.backward(toGrid(g)) }

    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        let (y, yDot) = proj.forwardTangent(x, xDot)
        let sequence = toSequence(y)
        return (sequence, yDot.map(toSequence))
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        proj.backwardTangent(toGrid(g), gDot.map(toGrid))
    }
}
