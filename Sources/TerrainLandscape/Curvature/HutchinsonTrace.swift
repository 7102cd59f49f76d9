import TerrainTensor

/// The trace of a symmetric operator by Hutchinson's estimator, from products alone.
///
/// For z with independent Rademacher (±1) entries, E[zzᵀ] = I, so E[zᵀAz] = tr A: each probe is
/// an unbiased sample, with variance 2·Σ_{i≠j} a_ij² = 2(‖A‖_F² − Σ a_ii²), the least of any
/// probe distribution with E[zzᵀ] = I (and zero for a diagonal A). The mean of k probes has
/// standard error σ/√k, estimated from the samples themselves.
public enum HutchinsonTrace {
    public struct Result: Sendable, Equatable {
        /// The mean of the samples zᵀAz.
        public var estimate: Double
        /// The estimated standard error of `estimate`: sample standard deviation / √probes
        /// (+∞ after a single probe, whose spread is unknown).
        public var standardError: Double
        /// How many probes (products of A) were used.
        public var probes: Int
        /// Each probe's zᵀAz, in order.
        public var samples: [Double]
        /// True when the stopping rule fired before `maxProbes`.
        public var stoppedEarly: Bool
    }

    /// Estimates tr A with PyHessian's defaults: at most 100 probes, stopping as soon as the
    /// running mean's relative change |m_k − m_{k−1}|/(|m_{k−1}| + 1e-6) falls below 1e-3.
    ///
    /// That rule says the mean moved little at the last probe, not that it is accurate (after k
    /// probes one sample moves the mean by about σ/k): read `standardError`, which is always
    /// reported. `tolerance: 0` uses exactly `maxProbes` probes. Probes come from
    /// `SeededGenerator(seed:)`; `progress` is called with the number of probes after each.
    public static func estimate(of matrix: some SymmetricOperator, maxProbes: Int = 100, tolerance: Double = 1e-3,
                                seed: UInt64, progress: ((Int) -> Void)? = nil) throws -> Result {
        try matrix.requireNonEmpty()
        guard maxProbes >= 1 else { throw LandscapeError.invalidRequest("Hutchinson's estimator needs at least 1 probe, not \(maxProbes)") }
        guard tolerance.isFinite, tolerance >= 0 else {
            throw LandscapeError.invalidRequest("the tolerance must be a finite number ≥ 0, not \(tolerance)")
        }
        let n = matrix.dimension
        var generator = SeededGenerator(seed: seed)
        var samples: [Double] = []
        // Welford's running mean and sum of squared deviations: no cancellation when the
        // samples are large and close together.
        var mean = 0.0, squares = 0.0
        var stoppedEarly = false
        while samples.count < maxProbes {
            let z = ProbeVectors.rademacher(n, &generator)
            let product = try matrix.checkedApply(z)
            let sample = VectorMath.dot(z, product)
            samples.append(sample)
            let previous = mean
            let delta = sample - mean
            mean += delta / Double(samples.count)
            squares += delta * (sample - mean)
            progress?(samples.count)
            if samples.count >= 2, abs(mean - previous) / (abs(previous) + 1e-6) < tolerance {
                stoppedEarly = samples.count < maxProbes
                break
            }
        }
        let k = Double(samples.count)
        let standardError = samples.count > 1 ? (squares / (k - 1) / k).squareRoot() : .infinity
        return Result(estimate: mean, standardError: standardError, probes: samples.count, samples: samples,
                      stoppedEarly: stoppedEarly)
    }
}
