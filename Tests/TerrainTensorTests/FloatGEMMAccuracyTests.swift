import Testing
import TerrainTensor

/// Float matrix products, which run on oneDNN's SGEMM (`Float.gemm`), against products of the
/// same Floats in Double. Each entry c of op(A)·op(B) is a dot product of length k, and Float
/// arithmetic in any order (FMA or not, blocked or not) keeps it within the classic bound
///
///     |c − a·b| ≤ γₖ · Σₚ |aₚ|·|bₚ|,   γₖ = k·u / (1 − k·u),  u = 2⁻²⁴,
///
/// for all four transpose combinations and sizes that fill no kernel block evenly.
@Suite("Float products by oneDNN")
struct FloatGEMMAccuracyTests {
    let backend = CPUBackend()

    static let transposes = [(false, false), (true, false), (false, true), (true, true)]
    static let unitRoundoff = Double(Float.ulpOfOne) / 2

    func random(_ shape: [Int], seed: UInt64) -> Tensor<Float> {
        var g = SeededGenerator(seed: seed)
        return .randomNormal(shape: shape, generator: &g)
    }

    /// Matrix `item` of a stack of [rows, columns] matrices (or its only one), as op(·) sees it:
    /// entry (i, j) of op(M).
    struct Operand {
        let values: [Float], rows: Int, columns: Int, transposed: Bool, shared: Bool
        init(_ t: Tensor<Float>, transposed: Bool, shared: Bool = false) {
            values = t.scalars
            rows = t.shape[t.rank - 2]; columns = t.shape[t.rank - 1]
            self.transposed = transposed; self.shared = shared
        }
        func entry(_ item: Int, _ i: Int, _ j: Int) -> Double {
            let base = shared ? 0 : item * rows * columns
            return Double(transposed ? values[base + j * columns + i] : values[base + i * columns + j])
        }
    }

    /// The largest error of each entry of `c` over its bound γₖ·Σ|a||b|, and over u·Σ|a||b| (how
    /// many unit roundoffs it is worth); the bound holds when the first is at most 1.
    func errorRatios(_ c: Tensor<Float>, _ a: Operand, _ b: Operand, batch: Int, m: Int, k: Int, n: Int)
        -> (ofBound: Double, inUnitRoundoffs: Double) {
        let u = Self.unitRoundoff, gamma = Double(k) * u / (1 - Double(k) * u)
        let values = c.scalars
        var ofBound = 0.0, inUnits = 0.0
        for item in 0..<batch {
            for i in 0..<m {
                for j in 0..<n {
                    var exact = 0.0, magnitude = 0.0
                    for p in 0..<k {
                        let product = a.entry(item, i, p) * b.entry(item, p, j)   // exact in Double
                        exact += product; magnitude += abs(product)
                    }
                    let error = abs(Double(values[(item * m + i) * n + j]) - exact)
                    if error == 0 { continue }
                    ofBound = max(ofBound, error / (gamma * magnitude))
                    inUnits = max(inUnits, error / (u * magnitude))
                }
            }
        }
        return (ofBound, inUnits)
    }

    // Observed (x86-64, AVX-512): at most 4.4 unit roundoffs of Σ|a||b| for any size, far inside
    // γₖ for long products; the bound is tight only at k = 1 (one rounding, 0.996 of γ₁).
    @Test(arguments: transposes)
    func matmulIsWithinTheDotProductBound(transposeA: Bool, transposeB: Bool) {
        for m in [1, 3, 17, 65, 130] {
            for k in [1, 2, 17, 33, 257] {
                for n in [1, 3, 17, 130] {
                    let seed = UInt64(m * 1_000_000 + k * 1000 + n)
                    let a = random(transposeA ? [k, m] : [m, k], seed: seed)
                    let b = random(transposeB ? [n, k] : [k, n], seed: seed + 7)
                    let c = backend.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
                    #expect(c.shape == [m, n])
                    let r = errorRatios(c, Operand(a, transposed: transposeA), Operand(b, transposed: transposeB),
                                        batch: 1, m: m, k: k, n: n)
                    #expect(r.ofBound <= 1, "\(m)×\(k)×\(n): error \(r.ofBound) of the bound, \(r.inUnitRoundoffs) u·Σ|a||b|")
                }
            }
        }
    }

    @Test(arguments: transposes)
    func batchedMatmulIsWithinTheDotProductBound(transposeA: Bool, transposeB: Bool) {
        for (m, k, n) in [(1, 17, 3), (3, 1, 130), (17, 33, 17), (65, 257, 3), (130, 17, 65)] {
            let seed = UInt64(m * 1000 + k)
            // A stack on either side, then one shared matrix on either side.
            let lead = [2, 3]
            let a = random(lead + (transposeA ? [k, m] : [m, k]), seed: seed)
            let b = random(lead + (transposeB ? [n, k] : [k, n]), seed: seed + 1)
            let c = backend.batchedMatmul(a, b, transposeA: transposeA, transposeB: transposeB)
            #expect(c.shape == lead + [m, n])
            let r = errorRatios(c, Operand(a, transposed: transposeA), Operand(b, transposed: transposeB),
                                batch: 6, m: m, k: k, n: n)
            #expect(r.ofBound <= 1, "\(lead) \(m)×\(k)×\(n): error \(r.ofBound) of the bound")

            let sharedA = random(transposeA ? [k, m] : [m, k], seed: seed + 2)
            let c1 = backend.batchedMatmul(sharedA, b, transposeA: transposeA, transposeB: transposeB)
            let r1 = errorRatios(c1, Operand(sharedA, transposed: transposeA, shared: true),
                                 Operand(b, transposed: transposeB), batch: 6, m: m, k: k, n: n)
            #expect(r1.ofBound <= 1, "shared A \(m)×\(k)×\(n): error \(r1.ofBound) of the bound")

            let sharedB = random([1] + (transposeB ? [n, k] : [k, n]), seed: seed + 3)
            let c2 = backend.batchedMatmul(a, sharedB, transposeA: transposeA, transposeB: transposeB)
            let r2 = errorRatios(c2, Operand(a, transposed: transposeA),
                                 Operand(sharedB, transposed: transposeB, shared: true), batch: 6, m: m, k: k, n: n)
            #expect(r2.ofBound <= 1, "shared B \(m)×\(k)×\(n): error \(r2.ofBound) of the bound")
        }
    }

    /// An empty inner dimension gives zeros, even in a result buffer that held NaNs before
    /// (buffers of 64 KiB and more come back from a pool with their old contents).
    @Test func emptyInnerDimensionGivesZeros() {
        for _ in 0..<4 { _ = Tensor<Float>(repeating: .nan, shape: [130, 130]) }
        let c = backend.matmul(Tensor<Float>(zeros: [130, 0]), Tensor<Float>(zeros: [0, 130]), transposeA: false, transposeB: false)
        #expect(c.shape == [130, 130] && c.scalars.allSatisfy { $0 == 0 })
        let t = backend.matmul(Tensor<Float>(zeros: [0, 130]), Tensor<Float>(zeros: [130, 0]), transposeA: true, transposeB: true)
        #expect(t.shape == [130, 130] && t.scalars.allSatisfy { $0 == 0 })
        for _ in 0..<4 { _ = Tensor<Float>(repeating: .nan, shape: [2, 130, 65]) }
        let b = backend.batchedMatmul(Tensor<Float>(zeros: [2, 130, 0]), Tensor<Float>(zeros: [2, 0, 65]),
                                      transposeA: false, transposeB: false)
        #expect(b.shape == [2, 130, 65] && b.scalars.allSatisfy { $0 == 0 })
    }

    /// Products with no rows or no columns are empty, for every transpose (the GEMM is never
    /// asked for a matrix with a zero leading dimension).
    @Test(arguments: transposes)
    func emptyResults(transposeA: Bool, transposeB: Bool) {
        for (m, k, n) in [(0, 5, 7), (5, 5, 0), (0, 3, 0)] {
            let a = random(transposeA ? [k, m] : [m, k], seed: 70), b = random(transposeB ? [n, k] : [k, n], seed: 71)
            #expect(backend.matmul(a, b, transposeA: transposeA, transposeB: transposeB).shape == [m, n])
            let stackA = random([2] + (transposeA ? [k, m] : [m, k]), seed: 72)
            #expect(backend.batchedMatmul(stackA, b, transposeA: transposeA, transposeB: transposeB).shape == [2, m, n])
        }
    }

    /// The products are written with β = 0, so whatever the result buffer held before (here
    /// NaN, from the pool) never shows.
    @Test func previousContentsOfTheResultBufferNeverShow() {
        let a = random([130, 33], seed: 50), b = random([33, 130], seed: 51)
        for _ in 0..<4 { _ = Tensor<Float>(repeating: .nan, shape: [130, 130]) }
        #expect(!backend.matmul(a, b, transposeA: false, transposeB: false).scalars.contains { $0.isNaN })
        for _ in 0..<4 { _ = Tensor<Float>(repeating: .nan, shape: [2, 130, 130]) }
        let stacked = random([2, 130, 33], seed: 52)
        #expect(!backend.batchedMatmul(stacked, b, transposeA: false, transposeB: false).scalars.contains { $0.isNaN })
    }

    /// Products of several row blocks (130 and 520 rows), and stacks cut by matrix and by row
    /// block: 1 and 3 threads give the same bits.
    @Test func resultsDoNotDependOnTheThreadCount() {
        let a = random([520, 257], seed: 60), b = random([257, 130], seed: 61), bt = random([130, 257], seed: 62)
        let stack = random([3, 130, 257], seed: 63), many = random([12, 65, 257], seed: 64)
        func run() -> [[UInt32]] {
            [backend.matmul(a, b, transposeA: false, transposeB: false),
             backend.matmul(a, bt, transposeA: false, transposeB: true),
             backend.matmul(a.reshaped([257, 520]), b, transposeA: true, transposeB: false),
             backend.matmul(a.reshaped([257, 520]), bt, transposeA: true, transposeB: true),
             backend.batchedMatmul(stack, b, transposeA: false, transposeB: false),
             backend.batchedMatmul(many, bt, transposeA: false, transposeB: true)].map { $0.scalars.bitPatterns }
        }
        let (one, three) = resultsWithOneAndThreeThreads(run)
        #expect(one == three)
    }
}
