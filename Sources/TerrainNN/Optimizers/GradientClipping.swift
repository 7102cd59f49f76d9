import TerrainTensor

/// Gradient clipping before an optimizer step, with the semantics of PyTorch's
/// `torch.nn.utils.clip_grad_norm_` and `torch.nn.utils.clip_grad_value_`.
///
/// Both act on the gradients of the trainable parameters that have one (each parameter once),
/// in place, and leave buffers and parameters without a gradient alone.
public enum GradientClipping {
    /// PyTorch's guard in the clipping coefficient: max / (‖g‖ + 10⁻⁶).
    public static let normEpsilon = 1e-6

    /// Scales all gradients together so that their global L2 norm is at most `maxNorm`:
    ///
    ///     n_i = ‖g_i‖₂ per tensor,  N = ‖(n_1, …, n_k)‖₂
    ///     c = min(maxNorm / (N + 10⁻⁶), 1)
    ///     g_i ← c·g_i            (for every i, also when c = 1, as PyTorch does)
    ///
    /// The norms are computed as PyTorch computes them: one per tensor, rounded to `Scalar`, then
    /// the norm of those; c is formed in `Scalar`. A non-finite N gives a non-finite or zero c, as
    /// in PyTorch with `error_if_nonfinite=False` (training then stops on the non-finite loss).
    ///
    /// - Returns: N, the total norm before clipping (what PyTorch returns).
    @discardableResult
    public static func clipNorm<Scalar: TensorScalar>(_ parameters: [Parameter<Scalar>], maxNorm: Double) -> Double {
        precondition(maxNorm > 0, "clipNorm: max norm \(maxNorm) must be positive")
        let clipped = withGradients(parameters)
        var squaredNorms = Scalar(0)
        for p in clipped {
            let n = tensorNorm(p.gradient!)
            squaredNorms += n * n
        }
        let total = squaredNorms.squareRoot()
        let coefficient = min(Scalar(maxNorm) / (total + Scalar(normEpsilon)), 1)
        for p in clipped {
            let g = p.gradient!.mutablePointer()
            for i in 0..<p.gradient!.count { g[i] = g[i] * coefficient }
        }
        return Double(total)
    }

    /// Clamps every gradient element to [−clipValue, clipValue] (NaN stays NaN, as `clamp_` keeps it).
    public static func clipValue<Scalar: TensorScalar>(_ parameters: [Parameter<Scalar>], clipValue: Double) {
        precondition(clipValue > 0, "clipValue: bound \(clipValue) must be positive")
        let high = Scalar(clipValue), low = -high
        for p in withGradients(parameters) {
            let g = p.gradient!.mutablePointer()
            for i in 0..<p.gradient!.count where g[i] > high || g[i] < low { g[i] = g[i] > high ? high : low }
        }
    }

    /// Trainable parameters with a gradient, each once, in order.
    private static func withGradients<Scalar>(_ parameters: [Parameter<Scalar>]) -> [Parameter<Scalar>] {
        var seen = Set<ObjectIdentifier>()
        return parameters.filter { $0.isTrainable && $0.gradient != nil && seen.insert(ObjectIdentifier($0)).inserted }
    }

    /// ‖g‖₂ accumulated in Double and rounded once to `Scalar`, as PyTorch's float32 norm
    /// accumulates in higher precision.
    private static func tensorNorm<Scalar: TensorScalar>(_ g: Tensor<Scalar>) -> Scalar {
        let x = g.pointer
        var sum = 0.0
        for i in 0..<g.count {
            let v = Double(x[i])
            sum += v * v
        }
        return Scalar(sum.squareRoot())
    }
}
