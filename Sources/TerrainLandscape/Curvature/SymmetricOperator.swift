/// A symmetric linear map A: ℝⁿ → ℝⁿ known only through its products v ↦ Av: a Hessian applied by
/// Hessian-vector products, or any symmetric matrix. The curvature algorithms (Lanczos, power
/// iteration, Hutchinson's trace, stochastic Lanczos quadrature) see nothing else, so they are
/// tested on matrices with known spectra and run unchanged on a network's Hessian.
///
/// Vectors are flat `[Double]` of length `dimension`, laid out like the objective's parameter
/// vector. The algorithms assume Aᵀ = A (up to rounding); they check every product for length
/// and for NaN or ±∞ and throw `LandscapeError.invalidRequest` rather than iterate on garbage.
public protocol SymmetricOperator {
    /// n, the length of the vectors the operator acts on.
    var dimension: Int { get }
    /// Av for a vector v of length `dimension`.
    func apply(_ v: [Double]) throws -> [Double]
    /// [Av₁, …, Av_K] for a block of vectors, in order: what the algorithms that need several
    /// independent products at once (Hutchinson's probes, lockstep Lanczos runs) ask for, so that
    /// an operator whose products share work (a Hessian's forward and backward passes depend on
    /// θ only) can do that work once per block. By default one `apply` per vector, which every
    /// operator gets for free; an operator that overrides it must return what `apply` would, up
    /// to rounding (and says how close).
    func apply(block: [[Double]]) throws -> [[Double]]
}

extension SymmetricOperator {
    public func apply(block: [[Double]]) throws -> [[Double]] {
        try block.map { try apply($0) }
    }
}

extension SymmetricOperator {
    /// Av, refused when it has the wrong length or a non-finite entry: one NaN (a diverged loss,
    /// an overflowing second backward pass) would otherwise spread into every later vector.
    func checkedApply(_ v: [Double]) throws -> [Double] {
        try check(try apply(v))
    }

    /// `product`, refused when it has the wrong length or a non-finite entry.
    private func check(_ product: [Double]) throws -> [Double] {
        guard product.count == dimension else {
            throw LandscapeError.invalidRequest(
                "the Hessian-vector product returned \(product.count) values for an operator of dimension \(dimension)")
        }
        if let bad = product.firstIndex(where: { !$0.isFinite }) {
            throw LandscapeError.invalidRequest(
                "the Hessian-vector product returned NaN/Inf (entry \(bad) of \(dimension) is \(product[bad]))")
        }
        return product
    }

    /// A block of products, each checked as by `checkedApply`.
    func checkedApply(block: [[Double]]) throws -> [[Double]] {
        let products = block.count == 1 ? [try apply(block[0])] : try apply(block: block)
        guard products.count == block.count else {
            throw LandscapeError.invalidRequest("a block of \(block.count) Hessian-vector products returned \(products.count)")
        }
        return try products.map { product in try check(product) }
    }

    /// Refuses an operator with no dimensions: it has no eigenvalues, trace or spectrum to estimate.
    func requireNonEmpty() throws {
        guard dimension > 0 else {
            throw LandscapeError.invalidRequest("the operator has dimension \(dimension): there is nothing to estimate")
        }
    }
}

/// A dense symmetric n×n matrix stored row-major: the operator of tests and of small problems
/// (its product costs n² multiply-adds).
public struct DenseSymmetricMatrix: SymmetricOperator, Sendable, Equatable {
    public let dimension: Int
    /// Row-major entries: `entries[i·n + j]` = a_ij (exactly symmetric).
    public let entries: [Double]

    /// A matrix from its rows. Refuses rows that are not square, entries that are not finite, and
    /// a matrix whose asymmetry max |a_ij − a_ji| exceeds `tolerance` times its largest entry;
    /// within the tolerance it stores (A + Aᵀ)/2, so the operator is exactly symmetric (the
    /// algorithms' assumption) and a matrix built in floating point is accepted.
    public init(rows: [[Double]], tolerance: Double = 1e-12) throws {
        let n = rows.count
        if let bad = rows.firstIndex(where: { $0.count != n }) {
            throw LandscapeError.invalidRequest("row \(bad) of a \(n)×\(n) matrix has \(rows[bad].count) entries")
        }
        try self.init(size: n, rowMajor: rows.flatMap { $0 }, tolerance: tolerance)
    }

    /// A matrix from its n² entries in row-major order; see `init(rows:tolerance:)`.
    public init(size n: Int, rowMajor values: [Double], tolerance: Double = 1e-12) throws {
        guard n >= 0, values.count == n * n else {
            throw LandscapeError.invalidRequest("a \(n)×\(n) matrix needs \(max(n, 0) * max(n, 0)) entries, not \(values.count)")
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw LandscapeError.invalidRequest("entry (\(bad / n), \(bad % n)) of the matrix is \(values[bad])")
        }
        let largest = values.reduce(0) { max($0, abs($1)) }
        var symmetric = values
        for i in 0..<n {
            for j in (i + 1)..<max(i + 1, n) {
                let a = values[i * n + j], b = values[j * n + i]
                guard abs(a - b) <= tolerance * largest else {
                    throw LandscapeError.invalidRequest(
                        "the matrix is not symmetric: a[\(i), \(j)] = \(a) but a[\(j), \(i)] = \(b)")
                }
                let mean = 0.5 * (a + b)
                symmetric[i * n + j] = mean
                symmetric[j * n + i] = mean
            }
        }
        dimension = n
        entries = symmetric
    }

    public subscript(row: Int, column: Int) -> Double { entries[row * dimension + column] }

    public func apply(_ v: [Double]) throws -> [Double] {
        guard v.count == dimension else {
            throw LandscapeError.invalidRequest("a vector of length \(v.count) for a \(dimension)×\(dimension) matrix")
        }
        let n = dimension
        return entries.withUnsafeBufferPointer { a in
            v.withUnsafeBufferPointer { x in
                (0..<n).map { i in VectorMath.dot(a.baseAddress.map { $0 + i * n }, x.baseAddress, count: n) }
            }
        }
    }
}
