import TerrainTensor

/// Extreme eigenpairs found by `Lanczos.extremeEigenpairs`.
public struct LanczosResult: Sendable, Equatable {
    /// The requested eigenvalue estimates (Ritz values) in descending order: the `topCount`
    /// largest, then the `bottomCount` smallest, each pair listed once (when the two requests
    /// overlap, as when they ask for more than the dimension, the lists share entries).
    public var eigenvalues: [Double]
    /// Unit Ritz vectors in the original space, in the order of `eigenvalues` (nil unless asked
    /// for). Each is signed so that its entry of largest magnitude is positive.
    public var eigenvectors: [[Double]]?
    /// ‖Ay − θy‖ for each pair, from the recurrence: |β_j · s_j|, with s_j the last component
    /// of the pair's eigenvector of T_j. Exact up to the rounding of the orthogonalization, and
    /// no extra products of A.
    public var residuals: [Double]
    /// How many products of A were computed (Lanczos steps, restarts included).
    public var iterations: Int
    /// How many of `eigenvalues` are the largest, and how many the smallest (clamped to the
    /// number of Ritz values found).
    public var topCount: Int
    public var bottomCount: Int
    /// True when every requested pair's residual is within the tolerance (relative to the
    /// largest |Ritz value|) or the Krylov space was exhausted.
    public var converged: Bool

    /// The `topCount` largest eigenvalues, descending.
    public var top: ArraySlice<Double> { eigenvalues.prefix(topCount) }
    /// The `bottomCount` smallest eigenvalues, descending (the smallest last).
    public var bottom: ArraySlice<Double> { eigenvalues.suffix(bottomCount) }
}

/// The Lanczos method for the extreme eigenvalues of a symmetric operator, by Hessian-vector
/// products only.
///
/// Krylov spaces catch the ends of a spectrum first: after j steps the largest Ritz value θ₁
/// of T_j = V_jᵀAV_j approaches λ₁ at a rate governed by the gap (λ₁ − λ₂)/(λ₂ − λₙ) and a
/// Chebyshev polynomial of degree j, far faster than power iteration's (λ₂/λ₁)ʲ, and the
/// smallest eigenvalues come out of the same run. Negative curvature (λₙ < 0, a saddle) is
/// found without shifting the operator, unlike the reference code (ARPACK for the largest
/// magnitude, then a second run on A − 0.51·λmax·I).
public enum Lanczos {
    /// The `top` largest and `bottom` smallest eigenvalues of `matrix`, and optionally their
    /// eigenvectors.
    ///
    /// - Start: a unit Gaussian vector drawn from `SeededGenerator(seed:)`, so the same seed
    ///   gives the same bits.
    /// - Stopping rule: after each step, the requested Ritz pairs (θ, y = V_j s) of T_j are
    ///   converged when every residual ‖Ay − θy‖ = |β_j·s_j| ≤ `tolerance`·max|θ| (max|θ| over
    ///   all Ritz values, a lower bound of ‖A‖ that settles within a few steps). The run also
    ///   stops after `maxIterations` steps or when the Krylov space is exhausted (β ≈ 0 and the
    ///   basis spans ℝⁿ): then all n eigenvalues are exact, so a dimension 3 operator asked for
    ///   the top 5 returns 3 pairs.
    /// - A Krylov space that is invariant before reaching ℝⁿ (β ≈ 0 early: a start vector with
    ///   no component along some eigenvectors, or an eigenvalue of multiplicity > 1, of which
    ///   one Krylov space sees a single copy) gives exact eigenvalues, but larger or repeated
    ///   ones may hide in the rest of the space. The process then restarts from a fresh random
    ///   vector orthogonal to the basis (T becomes block diagonal) and, since residuals can no
    ///   longer rule those out, runs to `maxIterations` or to exhaustion.
    /// - Accuracy: the eigenvalue error is about residual²/gap, so `tolerance` 1e-3 (the
    ///   default, PyHessian's) gives eigenvalues to ~1e-6 relative when the spectrum is not
    ///   clustered; eigenvectors are only as good as the residual.
    /// - Cost: one product of A per step plus O(j·n) work; memory: the basis, j·n doubles
    ///   (~218 MB for j = 100 and ResNet-20's n = 272,474), needed for full reorthogonalization
    ///   whether or not `wantVectors` is set (see `KrylovBasis`).
    ///
    /// `top + bottom` greater than the dimension is clamped. `progress` is called with the
    /// number of steps after each one.
    public static func extremeEigenpairs(of matrix: some SymmetricOperator, top: Int, bottom: Int = 0,
                                         maxIterations: Int = 100, tolerance: Double = 1e-3, seed: UInt64,
                                         wantVectors: Bool = false,
                                         progress: ((Int) -> Void)? = nil) throws -> LanczosResult {
        try matrix.requireNonEmpty()
        guard top >= 0, bottom >= 0, top > 0 || bottom > 0 else {
            throw LandscapeError.invalidRequest("ask for at least one eigenvalue (top \(top), bottom \(bottom))")
        }
        try IterativeSettings.requireSteps(maxIterations, method: "Lanczos")
        try IterativeSettings.requireTolerance(tolerance)
        let n = matrix.dimension
        var generator = SeededGenerator(seed: seed)
        var process = LanczosProcess(matrix: matrix, start: ProbeVectors.gaussianUnit(n, &generator))
        let budget = min(maxIterations, n)
        try KrylovBasis.checkMemory(vectors: budget, dimension: n)
        var restarted = false
        while process.steps < budget {
            let growing = try process.step()
            progress?(process.steps)
            if growing {
                if !restarted, try requestedPairsConverged(process, top: top, bottom: bottom, tolerance: tolerance) { break }
            } else if process.steps < budget {
                // Invariant subspace: continue in its orthogonal complement. A few draws, in case
                // one is unlucky; all failing means the basis spans the space numerically.
                var continued = false
                for _ in 0..<3 where !continued {
                    continued = process.restart(from: ProbeVectors.gaussianUnit(n, &generator))
                }
                if !continued { process.closeSubspace(); break }
                restarted = true
            }
        }

        let ritz = try process.ritz(rows: wantVectors ? nil : [process.steps - 1])
        let last = wantVectors ? process.steps - 1 : 0
        let lastBeta = process.beta.last ?? 0
        let picked = selection(count: ritz.values.count, top: top, bottom: bottom)
        let residuals = picked.indices.map { abs(lastBeta * ritz.vectors[$0][last]) }
        let scale = ritz.values.reduce(0) { max($0, abs($1)) }
        let vectors: [[Double]]? = wantVectors ? picked.indices.map { i in
            signed(VectorMath.normalized(process.basis.combination(ritz.vectors[i]))?.vector ?? [])
        } : nil
        return LanczosResult(eigenvalues: picked.indices.map { ritz.values[$0] }, eigenvectors: vectors,
                             residuals: residuals, iterations: process.steps,
                             topCount: picked.top, bottomCount: picked.bottom,
                             converged: residuals.allSatisfy { $0 <= tolerance * scale })
    }

    /// Indices into ascending Ritz values of the `top` largest and `bottom` smallest (clamped
    /// to `count`), in descending order of value, each index once.
    static func selection(count: Int, top: Int, bottom: Int) -> (indices: [Int], top: Int, bottom: Int) {
        let t = min(top, count), b = min(bottom, count)
        let wanted = Set((count - t)..<count).union(0..<b)
        return (wanted.sorted(by: >), t, b)
    }

    /// Whether the requested Ritz pairs of T_j have relative residuals within `tolerance`; only
    /// the last row of T_j's eigenvectors is needed, which keeps the check O(j²).
    private static func requestedPairsConverged<Operator>(_ process: LanczosProcess<Operator>, top: Int, bottom: Int,
                                                          tolerance: Double) throws -> Bool {
        let ritz = try process.ritz(rows: [process.steps - 1])
        let beta = process.beta.last ?? 0
        let scale = ritz.values.reduce(0) { max($0, abs($1)) }
        return selection(count: ritz.values.count, top: top, bottom: bottom).indices.allSatisfy {
            abs(beta * ritz.vectors[$0][0]) <= tolerance * scale
        }
    }

    /// The vector with the sign that makes its entry of largest magnitude positive (the first
    /// such entry on ties), so results do not depend on the solver's arbitrary signs.
    static func signed(_ v: [Double]) -> [Double] {
        guard let i = v.indices.max(by: { abs(v[$0]) < abs(v[$1]) }), v[i] < 0 else { return v }
        return v.map { -$0 }
    }
}
