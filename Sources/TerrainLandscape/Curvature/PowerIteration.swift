import TerrainTensor

/// The largest-magnitude eigenvalues by power iteration with deflation, PyHessian's method:
/// slower and less accurate than `Lanczos`, kept as an independent cross-check of it and to
/// reproduce PyHessian's numbers.
///
/// vₜ₊₁ = Avₜ/‖Avₜ‖ converges to the eigenvector of the eigenvalue of largest |λ| at the rate
/// |λ₂/λ₁| per step, and the Rayleigh quotient θₜ = vₜᵀAvₜ to λ₁ at the rate (λ₂/λ₁)². The k-th
/// pair comes from the same iteration on (I − P)A(I − P), P the projector on the k − 1 vectors
/// already found (deflation by orthogonalization: the iterate and its product are kept
/// orthogonal to them).
public enum PowerIteration {
    public struct Result: Sendable, Equatable {
        /// Rayleigh quotients, in the order found (by decreasing |λ| when each converged).
        public var eigenvalues: [Double]
        /// The unit iterates, signed so that the entry of largest magnitude is positive.
        public var eigenvectors: [[Double]]
        /// Products of A spent on each pair.
        public var iterations: [Int]
        /// Whether each pair met the tolerance before `maxIterations`.
        public var converged: [Bool]
    }

    /// The `count` eigenvalues of largest magnitude (clamped to the dimension), with
    /// PyHessian's defaults: at most 100 iterations per pair, and stop when the Rayleigh
    /// quotient's relative change |θₜ − θₜ₋₁|/(|θₜ₋₁| + 1e-6) falls below 1e-3.
    ///
    /// The rule measures progress, not error: when |λ₂/λ₁| = r is close to 1 the error at the
    /// stop is about tolerance/(1 − r²)·|λ₁|, larger than the tolerance. Start vectors are unit
    /// Gaussian vectors from `SeededGenerator(seed:)`. `progress` is called with the total
    /// number of products after each one.
    public static func topEigenpairs(of matrix: some SymmetricOperator, count: Int = 1, maxIterations: Int = 100,
                                     tolerance: Double = 1e-3, seed: UInt64,
                                     progress: ((Int) -> Void)? = nil) throws -> Result {
        try matrix.requireNonEmpty()
        guard count >= 1 else { throw LandscapeError.invalidRequest("ask for at least one eigenvalue, not \(count)") }
        try IterativeSettings.requireSteps(maxIterations, method: "power iteration")
        try IterativeSettings.requireTolerance(tolerance)
        let n = matrix.dimension
        var generator = SeededGenerator(seed: seed)
        let found = KrylovBasis(dimension: n)
        var result = Result(eigenvalues: [], eigenvectors: [], iterations: [], converged: [])
        var products = 0
        for _ in 0..<min(count, n) {
            // A start orthogonal to the pairs found (redrawn if a draw falls in their span).
            var v: [Double] = []
            while v.isEmpty {
                var candidate = ProbeVectors.gaussianUnit(n, &generator)
                found.orthogonalize(&candidate)
                if let unit = VectorMath.normalized(candidate), unit.norm > 1e-8 { v = unit.vector }
            }
            var theta = 0.0
            var previous: Double?
            var done = false
            var steps = 0
            while steps < maxIterations && !done {
                var w = try matrix.checkedApply(v)
                steps += 1
                products += 1
                progress?(products)
                theta = VectorMath.dot(v, w)
                found.orthogonalize(&w)
                if let last = previous, abs(theta - last) / (abs(last) + 1e-6) < tolerance { done = true }
                previous = theta
                guard let unit = VectorMath.normalized(w) else {
                    // Av = 0 in the deflated space: v is an eigenvector of eigenvalue 0.
                    theta = 0
                    done = true
                    break
                }
                v = unit.vector
            }
            v = Lanczos.signed(v)
            found.append(v)
            result.eigenvalues.append(theta)
            result.eigenvectors.append(v)
            result.iterations.append(steps)
            result.converged.append(done)
        }
        return result
    }
}
