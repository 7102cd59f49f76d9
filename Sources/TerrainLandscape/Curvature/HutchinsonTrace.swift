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

        /// standardError / |estimate| (+∞ for a zero estimate with any spread).
        public var relativeStandardError: Double {
            standardError == 0 ? 0 : standardError / abs(estimate)
        }
    }

    /// The fewest probes before the stopping rule is consulted: below about ten samples their
    /// standard deviation is itself too rough to trust (it can come out near zero by chance).
    public static let minimumProbes = 10

    /// Estimates tr A with PyHessian's budget (at most 100 probes, tolerance 1e-3), stopping when
    /// the estimate is known to the tolerance: after at least `minimumProbes` probes, as soon as
    /// the running mean's relative standard error s/(√k·|m_k|) is below `tolerance`.
    ///
    /// (PyHessian stops when the mean's relative change |m_k − m_{k−1}|/(|m_{k−1}| + 1e-6) falls
    /// below the tolerance. That says the mean moved little at the last probe, not that it is
    /// accurate: after k probes one sample moves it by about σ/k, so it stopped with a standard
    /// error of 22% of the estimate.) `tolerance: 0` uses exactly `maxProbes` probes. Probes come
    /// from `SeededGenerator(seed:)`; `progress` is called with the number of probes after each.
    ///
    /// Probes are applied `block` at a time (`SymmetricOperator.apply(block:)`, whose products
    /// share the operator's work), drawn in the same sequence as one at a time, and the samples
    /// of a block enter the running mean one by one with the stopping rule checked after each, as
    /// with `block` 1: the estimate, its error and the probe count are those of `block` 1 whenever
    /// the block's products are those of single applies. The price is at most `block` − 1 products
    /// computed and not used, after the probe at which the rule fires (the last block is cut to
    /// the `maxProbes` left).
    public static func estimate(of matrix: some SymmetricOperator, maxProbes: Int = 100, tolerance: Double = 1e-3,
                                seed: UInt64, block: Int = 1, progress: ((Int) -> Void)? = nil) throws -> Result {
        try matrix.requireNonEmpty()
        try IterativeSettings.requireSteps(maxProbes, method: "Hutchinson's estimator", step: "probe")
        try IterativeSettings.requireTolerance(tolerance)
        try IterativeSettings.requireBlock(block)
        let n = matrix.dimension
        var generator = SeededGenerator(seed: seed)
        var samples: [Double] = []
        // Welford's running mean and sum of squared deviations: no cancellation when the
        // samples are large and close together.
        var mean = 0.0, squares = 0.0
        var stoppedEarly = false
        var stopped = false
        while samples.count < maxProbes && !stopped {
            let probes = (0..<min(block, maxProbes - samples.count)).map { _ in ProbeVectors.rademacher(n, &generator) }
            let products = try matrix.checkedApply(block: probes)
            for (z, product) in zip(probes, products) {
                let sample = VectorMath.dot(z, product)
                samples.append(sample)
                let delta = sample - mean
                mean += delta / Double(samples.count)
                squares += delta * (sample - mean)
                progress?(samples.count)
                let k = Double(samples.count)
                // s/√k < tolerance·|m|, written without dividing (a zero mean with zero spread stops).
                if samples.count >= minimumProbes, (squares / (k - 1) / k).squareRoot() <= tolerance * abs(mean), tolerance > 0 {
                    stoppedEarly = samples.count < maxProbes
                    stopped = true
                    break
                }
            }
        }
        let k = Double(samples.count)
        let standardError = samples.count > 1 ? (squares / (k - 1) / k).squareRoot() : .infinity
        return Result(estimate: mean, standardError: standardError, probes: samples.count, samples: samples,
                      stoppedEarly: stoppedEarly)
    }
}
