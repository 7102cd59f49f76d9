import Testing
import TerrainTensor

/// `batchedMatmul` against a loop over the definition C[b] = op(A[b]) · op(B[b]), for every pair
/// of transposes, equal batch axes, a shared operand (batch stride 0) and row-blocked products.
@Suite("Batched matrix products")
struct BatchedMatmulTests {
    let backend = CPUBackend()

    func random<T: TensorScalar>(_ shape: [Int], seed: UInt64, as: T.Type = T.self) -> Tensor<T> {
        var g = SeededGenerator(seed: seed)
        return .randomNormal(shape: shape, generator: &g)
    }

    /// The naive product: batch item `index` of each operand is its own matrix, or its only one.
    func naive<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>, transposeA: Bool, transposeB: Bool,
                                batch: Int, m: Int, k: Int, n: Int) -> [Double] {
        let sharedA = a.count == m * k, sharedB = b.count == k * n
        var c = [Double](repeating: 0, count: batch * m * n)
        for item in 0..<batch {
            let oa = sharedA ? 0 : item * m * k, ob = sharedB ? 0 : item * k * n
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for p in 0..<k {
                        let x = transposeA ? a[flat: oa + p * m + i] : a[flat: oa + i * k + p]
                        let y = transposeB ? b[flat: ob + j * k + p] : b[flat: ob + p * n + j]
                        s += Double(x) * Double(y)
                    }
                    c[(item * m + i) * n + j] = s
                }
            }
        }
        return c
    }

    /// Shapes [lead…, rows, columns] of op's operand for a product with the given sizes.
    func operandShape(_ lead: [Int], rows: Int, columns: Int, transposed: Bool) -> [Int] {
        lead + (transposed ? [columns, rows] : [rows, columns])
    }

    static let transposes = [(false, false), (true, false), (false, true), (true, true)]

    @Test(arguments: transposes)
    func equalBatchAxesMatchLoop(transposeA: Bool, transposeB: Bool) {
        for (lead, m, k, n) in [([5], 7, 4, 6), ([2, 3], 3, 5, 2), ([2], 150, 9, 11)] {
            let a: Tensor<Double> = random(operandShape(lead, rows: m, columns: k, transposed: transposeA), seed: 1)
            let b: Tensor<Double> = random(operandShape(lead, rows: k, columns: n, transposed: transposeB), seed: 2)
            let c = backend.batchedMatmul(a, b, transposeA: transposeA, transposeB: transposeB)
            #expect(c.shape == lead + [m, n])
            let expected = naive(a, b, transposeA: transposeA, transposeB: transposeB,
                                 batch: lead.reduce(1, *), m: m, k: k, n: n)
            for i in 0..<c.count { #expect(abs(c[flat: i] - expected[i]) < 1e-12, "\(lead) \(m)×\(k)×\(n) at \(i)") }
        }
    }

    @Test(arguments: transposes)
    func sharedOperandHasBatchStrideZero(transposeA: Bool, transposeB: Bool) {
        let (batch, m, k, n) = (4, 6, 5, 3)
        // A shared (a plain matrix), then B shared (a batch of one).
        let sharedA: Tensor<Double> = random(operandShape([], rows: m, columns: k, transposed: transposeA), seed: 3)
        let stackedB: Tensor<Double> = random(operandShape([batch], rows: k, columns: n, transposed: transposeB), seed: 4)
        let c1 = backend.batchedMatmul(sharedA, stackedB, transposeA: transposeA, transposeB: transposeB)
        #expect(c1.shape == [batch, m, n])
        let e1 = naive(sharedA, stackedB, transposeA: transposeA, transposeB: transposeB, batch: batch, m: m, k: k, n: n)
        for i in 0..<c1.count { #expect(abs(c1[flat: i] - e1[i]) < 1e-12) }

        let stackedA: Tensor<Double> = random(operandShape([2, 2], rows: m, columns: k, transposed: transposeA), seed: 5)
        let sharedB: Tensor<Double> = random(operandShape([1], rows: k, columns: n, transposed: transposeB), seed: 6)
        let c2 = backend.batchedMatmul(stackedA, sharedB, transposeA: transposeA, transposeB: transposeB)
        #expect(c2.shape == [2, 2, m, n])
        let e2 = naive(stackedA, sharedB, transposeA: transposeA, transposeB: transposeB, batch: batch, m: m, k: k, n: n)
        for i in 0..<c2.count { #expect(abs(c2[flat: i] - e2[i]) < 1e-12) }
    }

    @Test func floatMatchesDoubleLoop() {
        let a: Tensor<Float> = random([3, 70, 8], seed: 7), b: Tensor<Float> = random([3, 9, 8], seed: 8)
        let c = backend.batchedMatmul(a, b, transposeA: false, transposeB: true)
        #expect(c.shape == [3, 70, 9])
        let expected = naive(a, b, transposeA: false, transposeB: true, batch: 3, m: 70, k: 8, n: 9)
        for i in 0..<c.count { #expect(abs(Double(c[flat: i]) - expected[i]) < 1e-4) }
    }

    @Test func eachItemEqualsMatmul() {
        // Row-blocked items (M > 64, small batch) give matmul's bits for each matrix.
        let a: Tensor<Double> = random([2, 130, 17], seed: 9), b: Tensor<Double> = random([2, 17, 12], seed: 10)
        let c = backend.batchedMatmul(a, b, transposeA: false, transposeB: false)
        for item in 0..<2 {
            let single = backend.matmul(a.slice(rows: item..<item + 1).reshaped([130, 17]),
                                        b.slice(rows: item..<item + 1).reshaped([17, 12]), transposeA: false, transposeB: false)
            #expect(c.slice(rows: item..<item + 1).reshaped([130, 12]) == single)
        }
    }

    @Test func resultsDoNotDependOnTheThreadCount() {
        // Float, where summation order shows in the last bits; both ways of cutting the work.
        let small: Tensor<Float> = random([3, 200, 40], seed: 11), right: Tensor<Float> = random([3, 30, 40], seed: 12)
        let many: Tensor<Float> = random([20, 9, 40], seed: 13)
        func run() -> (Tensor<Float>, Tensor<Float>) {
            (backend.batchedMatmul(small, right, transposeA: false, transposeB: true),
             backend.batchedMatmul(many, right.slice(rows: 0..<1), transposeA: false, transposeB: true))
        }
        let (one, three) = resultsWithOneAndThreeThreads(run)
        #expect(one.0 == three.0 && one.1 == three.1)
    }

    @Test func emptyInnerDimensionGivesZeros() {
        let a = Tensor<Double>(zeros: [3, 4, 0]), b = Tensor<Double>(zeros: [3, 0, 2])
        let c = backend.batchedMatmul(a, b, transposeA: false, transposeB: false)
        #expect(c.shape == [3, 4, 2])
        #expect(c.scalars.allSatisfy { $0 == 0 })
        #expect(backend.batchedMatmul(Tensor<Double>(zeros: [0, 4, 3]), Tensor<Double>(zeros: [0, 3, 2]),
                                      transposeA: false, transposeB: false).shape == [0, 4, 2])
    }

    /// `addingTo:` adds the product into C by the GEMM (β = 1): C + op(A)·op(B), for matrices and
    /// stacks, row-blocked or not, Float and Double, whatever C held before.
    @Test(arguments: transposes)
    func productsAddedIntoAnExistingResult(transposeA: Bool, transposeB: Bool) {
        func check<T: TensorScalar>(_: T.Type, tolerance: Double) {
            for (lead, m, k, n) in [([] as [Int], 150, 9, 11), ([5], 7, 4, 6), ([2], 150, 33, 5), ([], 3, 0, 2)] {
                let a: Tensor<T> = random(operandShape(lead, rows: m, columns: k, transposed: transposeA), seed: 3)
                let b: Tensor<T> = random(operandShape(lead, rows: k, columns: n, transposed: transposeB), seed: 4)
                let start: Tensor<T> = random(lead + [m, n], seed: 5)
                var sum = start
                if lead.isEmpty {
                    backend.matmul(a, b, transposeA: transposeA, transposeB: transposeB, addingTo: &sum)
                } else {
                    backend.batchedMatmul(a, b, transposeA: transposeA, transposeB: transposeB, addingTo: &sum)
                }
                let product = naive(a, b, transposeA: transposeA, transposeB: transposeB,
                                    batch: max(1, lead.reduce(1, *)), m: m, k: k, n: n)
                #expect(start.scalars != sum.scalars || k == 0, "\(T.self) \(lead) \(m)×\(k)×\(n): C unchanged")
                for i in 0..<sum.count {
                    let expected = Double(start[flat: i]) + product[i]
                    #expect(abs(Double(sum[flat: i]) - expected) <= tolerance * (1 + abs(expected)),
                            "\(T.self) \(lead) \(m)×\(k)×\(n) at \(i)")
                }
            }
        }
        check(Double.self, tolerance: 1e-12)
        check(Float.self, tolerance: 1e-5)
    }

    /// Causal attention's structures: a triangular op(A) (zero on the skipped side) gives the full
    /// product; a triangular result is right in its lower triangle. Sizes around the row blocks of
    /// 32, products added into an existing C too, Float and Double.
    @Test(arguments: transposes)
    func causalStructuresSkipOnlyZerosAndUnreadValues(transposeA: Bool, transposeB: Bool) {
        func check<T: TensorScalar>(_: T.Type, tolerance: Double) {
            for (batch, t, width) in [(3, 1, 4), (2, 31, 5), (2, 33, 8), (1, 70, 3), (2, 64, 16)] {
                for structure in [CausalStructure.lowerTriangularLeft, .upperTriangularLeft, .lowerTriangularResult] {
                    let label = "\(T.self) \(structure) B \(batch) T \(t) D \(width)"
                    let triangularLeft = structure != .lowerTriangularResult
                    // op(A) [T, T] triangular (zeros on the skipped side), or [T, D] for the result case.
                    var a: Tensor<T> = random(operandShape([batch], rows: t, columns: triangularLeft ? t : width,
                                                           transposed: transposeA), seed: 7)
                    if triangularLeft {
                        for item in 0..<batch {
                            for i in 0..<t {
                                for p in 0..<t where structure == .lowerTriangularLeft ? p > i : p < i {
                                    a[flat: item * t * t + (transposeA ? p * t + i : i * t + p)] = 0
                                }
                            }
                        }
                    }
                    let (k, n) = triangularLeft ? (t, width) : (width, t)
                    let b: Tensor<T> = random(operandShape([batch], rows: k, columns: n, transposed: transposeB), seed: 8)
                    let product = naive(a, b, transposeA: transposeA, transposeB: transposeB, batch: batch, m: t, k: k, n: n)
                    let start: Tensor<T> = random([batch, t, n], seed: 9)
                    var sum = start
                    backend.batchedMatmul(a, b, transposeA: transposeA, transposeB: transposeB, structure: structure,
                                          addingTo: &sum)
                    let c = backend.batchedMatmul(a, b, transposeA: transposeA, transposeB: transposeB, structure: structure)
                    #expect(c.shape == [batch, t, n], "\(label)")
                    for item in 0..<batch {
                        for i in 0..<t {
                            for j in 0..<n where triangularLeft || j <= i {
                                let at = (item * t + i) * n + j
                                #expect(abs(Double(c[flat: at]) - product[at]) <= tolerance * (1 + abs(product[at])),
                                        "\(label) at [\(item), \(i), \(j)]")
                                let expected = Double(start[flat: at]) + product[at]
                                #expect(abs(Double(sum[flat: at]) - expected) <= tolerance * (1 + abs(expected)),
                                        "\(label), added, at [\(item), \(i), \(j)]")
                            }
                        }
                    }
                }
            }
        }
        check(Double.self, tolerance: 1e-12)
        check(Float.self, tolerance: 1e-5)
    }
}
