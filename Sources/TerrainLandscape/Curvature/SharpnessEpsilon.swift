/// ε-sharpness (Keskar, Mudigere, Nocedal, Smelyanskiy and Tang 2017, "On Large-Batch Training for
/// Deep Learning: Generalization Gap and Sharp Minima", metric 2.1, full space, A = I).
///
/// Over the box of relative size ε around the trainable parameters θ,
///
///     C_ε = { δ : |δᵢ| ≤ ε·(|θᵢ| + 1) for every trainable scalar i }   (buffers never move),
///
/// the sharpness is
///
///     φ(θ, ε) = 100 · (max_{δ ∈ C_ε} L(θ + δ) − L(θ)) / (1 + L(θ)),
///
/// a percentage: how much the loss can be raised by the worst perturbation the box allows,
/// relative to 1 + the loss. Sharp minima have a large φ, flat ones a small φ.
///
/// The paper solves the inner maximization with L-BFGS-B. Here it is projected steepest ascent
/// in the box's own norm ‖δ‖ = maxᵢ |δᵢ|/wᵢ (wᵢ = ε(|θᵢ| + 1) the box's half-widths), whose
/// steepest-ascent step moves every coordinate by the same fraction of its half-width in the
/// direction of its partial derivative:
///
///     δ ← clamp(δ + η · w ⊙ sign(∇L(θ + δ)), −w, w),
///
/// starting at δ = 0, for a fixed number of steps (default 20, η = 0.25). Each step costs one
/// gradient (which also gives the loss at the current point), plus one loss at the end; the
/// largest loss seen is kept. Any point of the box gives a loss no larger than the maximum, so
/// the result is a **lower bound** of the true ε-sharpness (as is the paper's, L-BFGS-B being a
/// local method too); a coordinate whose partial derivative is exactly zero does not move (at an
/// exact stationary point the ascent stays put). No randomness: the same objective gives the same
/// bits.
public struct EpsilonSharpness: Sendable, Equatable {
    /// The box's relative size ε.
    public var epsilon: Double
    /// Ascent steps (gradients) taken.
    public var steps: Int
    /// η: each step's move as a fraction of the box's half-width.
    public var stepFraction: Double
    /// L(θ).
    public var loss: Double
    /// The largest loss found in the box: max over the ascent's points of L(θ + δ), a lower
    /// bound of max_{δ ∈ C_ε} L(θ + δ).
    public var maximumLoss: Double
    /// The perturbation δ that gave `maximumLoss`, laid out like the objective's parameters.
    public var perturbation: [Double]

    /// φ = 100 · (maximumLoss − loss) / (1 + loss).
    public var sharpness: Double { 100 * (maximumLoss - loss) / (1 + loss) }

    public init(epsilon: Double, steps: Int, stepFraction: Double, loss: Double, maximumLoss: Double, perturbation: [Double]) {
        self.epsilon = epsilon; self.steps = steps; self.stepFraction = stepFraction
        self.loss = loss; self.maximumLoss = maximumLoss; self.perturbation = perturbation
    }
}

extension Sharpness {
    /// The box's half-widths wᵢ = ε(|θᵢ| + 1) on the trainable scalars, 0 on buffers.
    public static func boxHalfWidths(_ theta: [Double], groups: [ParameterGroup], epsilon: Double) -> [Double] {
        var w = [Double](repeating: 0, count: theta.count)
        for group in groups where group.isTrainable {
            for i in group.range { w[i] = epsilon * (abs(theta[i]) + 1) }
        }
        return w
    }

    /// ε-sharpness of `objective` at its current parameters on `set` (see `EpsilonSharpness`).
    /// The objective's parameters are restored afterwards, whether or not it throws.
    /// `progress` is called with the number of steps done after each one.
    public static func epsilonSharpness(of objective: some DifferentiableObjective, on set: EvaluationSet = .train,
                                        epsilon: Double = 1e-3, steps: Int = 20, stepFraction: Double = 0.25,
                                        progress: ((Int) -> Void)? = nil) throws -> EpsilonSharpness {
        guard epsilon.isFinite, epsilon > 0 else {
            throw LandscapeError.invalidRequest("epsilon must be a positive number, not \(epsilon)")
        }
        guard steps >= 1 else { throw LandscapeError.invalidRequest("the ascent needs at least 1 step, not \(steps)") }
        guard stepFraction.isFinite, stepFraction > 0, stepFraction <= 2 else {
            throw LandscapeError.invalidRequest("the ascent's step fraction must be in (0, 2], not \(stepFraction)")
        }
        let theta = objective.parameters()
        defer { objective.setParameters(theta) }
        let w = boxHalfWidths(theta, groups: objective.groups, epsilon: epsilon)
        var delta = [Double](repeating: 0, count: theta.count)
        var point = theta
        var loss = 0.0
        var best = -Double.infinity
        var bestDelta = delta
        func consider(_ value: Double, _ at: [Double]) throws {
            guard value.isFinite else {
                throw LandscapeError.invalidRequest("the loss is \(value) inside the ε-box: the ε-sharpness is not defined")
            }
            if value > best { best = value; bestDelta = at }
        }
        for step in 0..<steps {
            objective.setParameters(point)
            let (value, gradient) = try objective.gradient(set)
            guard gradient.count == theta.count else {
                throw LandscapeError.invalidRequest("the gradient has \(gradient.count) values for \(theta.count) parameters")
            }
            if let bad = gradient.firstIndex(where: { !$0.isFinite }) {
                throw LandscapeError.invalidRequest("the gradient is \(gradient[bad]) (entry \(bad)) inside the ε-box")
            }
            if step == 0 {
                guard value.loss.isFinite else { throw LandscapeError.invalidRequest("the loss at the centre is \(value.loss)") }
                loss = value.loss
            }
            try consider(value.loss, delta)
            for i in delta.indices where w[i] > 0 && gradient[i] != 0 {
                let moved = delta[i] + stepFraction * w[i] * (gradient[i] > 0 ? 1 : -1)
                delta[i] = min(w[i], max(-w[i], moved))
                point[i] = theta[i] + delta[i]
            }
            progress?(step + 1)
        }
        objective.setParameters(point)
        try consider(try objective.evaluate(set).loss, delta)
        return EpsilonSharpness(epsilon: epsilon, steps: steps, stepFraction: stepFraction, loss: loss,
                                maximumLoss: best, perturbation: bestDelta)
    }
}
