import TerrainTensor

/// Numbers that tell a sharp minimum from a flat one, so checkpoints can be compared without
/// drawing them:
///
/// - ε-sharpness (Keskar et al. 2017, "On Large-Batch Training for Deep Learning: Generalization
///   Gap and Sharp Minima"): the worst relative loss increase in a box of relative size ε,
///   `epsilonSharpness` (`EpsilonSharpness`);
/// - the average loss increase at radius r along random filter-normalized directions (Li et al.
///   2018, "Visualizing the Loss Landscape of Neural Nets"), `lossIncrease` (`LossIncrease`);
/// - the largest Hessian eigenvalue λmax, by Lanczos on exact Hessian-vector products,
///   `topEigenvalue` (`TopEigenvalue`), optional since it costs a product per step.
///
/// `report` computes all three on one evaluation set. Every function leaves the objective's
/// parameters as it found them.
public enum Sharpness {}

/// The largest eigenvalue of the Hessian of the loss (on the trainable parameters, or the weight
/// matrices alone), from `Lanczos.extremeEigenpairs(of: HessianOperator(…), top: 1, …)`.
public struct TopEigenvalue: Sendable, Equatable {
    /// λmax.
    public var value: Double
    /// Hessian-vector products computed.
    public var iterations: Int
    /// Whether the Lanczos residual reached the tolerance.
    public var converged: Bool
    /// The seed of Lanczos's start vector.
    public var seed: UInt64
    public var oneDimensional: OneDimensionalTensors

    public init(value: Double, iterations: Int, converged: Bool, seed: UInt64, oneDimensional: OneDimensionalTensors) {
        self.value = value; self.iterations = iterations; self.converged = converged; self.seed = seed; self.oneDimensional = oneDimensional
    }
}

extension Sharpness {
    /// λmax of the Hessian of `objective`'s loss on `set` at its current parameters. The
    /// parameters are restored afterwards (Hessian-vector products do not move them, but the
    /// objective is set back all the same).
    public static func topEigenvalue(of objective: some TwiceDifferentiableObjective, on set: EvaluationSet = .train,
                                     oneDimensional: OneDimensionalTensors = .included, maxIterations: Int = 100,
                                     tolerance: Double = 1e-3, seed: UInt64 = 123,
                                     progress: ((Int) -> Void)? = nil) throws -> TopEigenvalue {
        let theta = objective.parameters()
        defer { objective.setParameters(theta) }
        let op = HessianOperator(objective: objective, set: set, oneDimensional: oneDimensional)
        let result = try Lanczos.extremeEigenpairs(of: op, top: 1, maxIterations: maxIterations, tolerance: tolerance,
                                                   seed: seed, progress: progress)
        guard let value = result.top.first else {
            throw LandscapeError.invalidRequest("Lanczos found no eigenvalue")
        }
        return TopEigenvalue(value: value, iterations: result.iterations, converged: result.converged,
                             seed: seed, oneDimensional: oneDimensional)
    }
}

/// The settings of a `SharpnessReport`.
public struct SharpnessSettings: Sendable, Equatable {
    /// The set the loss is taken on.
    public var set: EvaluationSet = .train
    /// ε-sharpness: the box's relative size, the ascent's steps and each step's fraction of the box.
    public var epsilon: Double = 1e-3
    public var ascentSteps: Int = 20
    public var stepFraction: Double = 0.25
    /// Loss increase: the radius, the number of random directions and the first one's seed.
    public var radius: Double = 0.5
    public var directions: Int = 10
    public var seed: UInt64 = 123
    /// Whether to compute λmax, and how (Lanczos's start vector is drawn from `seed`).
    public var eigenvalue: Bool = false
    public var eigenvalueOneDimensional: OneDimensionalTensors = .included
    public var lanczosIterations: Int = 100
    public var lanczosTolerance: Double = 1e-3

    public init() {}
}

/// The three sharpness numbers of one set of parameters, with the settings that produced them.
public struct SharpnessReport: Sendable, Equatable {
    public var settings: SharpnessSettings
    /// L(θ) and the accuracy (percent; nil for regression) on `settings.set`.
    public var loss: Double
    public var accuracy: Double?
    public var epsilon: EpsilonSharpness
    public var lossIncrease: LossIncrease
    /// nil unless `settings.eigenvalue`.
    public var topEigenvalue: TopEigenvalue?

    public init(settings: SharpnessSettings, loss: Double, accuracy: Double?, epsilon: EpsilonSharpness,
                lossIncrease: LossIncrease, topEigenvalue: TopEigenvalue?) {
        self.settings = settings; self.loss = loss; self.accuracy = accuracy; self.epsilon = epsilon
        self.lossIncrease = lossIncrease; self.topEigenvalue = topEigenvalue
    }
}

extension Sharpness {
    /// What `report` is doing, for a progress display: the phase and the steps done of how many.
    public enum Phase: String, Sendable { case ascent, directions, lanczos }

    /// All three numbers for `objective` at its current parameters. λmax, when asked for, needs a
    /// `TwiceDifferentiableObjective` (else the call throws before any work). The parameters are
    /// restored afterwards.
    public static func report(of objective: some DifferentiableObjective, settings: SharpnessSettings = SharpnessSettings(),
                              progress: ((Phase, Int, Int) -> Void)? = nil) throws -> SharpnessReport {
        let twice = objective as? any TwiceDifferentiableObjective
        if settings.eigenvalue && twice == nil {
            throw LandscapeError.invalidRequest("λmax needs Hessian-vector products, which this objective does not give")
        }
        let theta = objective.parameters()
        defer { objective.setParameters(theta) }
        let value = try objective.evaluate(settings.set)
        let epsilon = try epsilonSharpness(of: objective, on: settings.set, epsilon: settings.epsilon,
                                           steps: settings.ascentSteps, stepFraction: settings.stepFraction) {
            progress?(.ascent, $0, settings.ascentSteps)
        }
        let increase = try lossIncrease(of: objective, on: settings.set, radius: settings.radius,
                                        directions: settings.directions, seed: settings.seed) {
            progress?(.directions, $0, settings.directions)
        }
        var eigen: TopEigenvalue?
        if settings.eigenvalue, let twice {
            eigen = try topEigenvalue(of: twice, on: settings.set, oneDimensional: settings.eigenvalueOneDimensional,
                                      maxIterations: settings.lanczosIterations, tolerance: settings.lanczosTolerance,
                                      seed: settings.seed) { progress?(.lanczos, $0, settings.lanczosIterations) }
        }
        return SharpnessReport(settings: settings, loss: value.loss, accuracy: value.accuracy, epsilon: epsilon,
                               lossIncrease: increase, topEigenvalue: eigen)
    }
}
