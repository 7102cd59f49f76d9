import TerrainTensor

/// Sharpness-aware minimization (Foret et al., "Sharpness-Aware Minimization for Efficiently
/// Improving Generalization", ICLR 2021), wrapping a base optimizer.
///
/// SAM minimizes max_{‖e‖ ≤ ρ} L(w + e) with a first-order approximation of the inner
/// maximization. One step on a batch:
///
///     g = ∇L(w)                                   first forward/backward pass
///     e = ρ · g / (‖g‖ + 10⁻¹²)                   SAM
///     e = ρ · w² ⊙ g / (‖|w| ⊙ g‖ + 10⁻¹²)        adaptive SAM (ASAM, Kwon et al. 2021)
///     g' = ∇L(w + e)                              second pass on the same batch
///     w ← base optimizer step from w with gradient g'
///
/// ‖·‖ is the global L2 norm over all trainable parameters that have a gradient; the 10⁻¹²
/// guard (as in the authors' reference code) keeps a zero gradient from producing NaNs.
/// Parameters without a gradient in the first pass are not perturbed. The weights are restored
/// exactly (from a copy, not by subtracting e) before the base step, so the base optimizer's
/// weight decay and momentum act at w.
///
/// `step(_:)` alone (the `Optimizer` requirement) cannot run a second pass: it forwards to the
/// base optimizer, i.e. it is plain base optimization. Use `step(_:computeGradients:)`.
public final class SAM<Base: Optimizer>: Optimizer {
    public typealias Scalar = Base.Scalar

    public let base: Base
    /// Radius of the neighbourhood, ρ.
    public var rho: Double
    /// Scale-invariant (adaptive) SAM: the perturbation is scaled elementwise by |w|.
    public var adaptive: Bool

    public init(base: Base, rho: Double = 0.05, adaptive: Bool = false) {
        precondition(rho >= 0, "SAM: rho \(rho) is negative")
        self.base = base
        self.rho = rho
        self.adaptive = adaptive
    }

    /// The base optimizer's learning rate.
    public var learningRate: Double {
        get { base.learningRate }
        set { base.learningRate = newValue }
    }

    /// The base optimizer's state (SAM itself keeps none between steps).
    public func state(of parameters: [(name: String, parameter: Parameter<Scalar>)]) -> OptimizerState<Scalar> {
        base.state(of: parameters)
    }

    public func restore(_ state: OptimizerState<Scalar>, into parameters: [(name: String, parameter: Parameter<Scalar>)]) throws {
        try base.restore(state, into: parameters)
    }

    /// A single-pass step: plain base optimization with the gradients already present.
    public func step(_ parameters: [Parameter<Scalar>]) {
        base.step(parameters)
    }

    /// One SAM step: two forward/backward passes on the same batch, then the base step.
    ///
    /// - Parameter computeGradients: zeroes the gradients, runs forward and backward on the
    ///   batch, and returns the loss. SAM calls it twice: at w, then at w + e.
    /// - Returns: the loss of the first (unperturbed) pass.
    @discardableResult
    public func step(_ parameters: [Parameter<Scalar>], computeGradients: () -> Double) -> Double {
        let loss = computeGradients()
        let perturbed = parametersToUpdate(parameters)
        var normSquared = 0.0
        for (p, g) in perturbed {
            normSquared += adaptive ? samScaledSquaredNorm(p.value.pointer, g.pointer, count: g.count)
                                    : Backends.current.dot(g, g)
        }
        let scale = rho / (normSquared.squareRoot() + 1e-12)
        var saved: [Tensor<Scalar>] = []
        saved.reserveCapacity(perturbed.count)
        for (p, g) in perturbed {
            saved.append(p.value)  // copy-on-write: the perturbation below writes to fresh storage
            if adaptive {
                samAdaptivePerturb(p.value.mutablePointer(), g.pointer, count: g.count, scale: scale)
            } else {
                Backends.current.axpy(Scalar(scale), g, into: &p.value)
            }
        }
        _ = computeGradients()
        for ((p, _), original) in zip(perturbed, saved) { p.value = original }
        base.step(parameters)
        return loss
    }

    /// One SAM step on all trainable parameters of `model`.
    @discardableResult
    public func step(_ model: Module<Scalar>, computeGradients: () -> Double) -> Double {
        step(model.trainableParameters, computeGradients: computeGradients)
    }
}

/// Σ (wᵢ·gᵢ)², accumulated in Double.
@_specialize(where T == Float) @_specialize(where T == Double)
func samScaledSquaredNorm<T: TensorScalar>(_ w: UnsafePointer<T>, _ g: UnsafePointer<T>, count: Int) -> Double {
    var sum = 0.0
    for i in 0..<count {
        let x = Double(w[i]) * Double(g[i])
        sum += x * x
    }
    return sum
}

/// w ← w + scale·w²·g.
@_specialize(where T == Float) @_specialize(where T == Double)
func samAdaptivePerturb<T: TensorScalar>(_ w: UnsafeMutablePointer<T>, _ g: UnsafePointer<T>, count: Int, scale: Double) {
    let s = T(scale)
    for i in 0..<count { w[i] = w[i] + w[i] * w[i] * g[i] * s }
}
