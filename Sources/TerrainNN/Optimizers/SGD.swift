import TerrainTensor

/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay,
/// with the semantics of `torch.optim.SGD`.
///
/// For each trainable parameter p with gradient ∇, with learning rate η, momentum μ, dampening
/// τ and weight decay λ:
///
///     g = ∇ + λ·p
///     if μ ≠ 0:
///         b = g                       on the parameter's first step
///         b = μ·b + (1 − τ)·g         afterwards
///         g = g + μ·b   (Nesterov)    or   g = b
///     p = p − η·g
///
/// Note that the learning rate multiplies the momentum buffer at each step (PyTorch's form,
/// not Sutskever et al.'s b = μ·b − η·g), so changing η rescales the whole step at once.
/// λ applies to the parameters `decayScope` selects by role; the others take λ = 0.
public final class SGD<Scalar: TensorScalar>: Optimizer {
    public var learningRate: Double
    public var momentum: Double
    public var nesterov: Bool
    public var weightDecay: Double
    public var dampening: Double
    /// Which parameters weight decay applies to (by role).
    public var decayScope: WeightDecayScope

    private final class State {
        var buffer: Tensor<Scalar>?
    }

    private var states = ParameterStateTable<Scalar, State>()

    /// - Precondition: learning rate, momentum and weight decay are non-negative; Nesterov
    ///   momentum needs μ > 0 and zero dampening (as in PyTorch).
    public init(learningRate: Double, momentum: Double = 0, nesterov: Bool = false,
                weightDecay: Double = 0, dampening: Double = 0, decayScope: WeightDecayScope = .all) {
        precondition(learningRate >= 0, "SGD: learning rate \(learningRate) is negative")
        precondition(momentum >= 0, "SGD: momentum \(momentum) is negative")
        precondition(weightDecay >= 0, "SGD: weight decay \(weightDecay) is negative")
        precondition(!nesterov || (momentum > 0 && dampening == 0),
                     "SGD: Nesterov momentum needs momentum > 0 and zero dampening")
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.dampening = dampening
        self.decayScope = decayScope
    }

    public func step(_ parameters: [Parameter<Scalar>]) {
        for (p, g) in parametersToUpdate(parameters) {
            let count = p.value.count
            let values = p.value.mutablePointer()
            let weightDecay = decayScope.weightDecay(self.weightDecay, for: p.role)
            guard momentum != 0 else {
                sgdUpdate(values, gradient: g.pointer, buffer: nil, count: count, learningRate: learningRate,
                          momentum: 0, dampening: dampening, weightDecay: weightDecay, nesterov: false, firstStep: false)
                continue
            }
            let state = states.state(for: p) { State() }
            let first = state.buffer == nil
            if first { state.buffer = Tensor(uninitializedShape: p.shape) }
            sgdUpdate(values, gradient: g.pointer, buffer: state.buffer!.mutablePointer(), count: count,
                      learningRate: learningRate, momentum: momentum, dampening: dampening,
                      weightDecay: weightDecay, nesterov: nesterov, firstStep: first)
        }
    }

    /// The momentum buffer of `parameter`, nil before its first step with momentum.
    public func momentumBuffer(of parameter: Parameter<Scalar>) -> Tensor<Scalar>? {
        states.existingState(for: parameter)?.buffer
    }

    /// PyTorch's slot: `momentum_buffer` per parameter that has taken a step with momentum.
    public func state(of parameters: [(name: String, parameter: Parameter<Scalar>)]) -> OptimizerState<Scalar> {
        var result = OptimizerState<Scalar>()
        for (name, p) in parameters {
            if let buffer = states.existingState(for: p)?.buffer {
                result.tensors[OptimizerState<Scalar>.key("momentum_buffer", name)] = buffer
            }
        }
        return result
    }

    public func restore(_ state: OptimizerState<Scalar>, into parameters: [(name: String, parameter: Parameter<Scalar>)]) throws {
        try state.checkKeys(slots: ["momentum_buffer"], counterSlots: [], names: Set(parameters.map(\.name)))
        var restored = ParameterStateTable<Scalar, State>()
        for (name, p) in parameters {
            guard let buffer = try state.tensor("momentum_buffer", of: name, shape: p.shape) else { continue }
            let s = State()
            s.buffer = buffer
            restored.set(s, for: p)
        }
        states = restored
    }

    /// Forgets all momentum buffers.
    public func resetState() { states.removeAll() }
}

@_specialize(where T == Float) @_specialize(where T == Double)
func sgdUpdate<T: TensorScalar>(_ p: UnsafeMutablePointer<T>, gradient: UnsafePointer<T>, buffer: UnsafeMutablePointer<T>?,
                                count: Int, learningRate: Double, momentum: Double, dampening: Double,
                                weightDecay: Double, nesterov: Bool, firstStep: Bool) {
    let negLR = T(-learningRate), wd = T(weightDecay), mu = T(momentum), keep = T(1 - dampening)
    let decay = weightDecay != 0, fused = fusesMultiplyAdd(T.self)
    if let b = buffer {
        for i in 0..<count {
            var g = gradient[i]
            if decay { g = multiplyAdd(g, wd, p[i], fused: fused) }
            b[i] = firstStep ? g : multiplyAdd(b[i] * mu, keep, g, fused: fused)
            g = nesterov ? multiplyAdd(g, mu, b[i], fused: fused) : b[i]
            p[i] = multiplyAdd(p[i], negLR, g, fused: fused)
        }
    } else {
        for i in 0..<count {
            var g = gradient[i]
            if decay { g = multiplyAdd(g, wd, p[i], fused: fused) }
            p[i] = multiplyAdd(p[i], negLR, g, fused: fused)
        }
    }
}
