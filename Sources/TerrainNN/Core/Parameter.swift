import TerrainTensor

/// One named tensor of a module: a trainable parameter or a buffer (running statistics).
///
/// A reference type: layers, optimizers and the flat-vector views all see the same storage.
public final class Parameter<Scalar: TensorScalar> {
    /// The name inside its module ("weight", "running_mean"), as PyTorch spells it.
    public let name: String
    public let role: ParameterRole
    public var value: Tensor<Scalar>
    /// dLoss/dValue, accumulated by backward passes; nil for buffers and before any backward.
    public var gradient: Tensor<Scalar>?
    /// This parameter's slice of the direction v of a Hessian-vector product (θ̇ = v); nil means
    /// zero. Buffers never carry one: a Hessian is taken with respect to trainable values only.
    public var tangent: Tensor<Scalar>?
    /// R{∂L/∂θ} = the directional derivative of the gradient along v, i.e. this parameter's slice
    /// of H·v, accumulated by `backwardTangent` passes; nil before any (and for buffers).
    public var curvature: Tensor<Scalar>?

    public init(_ name: String, role: ParameterRole, value: Tensor<Scalar>) {
        self.name = name
        self.role = role
        self.value = value
    }

    public var shape: [Int] { value.shape }
    public var isTrainable: Bool { role.isTrainable }

    /// Adds `g` to the gradient (the first contribution is stored as is).
    public func accumulateGradient(_ g: Tensor<Scalar>) {
        accumulate(g, into: &gradient, "gradient")
    }

    /// Adds `c` to the curvature R{∂L/∂θ} (the first contribution is stored as is).
    public func accumulateCurvature(_ c: Tensor<Scalar>) {
        accumulate(c, into: &curvature, "curvature")
    }

    /// sum += contribution, or sum = contribution while sum is nil (no copy, no add to zeros):
    /// how gradients and curvatures collect a contribution per use of the parameter.
    private func accumulate(_ contribution: Tensor<Scalar>, into sum: inout Tensor<Scalar>?, _ what: String) {
        precondition(contribution.shape == value.shape,
                     "\(what) \(contribution.shape) for parameter \(name) of shape \(value.shape)")
        if sum == nil {
            sum = contribution
        } else {
            Backends.current.axpy(1, contribution, into: &sum!)
        }
    }
}
