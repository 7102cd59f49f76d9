import TerrainTensor

/// The random vectors the curvature algorithms start from, drawn from a `SeededGenerator` so
/// that a seed fixes every result bit for bit.
enum ProbeVectors {
    /// A unit vector uniformly distributed on the sphere (normalized standard normal entries): a
    /// start vector with, almost surely, a non-zero component along every eigenvector.
    static func gaussianUnit(_ n: Int, _ generator: inout SeededGenerator) -> [Double] {
        while true {
            let v = (0..<n).map { _ in generator.nextNormal() }
            if let unit = VectorMath.normalized(v) { return unit.vector }
        }
    }

    /// Independent ±1 entries with probability ½ each (Rademacher): E[zzᵀ] = I, so E[zᵀAz] =
    /// tr A, with the least variance of any such distribution. One 64-bit draw gives 64 signs.
    static func rademacher(_ n: Int, _ generator: inout SeededGenerator) -> [Double] {
        var z = [Double](repeating: 1, count: n)
        var bits: UInt64 = 0
        for i in 0..<n {
            if i % 64 == 0 { bits = generator.next() }
            if bits & 1 == 1 { z[i] = -1 }
            bits >>= 1
        }
        return z
    }
}
