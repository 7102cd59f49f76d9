/// An orthonormal set of vectors v₀ … v_{k−1} in ℝⁿ, held in memory, and the Gram–Schmidt
/// projections against it.
///
/// Memory: k·n·8 bytes. For ResNet-20 (n = 272,474) and k = 100 Lanczos vectors that is about
/// 218 MB. Full reorthogonalization needs every earlier vector at every step, so there is no
/// low-memory variant of it: not asking for eigenvectors saves only the final combination, not
/// the basis.
///
/// The loops walk the vectors in blocks of `VectorMath.block` entries, so that a block of the
/// vector being projected stays in cache while the basis streams past it once per pass, and so
/// that each coefficient is summed in exactly `VectorMath.dot`'s order.
final class KrylovBasis {
    /// The most numbers a basis may hold: 2^30 doubles, 8 GiB.
    static let maximumValues = 1 << 30

    /// Refuses a basis of `vectors` vectors of `dimension` numbers beyond `maximumValues`, before
    /// the first is allocated (the product is overflow-checked); the message names the sizes.
    static func checkMemory(vectors: Int, dimension: Int) throws {
        let (values, overflow) = vectors.multipliedReportingOverflow(by: dimension)
        guard !overflow, values <= maximumValues else {
            throw LandscapeError.invalidRequest("\(vectors) Lanczos vectors of \(dimension) parameters would hold "
                                                + "\(overflow ? "too many" : "\(values)") numbers in memory; the limit is \(maximumValues) "
                                                + "(8 GiB): ask for fewer iterations or steps")
        }
    }

    let dimension: Int
    private var storage: [UnsafeMutablePointer<Double>] = []

    init(dimension: Int) { self.dimension = dimension }

    deinit { for v in storage { v.deallocate() } }

    var count: Int { storage.count }

    func append(_ v: [Double]) {
        precondition(v.count == dimension)
        let p = UnsafeMutablePointer<Double>.allocate(capacity: max(dimension, 1))
        v.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { p.initialize(from: base, count: dimension) }
        }
        storage.append(p)
    }

    /// A copy of vᵢ.
    func vector(_ i: Int) -> [Double] { Array(UnsafeBufferPointer(start: storage[i], count: dimension)) }

    /// h = Vᵀw: hᵢ = vᵢ · w, bit for bit `VectorMath.dot(vᵢ, w)`. Four vectors share each pass
    /// over a block, so four independent sums are in flight at once.
    func coefficients(of w: [Double]) -> [Double] {
        precondition(w.count == dimension)
        let k = count, n = dimension
        var h = [Double](repeating: 0, count: k)
        w.withUnsafeBufferPointer { wb in
            guard let x = wb.baseAddress else { return }
            var start = 0
            while start < n {
                let end = min(start + VectorMath.block, n)
                var i = 0
                while i + 4 <= k {
                    let a = storage[i], b = storage[i + 1], c = storage[i + 2], d = storage[i + 3]
                    var sa = 0.0, sb = 0.0, sc = 0.0, sd = 0.0
                    for t in start..<end {
                        let xt = x[t]
                        sa += a[t] * xt; sb += b[t] * xt; sc += c[t] * xt; sd += d[t] * xt
                    }
                    h[i] += sa; h[i + 1] += sb; h[i + 2] += sc; h[i + 3] += sd
                    i += 4
                }
                while i < k {
                    let a = storage[i]
                    var s = 0.0
                    for t in start..<end { s += a[t] * x[t] }
                    h[i] += s
                    i += 1
                }
                start = end
            }
        }
        return h
    }

    /// w ← w − Vh, the vectors subtracted in order.
    func subtract(_ h: [Double], from w: inout [Double]) {
        precondition(h.count == count && w.count == dimension)
        let n = dimension
        w.withUnsafeMutableBufferPointer { wb in
            guard let y = wb.baseAddress else { return }
            var start = 0
            while start < n {
                let end = min(start + VectorMath.block, n)
                for (i, coefficient) in h.enumerated() where coefficient != 0 {
                    let a = storage[i]
                    for t in start..<end { y[t] -= coefficient * a[t] }
                }
                start = end
            }
        }
    }

    /// w ← w − c·vᵢ.
    func subtract(_ c: Double, times i: Int, from w: inout [Double]) {
        precondition(w.count == dimension)
        let a = storage[i]
        w.withUnsafeMutableBufferPointer { wb in
            for t in wb.indices { wb[t] -= c * a[t] }
        }
    }

    /// Σ cᵢvᵢ: a Ritz vector from its coordinates in the basis.
    func combination(_ c: [Double]) -> [Double] {
        precondition(c.count == count)
        var y = [Double](repeating: 0, count: dimension)
        subtract(c.map { -$0 }, from: &y)
        return y
    }

    /// Removes from w its components along the basis by classical Gram–Schmidt, repeated
    /// `passes` times, and returns the total coefficients removed.
    ///
    /// One classical pass leaves components of the order of ε·‖w‖/‖w'‖ (w' the result) along
    /// the basis when w is nearly in its span, which is exactly the case in Lanczos once Ritz
    /// values converge; a second pass brings them to the level of rounding. "Twice is enough"
    /// (Kahan, Parlett): a third never helps. Classical rather than modified Gram–Schmidt
    /// because its coefficients are independent dot products, computed in one sweep.
    @discardableResult
    func orthogonalize(_ w: inout [Double], passes: Int = 2) -> [Double] {
        var total = [Double](repeating: 0, count: count)
        guard count > 0 else { return total }
        for _ in 0..<passes {
            let h = coefficients(of: w)
            subtract(h, from: &w)
            for i in total.indices { total[i] += h[i] }
        }
        return total
    }
}
