/// The Lanczos process with full reorthogonalization: from a unit start vector v₀ it builds an
/// orthonormal basis V_j = [v₀ … v_{j−1}] of the Krylov space span{v₀, Av₀, …, A^{j−1}v₀} and
/// the tridiagonal T_j = V_jᵀ A V_j (diagonal α, off-diagonal β), related by
///
///     A V_j = V_j T_j + β_{j−1} v_j e_jᵀ.
///
/// Each step costs one product Av and the reorthogonalization. In exact arithmetic the
/// three-term recurrence βₖvₖ₊₁ = Avₖ − αₖvₖ − βₖ₋₁vₖ₋₁ keeps V orthonormal by itself; in
/// floating point orthogonality is lost as soon as a Ritz value converges, and copies of it
/// ("ghosts") appear. Projecting every new vector against the whole basis, twice (see
/// `KrylovBasis.orthogonalize`), keeps V orthonormal to rounding; the price is the basis in
/// memory and O(j·n) work per step.
///
/// Shared by `Lanczos` (extreme eigenpairs) and `SpectralDensity` (quadrature).
struct LanczosProcess<Operator: SymmetricOperator> {
    let matrix: Operator
    let basis: KrylovBasis
    /// αₖ = vₖᵀAvₖ.
    private(set) var alpha: [Double] = []
    /// βₖ couples vₖ and vₖ₊₁ (0 where the process was restarted); after step j the last entry
    /// is β_{j−1}, the size of the part of AV_j outside the basis, which gives the residuals.
    private(set) var beta: [Double] = []
    /// vⱼ, the next basis vector, once the last step found one.
    private var next: [Double]?
    /// max over steps of |αₖ| + βₖ₋₁ + βₖ, a lower bound of ‖T‖ ≤ ‖A‖ that scales the test
    /// for an invariant subspace.
    private(set) var normEstimate = 0.0

    /// β below this fraction of ‖T‖ counts as zero: the Krylov space is invariant (to rounding)
    /// and the next vector would be noise. Dropping it perturbs T by less than 1e-12·‖T‖.
    static var breakdownTolerance: Double { 1e-12 }

    init(matrix: Operator, start: [Double]) {
        precondition(start.count == matrix.dimension)
        self.matrix = matrix
        basis = KrylovBasis(dimension: matrix.dimension)
        next = VectorMath.normalized(start)?.vector
        precondition(next != nil, "a zero start vector")
    }

    var steps: Int { alpha.count }
    var dimension: Int { matrix.dimension }

    /// One step: adds vⱼ to the basis and αⱼ, βⱼ to T. Returns false when βⱼ is negligible: the
    /// basis spans an invariant subspace (always so once it spans all of ℝⁿ), T's eigenvalues
    /// are exact eigenvalues of A, and the process can only go on from `restart`.
    mutating func step() throws -> Bool {
        guard let v = vectorToApply else { preconditionFailure("no vector to continue from") }
        return step(product: try matrix.checkedApply(v))
    }

    /// vⱼ, the vector the next step multiplies by A (nil when the process cannot go on): for runs
    /// that apply A to several processes' vectors at once (`SpectralDensity`'s lockstep).
    var vectorToApply: [Double]? { steps < dimension ? next : nil }

    /// `step()` with the product A·vⱼ computed by the caller (`vectorToApply`, applied).
    mutating func step(product: [Double]) -> Bool {
        guard let v = vectorToApply else { preconditionFailure("no vector to continue from") }
        next = nil
        let k = steps
        basis.append(v)
        var w = product
        if k > 0, beta[k - 1] != 0 {
            basis.subtract(beta[k - 1], times: k - 1, from: &w)
        }
        var a = VectorMath.dot(v, w)
        VectorMath.axpy(-a, v, &w)
        // What the recurrence left along earlier vectors is rounding, amplified once Ritz values
        // converge; removing it keeps V orthonormal. The part along vₖ itself corrects αₖ.
        let h = basis.orthogonalize(&w)
        a += h[k]
        alpha.append(a)
        var b = VectorMath.norm(w)
        normEstimate = max(normEstimate, abs(a) + (k > 0 ? beta[k - 1] : 0) + b)
        if steps == dimension {
            // V is a basis of ℝⁿ: w is rounding and T is similar to A.
            b = 0
        }
        beta.append(b)
        guard b > Self.breakdownTolerance * normEstimate else { return false }
        VectorMath.scale(&w, by: 1 / b)
        next = w
        return true
    }

    /// Continues after an invariant subspace from `candidate` made orthogonal to the basis:
    /// sets the last β to zero (T becomes block diagonal, which keeps A V = V T + β v eᵀ exact)
    /// and returns true, or returns false when the candidate lies in the basis's span (to
    /// rounding), i.e. the basis already spans ℝⁿ as far as it can be told.
    mutating func restart(from candidate: [Double]) -> Bool {
        precondition(candidate.count == dimension && !beta.isEmpty)
        let size = VectorMath.norm(candidate)
        var w = candidate
        basis.orthogonalize(&w)
        guard size > 0, let unit = VectorMath.normalized(w), unit.norm > 1e-8 * size else { return false }
        beta[beta.count - 1] = 0
        next = unit.vector
        return true
    }

    /// Marks the process as complete: the last β becomes zero (the caller decided the residual
    /// left is rounding).
    mutating func closeSubspace() {
        if !beta.isEmpty { beta[beta.count - 1] = 0 }
        next = nil
    }

    /// The eigen-decomposition of T_j, tracking the given rows of its eigenvector matrix (all
    /// rows when nil).
    func ritz(rows: [Int]?) throws -> TridiagonalEigen.Decomposition {
        try TridiagonalEigen.decompose(diagonal: alpha, offDiagonal: Array(beta.dropLast()), rows: rows)
    }
}
