import TerrainTensor

/// The average loss increase at radius r along random filter-normalized directions: how far the
/// loss climbs, on average, at a fixed distance in the directions a loss surface is drawn along
/// (Li, Xu, Taylor, Studer and Goldstein 2018, "Visualizing the Loss Landscape of Neural Nets",
/// whose filter normalization makes distances comparable between networks and scales).
///
/// For k = 0..<N, dₖ is `Direction.random` over the trainable parameters with seed
/// `seed + k` (the seeds `terrain surface` gives its x and y directions), filter-normalized
/// against θ with biases and batch-norm parameters left out (`ignoreBiasAndNorm`: zero on 1-D
/// tensors), and
///
///     Δₖ = L(θ + r·dₖ) − L(θ),   mean = (1/N) Σ Δₖ,   sd = √( Σ (Δₖ − mean)² / (N − 1) )
///
/// (the sample standard deviation; 0 when N = 1). Near a minimum Δₖ ≈ ½ r² dₖᵀ H dₖ, so a
/// sharper minimum gives a larger mean. Any `Objective` will do: only losses are evaluated
/// (N + 1 of them).
public struct LossIncrease: Sendable, Equatable {
    /// r, in units of the filter-normalized directions (r = 1 moves every filter by its own norm).
    public var radius: Double
    /// The seed of the first direction; direction k uses seed + k.
    public var seed: UInt64
    /// L(θ).
    public var loss: Double
    /// Δₖ for each direction, in order.
    public var increases: [Double]

    public var directionCount: Int { increases.count }
    /// The mean of the increases.
    public var mean: Double { increases.isEmpty ? .nan : increases.reduce(0, +) / Double(increases.count) }
    /// The sample standard deviation of the increases (N − 1 in the denominator; 0 for one).
    public var standardDeviation: Double {
        guard increases.count > 1 else { return increases.isEmpty ? .nan : 0 }
        let m = mean
        return (increases.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(increases.count - 1)).squareRoot()
    }

    public init(radius: Double, seed: UInt64, loss: Double, increases: [Double]) {
        self.radius = radius; self.seed = seed; self.loss = loss; self.increases = increases
    }
}

extension Sharpness {
    /// The N filter-normalized random directions of `lossIncrease` at θ (see `LossIncrease`).
    public static func randomDirections(at theta: [Double], groups: [ParameterGroup], count: Int, seed: UInt64) -> [Direction] {
        (0..<count).map { k in
            var d = Direction.random(groups: groups, type: .weights, seed: seed &+ UInt64(k))
            d.normalize(against: theta, groups: groups, type: .weights, normalization: .filter, oneDimensional: .leftOut)
            return d
        }
    }

    /// The loss increases at radius `radius` along `directions` random directions (see
    /// `LossIncrease`). The objective's parameters are restored afterwards, whether or not it
    /// throws. `progress` is called with the number of directions done after each one.
    public static func lossIncrease(of objective: some Objective, on set: EvaluationSet = .train,
                                    radius: Double = 0.5, directions: Int = 10, seed: UInt64 = 123,
                                    progress: ((Int) -> Void)? = nil) throws -> LossIncrease {
        guard radius.isFinite, radius > 0 else {
            throw LandscapeError.invalidRequest("the radius must be a positive number, not \(radius)")
        }
        guard directions >= 1 else {
            throw LandscapeError.invalidRequest("at least 1 direction is needed, not \(directions)")
        }
        let theta = objective.parameters()
        defer { objective.setParameters(theta) }
        let loss = try objective.evaluate(set).loss
        guard loss.isFinite else { throw LandscapeError.invalidRequest("the loss at the centre is \(loss)") }
        var increases: [Double] = []
        for (k, d) in randomDirections(at: theta, groups: objective.groups, count: directions, seed: seed).enumerated() {
            objective.setParameters(zip(theta, d.values).map { $0 + radius * $1 })
            increases.append(try objective.evaluate(set).loss - loss)
            progress?(k + 1)
        }
        return LossIncrease(radius: radius, seed: seed, loss: loss, increases: increases)
    }
}
