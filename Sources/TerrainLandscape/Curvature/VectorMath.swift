/// Arithmetic on flat `[Double]` vectors laid out like an objective's parameters: the few BLAS-1
/// operations the curvature algorithms need, with a fixed summation order.
///
/// Sums are formed in blocks of `block` entries, each block added left to right and the block
/// sums added in order. The order depends on the length only (never on threads or on which
/// BLAS kernel a machine has), so a seed gives the same bits on every machine. `Direction`'s dot
/// product is this one.
public enum VectorMath {
    /// Entries per summation block.
    static let block = 4096

    /// Σ aᵢbᵢ.
    public static func dot(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count, "vectors of different lengths (\(a.count) and \(b.count))")
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in dot(pa.baseAddress, pb.baseAddress, count: a.count) }
        }
    }

    /// ‖a‖₂.
    public static func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }

    /// y ← y + αx.
    public static func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) {
        precondition(x.count == y.count, "vectors of different lengths (\(x.count) and \(y.count))")
        let n = x.count
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                for i in 0..<n { py[i] += alpha * px[i] }
            }
        }
    }

    /// x ← αx.
    public static func scale(_ x: inout [Double], by alpha: Double) {
        x.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] *= alpha }
        }
    }

    /// x / ‖x‖ and ‖x‖; nil when x is zero (it has no direction).
    public static func normalized(_ x: [Double]) -> (vector: [Double], norm: Double)? {
        let length = norm(x)
        guard length > 0 else { return nil }
        var v = x
        scale(&v, by: 1 / length)
        return (v, length)
    }

    /// The blocked dot product on raw storage (`count` entries; pointers may be nil when 0).
    static func dot(_ a: UnsafePointer<Double>?, _ b: UnsafePointer<Double>?, count: Int) -> Double {
        guard count > 0, let a, let b else { return 0 }
        var total = 0.0
        var start = 0
        while start < count {
            let end = min(start + block, count)
            var s = 0.0
            for i in start..<end { s += a[i] * b[i] }
            total += s
            start = end
        }
        return total
    }
}
