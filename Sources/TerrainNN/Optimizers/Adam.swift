import Foundation
import TerrainTensor

/// Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019), with the semantics of
/// `torch.optim.Adam` and `torch.optim.AdamW`.
///
/// For each trainable parameter p with gradient ∇, with learning rate η, β₁, β₂, ε and weight
/// decay λ, and t the number of steps this parameter has taken (counting this one):
///
///     Adam (coupled L2):          g = ∇ + λ·p
///     AdamW (decoupled):          p = p·(1 − η·λ);  g = ∇
///     m = β₁·m + (1 − β₁)·g
///     v = β₂·v + (1 − β₂)·g²
///     m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
///     p = p − η·m̂ / (√v̂ + ε)
///
/// m and v start at zero. The step counter t is kept per parameter, as PyTorch keeps it: a
/// parameter skipped in a step (no gradient) does not advance its own bias correction. When
/// every parameter has a gradient at every step, t is simply the optimizer's step count.
///
/// AdamW: `Adam(…, decoupled: true)`, or the factory `Adam.adamW(…)` (AdamW.swift), whose
/// defaults are `torch.optim.AdamW`'s. λ applies to the parameters `decayScope` selects by role
/// (all of them by default, as PyTorch with one parameter group); the others take λ = 0.
public final class Adam<Scalar: TensorScalar>: Optimizer {
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public var weightDecay: Double
    /// True: AdamW's decoupled weight decay, p ← p·(1 − η·λ) before the Adam step. False: L2
    /// regularization, λ·p added to the gradient.
    public var decoupled: Bool
    /// Which parameters weight decay applies to (by role); the others update with λ = 0.
    public var decayScope: WeightDecayScope

    /// Calls of `step(_:)` so far.
    public private(set) var stepCount = 0

    private final class State {
        var step = 0
        var firstMoment: Tensor<Scalar>
        var secondMoment: Tensor<Scalar>
        init(shape: [Int]) {
            firstMoment = Tensor(zeros: shape)
            secondMoment = Tensor(zeros: shape)
        }
    }

    private var states = ParameterStateTable<Scalar, State>()

    /// - Precondition: η ≥ 0, ε ≥ 0, λ ≥ 0 and 0 ≤ β₁, β₂ < 1.
    public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
                weightDecay: Double = 0, decoupled: Bool = false, decayScope: WeightDecayScope = .all) {
        precondition(learningRate >= 0, "Adam: learning rate \(learningRate) is negative")
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2), "Adam: betas (\(beta1), \(beta2)) must lie in [0, 1)")
        precondition(epsilon >= 0, "Adam: epsilon \(epsilon) is negative")
        precondition(weightDecay >= 0, "Adam: weight decay \(weightDecay) is negative")
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupled = decoupled
        self.decayScope = decayScope
    }

    public func step(_ parameters: [Parameter<Scalar>]) {
        stepCount += 1
        for (p, g) in parametersToUpdate(parameters) {
            let state = states.state(for: p) { State(shape: p.shape) }
            state.step += 1
            let t = Double(state.step)
            // Scalars computed in Double, as PyTorch computes them in Python floats.
            let biasCorrection1 = 1 - pow(beta1, t)
            let biasCorrection2 = 1 - pow(beta2, t)
            let weightDecay = decayScope.weightDecay(self.weightDecay, for: p.role)
            adamUpdate(p.value.mutablePointer(), gradient: g.pointer,
                       m: state.firstMoment.mutablePointer(), v: state.secondMoment.mutablePointer(),
                       count: p.value.count,
                       coefficients: AdamCoefficients(
                           decayFactor: decoupled ? 1 - learningRate * weightDecay : 1,
                           l2: decoupled ? 0 : weightDecay,
                           oneMinusBeta1: 1 - beta1, beta2: beta2, oneMinusBeta2: 1 - beta2,
                           biasCorrection2Sqrt: pow(biasCorrection2, 0.5), epsilon: epsilon,
                           negativeStepSize: -(learningRate / biasCorrection1)),
                       decay: weightDecay != 0)
        }
    }

    /// The step count of `parameter` and its moment estimates (m, v), nil before its first step.
    public func moments(of parameter: Parameter<Scalar>) -> (step: Int, m: Tensor<Scalar>, v: Tensor<Scalar>)? {
        states.existingState(for: parameter).map { ($0.step, $0.firstMoment, $0.secondMoment) }
    }

    /// PyTorch's slots: `exp_avg` (m), `exp_avg_sq` (v) and `step` per parameter, and the
    /// optimizer's own count of `step(_:)` calls as counter `step`.
    public func state(of parameters: [(name: String, parameter: Parameter<Scalar>)]) -> OptimizerState<Scalar> {
        var result = OptimizerState<Scalar>(counters: ["step": stepCount])
        for (name, p) in parameters {
            guard let s = states.existingState(for: p) else { continue }
            result.tensors[OptimizerState<Scalar>.key("exp_avg", name)] = s.firstMoment
            result.tensors[OptimizerState<Scalar>.key("exp_avg_sq", name)] = s.secondMoment
            result.counters[OptimizerState<Scalar>.key("step", name)] = s.step
        }
        return result
    }

    public func restore(_ state: OptimizerState<Scalar>, into parameters: [(name: String, parameter: Parameter<Scalar>)]) throws {
        try state.checkKeys(slots: ["exp_avg", "exp_avg_sq"], counterSlots: ["step"], names: Set(parameters.map(\.name)))
        var restored = ParameterStateTable<Scalar, State>()
        for (name, p) in parameters {
            let m = try state.tensor("exp_avg", of: name, shape: p.shape)
            let v = try state.tensor("exp_avg_sq", of: name, shape: p.shape)
            let step = state.counters[OptimizerState<Scalar>.key("step", name)]
            guard let m, let v, let step else {
                guard m == nil && v == nil && step == nil else { throw OptimizerStateError("\(name) has only part of Adam's state") }
                continue
            }
            guard step > 0 else { throw OptimizerStateError("step of \(name) is \(step)") }
            let s = State(shape: p.shape)
            // Tensors are values (copy on write): later steps leave `state` untouched.
            s.firstMoment = m
            s.secondMoment = v
            s.step = step
            restored.set(s, for: p)
        }
        states = restored
        stepCount = state.counters["step"] ?? 0
    }

    /// Forgets all moment estimates and step counts.
    public func resetState() {
        states.removeAll()
        stepCount = 0
    }
}

struct AdamCoefficients {
    var decayFactor: Double
    var l2: Double
    var oneMinusBeta1: Double
    var beta2: Double
    var oneMinusBeta2: Double
    var biasCorrection2Sqrt: Double
    var epsilon: Double
    var negativeStepSize: Double
}

/// One Adam step on one tensor, in PyTorch's operation order:
/// m.lerp_(g, 1−β₁); v.mul_(β₂).addcmul_(g, g, 1−β₂); p.addcdiv_(m, √v/√bc₂ + ε, −η/bc₁).
@_specialize(where T == Float) @_specialize(where T == Double)
func adamUpdate<T: TensorScalar>(_ p: UnsafeMutablePointer<T>, gradient: UnsafePointer<T>,
                                 m: UnsafeMutablePointer<T>, v: UnsafeMutablePointer<T>,
                                 count: Int, coefficients c: AdamCoefficients, decay: Bool) {
    let decayFactor = T(c.decayFactor), l2 = T(c.l2)
    let w = T(c.oneMinusBeta1), oneMinusW = 1 - w, smallWeight = abs(c.oneMinusBeta1) < 0.5
    let b2 = T(c.beta2), oneMinusB2 = T(c.oneMinusBeta2)
    let bc2Sqrt = T(c.biasCorrection2Sqrt), eps = T(c.epsilon), negStep = T(c.negativeStepSize)
    let coupled = decay && c.l2 != 0, decoupled = decay && c.decayFactor != 1
    let fused = fusesMultiplyAdd(T.self)
    for i in 0..<count {
        var g = gradient[i]
        if decoupled { p[i] = p[i] * decayFactor }
        if coupled { g = multiplyAdd(g, l2, p[i], fused: fused) }
        // lerp as PyTorch evaluates it: accurate form for small and for large weights.
        m[i] = smallWeight ? multiplyAdd(m[i], w, g - m[i], fused: fused) : multiplyAdd(g, -(g - m[i]), oneMinusW, fused: fused)
        v[i] = multiplyAdd(v[i] * b2, oneMinusB2 * g, g, fused: fused)
        let denominator = v[i].squareRoot() / bc2Sqrt + eps
        p[i] = p[i] + negStep * m[i] / denominator
    }
}
