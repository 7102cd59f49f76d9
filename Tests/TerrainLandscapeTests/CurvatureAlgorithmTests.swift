import Testing
import Foundation
import TerrainTensor
@testable import TerrainLandscape

/// The curvature algorithms on matrices whose spectra are known by construction: A = Q·diag(λ)·Qᵀ
/// with Q a random orthogonal matrix, so nothing about A's eigenvectors lines up with the axes.
@Suite("CurvatureAlgorithmTests")
struct CurvatureAlgorithmTests {
    // MARK: Test matrices

    /// The columns of a random orthogonal n×n matrix: Gram–Schmidt (twice per column) of a
    /// seeded Gaussian matrix.
    static func orthonormalColumns(_ n: Int, seed: UInt64) -> [[Double]] {
        var g = SeededGenerator(seed: seed)
        var q: [[Double]] = []
        for _ in 0..<n {
            var v = (0..<n).map { _ in g.nextNormal() }
            for _ in 0..<2 { for u in q { VectorMath.axpy(-VectorMath.dot(u, v), u, &v) } }
            q.append(VectorMath.normalized(v)!.vector)
        }
        return q
    }

    /// Q·diag(λ)·Qᵀ, with Q's columns returned too (column k is the eigenvector of λ[k]).
    static func matrix(spectrum: [Double], seed: UInt64) throws -> (a: DenseSymmetricMatrix, vectors: [[Double]]) {
        let n = spectrum.count
        let q = orthonormalColumns(n, seed: seed)
        var rows = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for (lambda, u) in zip(spectrum, q) {
            for i in 0..<n { for j in 0..<n { rows[i][j] += lambda * (u[i] * u[j]) } }
        }
        return (try DenseSymmetricMatrix(rows: rows), q)
    }

    /// n = 200: a top of 10, 8, 6; a cluster of 40 eigenvalues in [3, 3.004]; a bulk of 155 in
    /// [−1, 2]; a bottom of −5, −4 (negative curvature). Largest magnitudes 10, 8, 6, 5, 4, so
    /// power iteration's top 3 are the algebraic top 3.
    static let spectrum: [Double] = {
        var g = SeededGenerator(seed: 77)
        let cluster = (0..<40).map { 3 + 0.0001 * Double($0) }
        let bulk = (0..<155).map { _ in -1 + 3 * g.nextUniform() }
        return [10, 8, 6] + cluster + bulk + [-5, -4]
    }()

    static func relative(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-300) }

    /// ‖Av − θv‖.
    static func residual(_ a: some SymmetricOperator, _ theta: Double, _ v: [Double]) throws -> Double {
        var r = try a.apply(v)
        VectorMath.axpy(-theta, v, &r)
        return VectorMath.norm(r)
    }

    // MARK: Vector helpers and operators

    @Test func directionDotIsVectorMathDot() {
        var g = SeededGenerator(seed: 3)
        let a = (0..<10_000).map { _ in g.nextNormal() }, b = (0..<10_000).map { _ in g.nextNormal() }
        #expect(Direction(values: a).norm == VectorMath.norm(a))
        #expect(Direction.cosine(Direction(values: a), Direction(values: b)) == VectorMath.dot(a, b) / (VectorMath.norm(a) * VectorMath.norm(b)))
        var y = b
        VectorMath.axpy(2, a, &y)
        #expect(y[17] == b[17] + 2 * a[17])
        VectorMath.scale(&y, by: 0.5)
        #expect(y[17] == (b[17] + 2 * a[17]) * 0.5)
        #expect(VectorMath.normalized([0, 0]) == nil)
        #expect(VectorMath.dot([], []) == 0)
    }

    @Test func krylovBasisProjectionsMatchDotProducts() {
        var g = SeededGenerator(seed: 5)
        let n = 9_000   // more than two summation blocks
        let basis = KrylovBasis(dimension: n)
        var vectors: [[Double]] = []
        for _ in 0..<7 {
            let v = (0..<n).map { _ in g.nextNormal() }
            basis.append(v)
            vectors.append(v)
        }
        let w = (0..<n).map { _ in g.nextNormal() }
        // Bit for bit the blocked dot product, whether a coefficient is computed four at a time or alone.
        #expect(basis.coefficients(of: w) == vectors.map { VectorMath.dot($0, w) })
    }

    @Test func denseMatrixChecksItsInput() throws {
        #expect(throws: LandscapeError.self) { try DenseSymmetricMatrix(rows: [[1, 2], [3, 4]]) }
        #expect(throws: LandscapeError.self) { try DenseSymmetricMatrix(rows: [[1, 2], [2]]) }
        #expect(throws: LandscapeError.self) { try DenseSymmetricMatrix(rows: [[1, .nan], [.nan, 1]]) }
        // Within the tolerance the stored matrix is exactly symmetric.
        let a = try DenseSymmetricMatrix(rows: [[1, 2 + 1e-15], [2, 4]])
        #expect(a[0, 1] == a[1, 0])
        #expect(try a.apply([1, -1]) == [1 - a[0, 1], a[1, 0] - 4])
        #expect(throws: LandscapeError.self) { try a.apply([1, 2, 3]) }
    }

    // MARK: Tridiagonal eigenproblem

    @Test func tridiagonalQLMatchesJacobi() throws {
        var g = SeededGenerator(seed: 11)
        let m = 40
        var d = (0..<m).map { _ in g.nextNormal() }
        var e = (0..<(m - 1)).map { _ in g.nextNormal() }
        e[12] = 0; e[30] = 0   // blocks that split from the start
        d[5] = 1e6             // a scale far from the rest
        var dense = [Double](repeating: 0, count: m * m)
        for i in 0..<m { dense[i * m + i] = d[i] }
        for i in 0..<(m - 1) { dense[i * m + i + 1] = e[i]; dense[(i + 1) * m + i] = e[i] }
        let ql = try TridiagonalEigen.decompose(diagonal: d, offDiagonal: e)
        let jacobi = SymmetricEigen.decompose(dense, size: m)
        #expect(ql.values == ql.values.sorted())
        // Both to ~1e-12 of ‖T‖ ≈ 1e6 (Jacobi stops at off-diagonal mass ~1e-15·n·max|t_ij|).
        for (a, b) in zip(ql.values, jacobi.values.reversed()) { #expect(abs(a - b) <= 1e-6) }
        for (lambda, z) in zip(ql.values, ql.vectors) {
            #expect(abs(VectorMath.norm(z) - 1) < 1e-13)
            for i in 0..<m {
                let tz = d[i] * z[i] + (i > 0 ? e[i - 1] * z[i - 1] : 0) + (i < m - 1 ? e[i] * z[i + 1] : 0)
                #expect(abs(tz - lambda * z[i]) < 1e-9)
            }
        }
        for i in 0..<m { for j in 0..<i { #expect(abs(VectorMath.dot(ql.vectors[i], ql.vectors[j])) < 1e-13) } }
        // Tracking two rows gives exactly those rows of the full eigenvectors.
        let ends = try TridiagonalEigen.decompose(diagonal: d, offDiagonal: e, rows: [0, m - 1])
        #expect(ends.values == ql.values)
        #expect(ends.vectors == ql.vectors.map { [$0[0], $0[m - 1]] })
    }

    @Test func tridiagonalQLSeparatesWilkinsonPairs() throws {
        // W₂₁⁺: diagonal |10 − i|, off-diagonal 1. Its largest eigenvalues come in pairs that
        // agree to ~1e-14 relative, the classic hard case for eigenvalue separation.
        let d = (0...20).map { Double(abs(10 - $0)) }, e = [Double](repeating: 1, count: 20)
        let ql = try TridiagonalEigen.decompose(diagonal: d, offDiagonal: e)
        var dense = [Double](repeating: 0, count: 21 * 21)
        for i in 0..<21 { dense[i * 21 + i] = d[i] }
        for i in 0..<20 { dense[i * 21 + i + 1] = 1; dense[(i + 1) * 21 + i] = 1 }
        let jacobi = SymmetricEigen.decompose(dense, size: 21)
        for (a, b) in zip(ql.values, jacobi.values.reversed()) { #expect(abs(a - b) < 1e-12) }
        #expect(abs(ql.values[20] - 10.746194182903) < 1e-11)
        for i in 0..<21 { for j in 0..<i { #expect(abs(VectorMath.dot(ql.vectors[i], ql.vectors[j])) < 1e-12) } }
        #expect(try TridiagonalEigen.decompose(diagonal: [], offDiagonal: []).values.isEmpty)
        #expect(try TridiagonalEigen.decompose(diagonal: [2], offDiagonal: []) == .init(values: [2], vectors: [[1]]))
        #expect(throws: LandscapeError.self) { try TridiagonalEigen.decompose(diagonal: [1, .nan], offDiagonal: [1]) }
    }

    // MARK: Lanczos

    @Test func lanczosFindsExtremeEigenpairsOfAKnownSpectrum() throws {
        let (a, q) = try Self.matrix(spectrum: Self.spectrum, seed: 1)
        let normA = 10.0
        var steps: [Int] = []
        let result = try Lanczos.extremeEigenpairs(of: a, top: 3, bottom: 2, maxIterations: 200, tolerance: 1e-10,
                                                   seed: 42, wantVectors: true, progress: { steps.append($0) })
        #expect(result.converged)
        #expect(result.iterations < 200)   // converged, not the whole space
        #expect(steps == Array(1...result.iterations))
        #expect(Array(result.top) == Array(result.eigenvalues.prefix(3)))
        let expected: [Double] = [10, 8, 6, -4, -5]
        #expect(result.eigenvalues.count == 5)
        for (found, truth) in zip(result.eigenvalues, expected) { #expect(Self.relative(found, truth) < 1e-8) }
        #expect(Array(result.bottom) == Array(result.eigenvalues.suffix(2)))
        let truthIndex = [0, 1, 2, 199, 198]
        for (k, v) in result.eigenvectors!.enumerated() {
            let r = try Self.residual(a, result.eigenvalues[k], v)
            #expect(r < 1e-6 * normA)
            // The residual the recurrence reports is the true one.
            #expect(abs(r - result.residuals[k]) < 1e-9 * normA)
            #expect(abs(abs(VectorMath.dot(v, q[truthIndex[k]])) - 1) < 1e-10)
        }

        // PyHessian's tolerance (1e-3 relative residual): eigenvalues still good to ~residual²/gap.
        let quick = try Lanczos.extremeEigenpairs(of: a, top: 3, bottom: 2, seed: 42)
        #expect(quick.converged && quick.eigenvectors == nil && quick.iterations < result.iterations)
        for (k, (found, truth)) in zip(quick.eigenvalues, expected).enumerated() {
            #expect(Self.relative(found, truth) < 1e-4)
            #expect(quick.residuals[k] <= 1e-3 * 10 * (1 + 1e-6))
        }
    }

    @Test func powerIterationAgreesWithLanczos() throws {
        let (a, _) = try Self.matrix(spectrum: Self.spectrum, seed: 1)
        let lanczos = try Lanczos.extremeEigenpairs(of: a, top: 3, maxIterations: 200, tolerance: 1e-10, seed: 9, wantVectors: true)
        // PyHessian's defaults stop on a relative change below 1e-3 per step; with ratios |λ₂/λ₁|
        // of 0.8 to 0.83 the error at that point is ~2.3e-3 at most (tolerance·r²/(1 − r²)).
        let power = try PowerIteration.topEigenpairs(of: a, count: 3, seed: 9)
        #expect(power.converged == [true, true, true])
        #expect(power.iterations.allSatisfy { $0 < 100 })
        for (p, l) in zip(power.eigenvalues, lanczos.eigenvalues) { #expect(Self.relative(p, l) < 5e-3) }
        // Run to a tight tolerance, the two agree to rounding, vectors included.
        let tight = try PowerIteration.topEigenpairs(of: a, count: 3, maxIterations: 1000, tolerance: 1e-13, seed: 9)
        for k in 0..<3 {
            #expect(Self.relative(tight.eigenvalues[k], lanczos.eigenvalues[k]) < 1e-9)
            #expect(abs(abs(VectorMath.dot(tight.eigenvectors[k], lanczos.eigenvectors![k])) - 1) < 1e-6)
        }
        // Deflation: the vectors found are orthonormal.
        for i in 0..<3 { for j in 0..<i { #expect(abs(VectorMath.dot(tight.eigenvectors[i], tight.eigenvectors[j])) < 1e-12) } }
    }

    @Test func tinyDimensions() throws {
        let one = try DenseSymmetricMatrix(rows: [[3]])
        let r1 = try Lanczos.extremeEigenpairs(of: one, top: 2, bottom: 2, seed: 1, wantVectors: true)
        #expect(r1.eigenvalues == [3] && r1.topCount == 1 && r1.bottomCount == 1 && r1.iterations == 1)
        #expect(r1.eigenvectors == [[1]] && r1.residuals == [0] && r1.converged)
        #expect(try PowerIteration.topEigenpairs(of: one, count: 4, seed: 1).eigenvalues == [3])

        let two = try DenseSymmetricMatrix(rows: [[2, 1], [1, 2]])
        let r2 = try Lanczos.extremeEigenpairs(of: two, top: 1, bottom: 1, seed: 1, wantVectors: true)
        #expect(r2.iterations == 2 && r2.converged)
        #expect(abs(r2.eigenvalues[0] - 3) < 1e-14 && abs(r2.eigenvalues[1] - 1) < 1e-14)
        let s = 0.5.squareRoot()
        #expect(abs(r2.eigenvectors![0][0] - s) < 1e-14 && abs(r2.eigenvectors![0][1] - s) < 1e-14)

        // Dimension 3, top 5: the Krylov space is exhausted after 3 steps and all 3 pairs are exact.
        let rows: [[Double]] = [[4, 1, 0], [1, 3, 1], [0, 1, 2]]
        let three = try DenseSymmetricMatrix(rows: rows)
        let r3 = try Lanczos.extremeEigenpairs(of: three, top: 5, seed: 1, wantVectors: true)
        #expect(r3.iterations == 3 && r3.converged && r3.topCount == 3 && r3.bottomCount == 0)
        let exact = [3 + 3.0.squareRoot(), 3, 3 - 3.0.squareRoot()]
        for k in 0..<3 {
            #expect(abs(r3.eigenvalues[k] - exact[k]) < 1e-13)
            #expect(try Self.residual(three, r3.eigenvalues[k], r3.eigenvectors![k]) < 1e-13)
        }
        // SLQ stops at exhaustion too: its nodes are exact eigenvalues (those its probe sees; a
        // ±1 probe can be orthogonal to an eigenvector of so small a matrix).
        let slq = try SpectralDensity.estimate(of: three, seed: 1)
        #expect(slq.nodes[0].count <= 3 && abs(slq.weights[0].reduce(0, +) - 1) < 1e-14)
        for node in slq.nodes[0] { #expect(exact.contains { abs(node - $0) < 1e-13 }) }
    }

    @Test func krylovExhaustionWithRepeatedEigenvalues() throws {
        // Three distinct eigenvalues, each four times: any Krylov space has dimension ≤ 3, so β
        // vanishes after 3 steps. The Ritz values are then exact; restarting in the orthogonal
        // complement finds the other copies.
        let spectrum: [Double] = [4, 4, 4, 4, 1, 1, 1, 1, -2, -2, -2, -2]
        let (a, _) = try Self.matrix(spectrum: spectrum, seed: 2)
        let short = try Lanczos.extremeEigenpairs(of: a, top: 1, bottom: 1, maxIterations: 3, seed: 5)
        #expect(short.iterations == 3)
        #expect(abs(short.eigenvalues[0] - 4) < 1e-12 && abs(short.eigenvalues[1] + 2) < 1e-12)
        #expect(short.residuals.allSatisfy { $0 < 1e-11 } && short.converged)

        let full = try Lanczos.extremeEigenpairs(of: a, top: 4, bottom: 4, seed: 5, wantVectors: true)
        #expect(full.iterations == 12 && full.converged)
        for (found, truth) in zip(full.eigenvalues, [4.0, 4, 4, 4, -2, -2, -2, -2]) { #expect(abs(found - truth) < 1e-12) }
        for (k, v) in full.eigenvectors!.enumerated() { #expect(try Self.residual(a, full.eigenvalues[k], v) < 1e-11) }
        // The four copies of 4 span its eigenspace: their vectors are orthonormal.
        for i in 0..<4 { for j in 0..<i { #expect(abs(VectorMath.dot(full.eigenvectors![i], full.eigenvectors![j])) < 1e-12) } }

        // The zero matrix: every step is a breakdown.
        let zero = try DenseSymmetricMatrix(rows: [[Double]](repeating: [0, 0, 0, 0, 0], count: 5))
        let z = try Lanczos.extremeEigenpairs(of: zero, top: 2, seed: 1)
        #expect(z.eigenvalues == [0, 0] && z.iterations == 5 && z.converged)
        #expect(try PowerIteration.topEigenpairs(of: zero, count: 2, seed: 1).eigenvalues == [0, 0])
    }

    @Test func nonsenseRequestsAreRefused() throws {
        let empty = try DenseSymmetricMatrix(rows: [])
        #expect(throws: LandscapeError.self) { try Lanczos.extremeEigenpairs(of: empty, top: 1, seed: 1) }
        #expect(throws: LandscapeError.self) { try PowerIteration.topEigenpairs(of: empty, seed: 1) }
        #expect(throws: LandscapeError.self) { try HutchinsonTrace.estimate(of: empty, seed: 1) }
        #expect(throws: LandscapeError.self) { try SpectralDensity.estimate(of: empty, seed: 1) }
        let a = try DenseSymmetricMatrix(rows: [[1, 0], [0, 2]])
        #expect(throws: LandscapeError.self) { try Lanczos.extremeEigenpairs(of: a, top: 0, bottom: 0, seed: 1) }
        #expect(throws: LandscapeError.self) { try Lanczos.extremeEigenpairs(of: a, top: -1, bottom: 2, seed: 1) }
        #expect(throws: LandscapeError.self) { try Lanczos.extremeEigenpairs(of: a, top: 1, maxIterations: 0, seed: 1) }
        #expect(throws: LandscapeError.self) { try Lanczos.extremeEigenpairs(of: a, top: 1, tolerance: .nan, seed: 1) }
        #expect(throws: LandscapeError.self) { try PowerIteration.topEigenpairs(of: a, count: 0, seed: 1) }
        #expect(throws: LandscapeError.self) { try HutchinsonTrace.estimate(of: a, maxProbes: 0, seed: 1) }
        #expect(throws: LandscapeError.self) { try SpectralDensity.estimate(of: a, steps: 0, seed: 1) }
        #expect(throws: LandscapeError.self) { try SpectralDensity.estimate(of: a, seed: 1).density(gridPoints: 1) }
        #expect(throws: LandscapeError.self) { try SpectralDensity.estimate(of: a, seed: 1).density(sigmaSquared: 0) }
    }

    /// A symmetric operator whose product goes bad after some calls, as a diverging loss would.
    struct FailingOperator: SymmetricOperator {
        let dimension = 6
        let healthyCalls: Int
        let badValue: Double
        let counter = Counter()
        final class Counter { var calls = 0 }
        /// (D + P + Pᵀ)v with D = diag(1…6) and P the cyclic shift: symmetric, not diagonal.
        func apply(_ v: [Double]) throws -> [Double] {
            counter.calls += 1
            let n = dimension
            var out = (0..<n).map { Double($0 + 1) * v[$0] + v[($0 + 1) % n] + v[($0 + n - 1) % n] }
            if counter.calls > healthyCalls { out[2] = badValue }
            return out
        }
    }

    @Test func nonFiniteProductsAreRefused() throws {
        for bad in [Double.nan, .infinity] {
            for run in 0..<4 {
                let op = FailingOperator(healthyCalls: 2, badValue: bad)
                do {
                    switch run {
                    case 0: _ = try Lanczos.extremeEigenpairs(of: op, top: 1, seed: 1)
                    case 1: _ = try PowerIteration.topEigenpairs(of: op, seed: 1)
                    case 2: _ = try HutchinsonTrace.estimate(of: op, seed: 1)
                    default: _ = try SpectralDensity.estimate(of: op, seed: 1)
                    }
                    Issue.record("a non-finite product was accepted")
                } catch let error as LandscapeError {
                    #expect(error.description.contains("the Hessian-vector product returned NaN/Inf"))
                }
                #expect(op.counter.calls == 3)   // it stopped at the first bad product
            }
        }
    }

    // MARK: Hutchinson

    @Test func hutchinsonTraceIsUnbiasedAndItsErrorShrinks() throws {
        let (a, _) = try Self.matrix(spectrum: Self.spectrum, seed: 1)
        let trace = Self.spectrum.reduce(0, +)
        // Rademacher probes: Var(zᵀAz) = 2·(‖A‖_F² − Σ a_ii²).
        let n = a.dimension
        var offDiagonal = 0.0
        for i in 0..<n { for j in 0..<n where i != j { offDiagonal += a[i, j] * a[i, j] } }
        let sigma = (2 * offDiagonal).squareRoot()
        var error10 = 0.0, error400 = 0.0, seRatio = 0.0
        let seeds: [UInt64] = [1, 2, 3, 4, 5, 6, 7, 8]
        for seed in seeds {
            let few = try HutchinsonTrace.estimate(of: a, maxProbes: 10, tolerance: 0, seed: seed)
            let many = try HutchinsonTrace.estimate(of: a, maxProbes: 400, tolerance: 0, seed: seed)
            let quarter = try HutchinsonTrace.estimate(of: a, maxProbes: 25, tolerance: 0, seed: seed)
            #expect(few.probes == 10 && many.probes == 400 && !many.stoppedEarly)
            // Unbiased: within 4 standard errors (the true one for 10 probes, whose estimated
            // spread is itself too rough to scale a bound).
            #expect(abs(few.estimate - trace) <= 4 * sigma / 10.0.squareRoot())
            #expect(abs(many.estimate - trace) <= 4 * many.standardError)
            // The first 25 samples of the long run are the short run's.
            #expect(Array(many.samples.prefix(25)) == quarter.samples)
            // The estimated spread is the true one (within sampling error of 400 samples).
            #expect(abs(many.standardError * 20 / sigma - 1) < 0.2)
            error10 += abs(few.estimate - trace)
            error400 += abs(many.estimate - trace)
            seRatio += many.standardError / quarter.standardError
        }
        #expect(error400 < error10 / 3)   // √40 ≈ 6.3 expected
        seRatio /= Double(seeds.count)
        #expect(seRatio > 0.18 && seRatio < 0.33)   // 1/√16 = 0.25

        // PyHessian's rule (relative change of the mean < 1e-3) fired here long before the
        // estimate was good to 1e-3. The rule on the standard error does not stop while it is
        // large: every probe of the budget is used, and the standard error says how good it is.
        let defaults = try HutchinsonTrace.estimate(of: a, seed: 1)
        #expect(defaults.relativeStandardError > 1e-2)
        #expect(!defaults.stoppedEarly && defaults.probes == 100)
        #expect(abs(defaults.estimate - trace) <= 4 * defaults.standardError)
        // With a loose tolerance it stops, and only once the relative standard error is below it,
        // never before the minimum number of probes.
        for tolerance in [0.5, 0.2, 0.1] {
            let loose = try HutchinsonTrace.estimate(of: a, maxProbes: 400, tolerance: tolerance, seed: 2)
            #expect(loose.stoppedEarly && loose.probes >= HutchinsonTrace.minimumProbes)
            #expect(loose.relativeStandardError < tolerance)
            // The run one probe shorter had not reached it (it would have stopped there).
            if loose.probes > HutchinsonTrace.minimumProbes {
                let shorter = try HutchinsonTrace.estimate(of: a, maxProbes: loose.probes - 1, tolerance: 0, seed: 2)
                #expect(shorter.relativeStandardError >= tolerance)
            }
        }
    }

    @Test func hutchinsonStopsWhenTheStandardErrorIsSmall() throws {
        // A diagonal matrix: zᵀDz = tr D for every Rademacher z, so the spread is zero and the
        // rule stops at the minimum number of probes.
        let d = [1.5, -2, 3, 4.25, 0.5]
        var rows = [[Double]](repeating: [Double](repeating: 0, count: 5), count: 5)
        for i in 0..<5 { rows[i][i] = d[i] }
        let result = try HutchinsonTrace.estimate(of: try DenseSymmetricMatrix(rows: rows), seed: 3)
        #expect(result.probes == HutchinsonTrace.minimumProbes && result.stoppedEarly)
        #expect(result.estimate == d.reduce(0, +) && result.standardError == 0)
        let single = try HutchinsonTrace.estimate(of: try DenseSymmetricMatrix(rows: rows), maxProbes: 1, seed: 3)
        #expect(single.probes == 1 && single.standardError == .infinity && !single.stoppedEarly)
    }

    // MARK: Spectral density

    @Test func spectralDensityFindsThreeClusters() throws {
        var g = SeededGenerator(seed: 21)
        let centres: [Double] = [-2, 1, 5]
        let spectrum = centres.flatMap { c in (0..<100).map { _ in c - 0.01 + 0.02 * g.nextUniform() } }
        let (a, _) = try Self.matrix(spectrum: spectrum, seed: 3)
        var calls = 0
        let slq = try SpectralDensity.estimate(of: a, probes: 4, seed: 8, progress: { calls = $0 })
        #expect(calls == 400)
        #expect(slq.nodes.count == 4 && slq.nodes.allSatisfy { $0.count == 100 })
        let (lo, hi) = (spectrum.min()!, spectrum.max()!)
        for (nodes, weights) in zip(slq.nodes, slq.weights) {
            #expect(abs(weights.reduce(0, +) - 1) < 1e-12)
            #expect(nodes == nodes.sorted() && nodes.first! > lo - 1e-9 && nodes.last! < hi + 1e-9)
        }
        #expect(abs(slq.defaultSigmaSquared - 1e-5 * (slq.bounds.upper - slq.bounds.lower)) < 1e-18)

        let (x, density) = try slq.density()
        #expect(x.count == 10_000 && density.count == 10_000)
        let step = x[1] - x[0]
        func integral(_ f: [Double], _ range: ClosedRange<Double> = -.infinity ... .infinity) -> Double {
            var s = 0.0
            for i in 1..<f.count where range.contains(x[i - 1]) && range.contains(x[i]) { s += 0.5 * (f[i - 1] + f[i]) * step }
            return s
        }
        #expect(abs(integral(density) - 1) < 1e-3)
        // Unnormalized, the mixture already integrates to 1: weights sum to 1 and the grid holds
        // every Gaussian whole.
        let raw = try slq.density(normalized: false).density
        #expect(abs(integral(raw) - 1) < 1e-3)
        // Each cluster holds a third of the mass, peaks at its centre; nothing lies between.
        var inside = 0.0
        for c in centres {
            let window = (c - 0.5)...(c + 0.5)
            let mass = integral(density, window)
            inside += mass
            #expect(abs(mass - 1.0 / 3) < 0.1)
            let peak = x.indices.filter { window.contains(x[$0]) }.max { density[$0] < density[$1] }!
            #expect(abs(x[peak] - c) < 0.02)
        }
        #expect(inside > 0.999)
    }

    @Test func quadratureReproducesMomentsOfTheProbe() throws {
        // Gauss quadrature with m nodes is exact for polynomials of degree < 2m, so the rule's
        // first moments are vᵀAv and vᵀA²v for its probe v = z/‖z‖, and its first probe is
        // Hutchinson's first (same seed, same Rademacher draw).
        let (a, _) = try Self.matrix(spectrum: Self.spectrum, seed: 1)
        let slq = try SpectralDensity.estimate(of: a, probes: 1, steps: 30, seed: 12)
        let hutchinson = try HutchinsonTrace.estimate(of: a, maxProbes: 1, seed: 12)
        let n = Double(a.dimension)
        let first = zip(slq.nodes[0], slq.weights[0]).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(abs(first * n - hutchinson.estimate) < 1e-10 * abs(hutchinson.estimate))
        var g = SeededGenerator(seed: 12)
        let v = ProbeVectors.rademacher(a.dimension, &g).map { $0 / n.squareRoot() }
        let av = try a.apply(v)
        let second = zip(slq.nodes[0], slq.weights[0]).reduce(0) { $0 + $1.0 * $1.0 * $1.1 }
        #expect(abs(second - VectorMath.dot(av, av)) < 1e-10 * second)
    }

    // MARK: Determinism

    @Test func sameSeedSameBits() throws {
        let (a, _) = try Self.matrix(spectrum: Self.spectrum, seed: 1)
        let l1 = try Lanczos.extremeEigenpairs(of: a, top: 3, bottom: 2, seed: 4, wantVectors: true)
        let l2 = try Lanczos.extremeEigenpairs(of: a, top: 3, bottom: 2, seed: 4, wantVectors: true)
        #expect(l1 == l2)
        let l3 = try Lanczos.extremeEigenpairs(of: a, top: 3, bottom: 2, seed: 5, wantVectors: true)
        #expect(l1.eigenvalues != l3.eigenvalues)   // another start, other rounding
        #expect(try PowerIteration.topEigenpairs(of: a, count: 2, seed: 4) == PowerIteration.topEigenpairs(of: a, count: 2, seed: 4))
        #expect(try HutchinsonTrace.estimate(of: a, seed: 4) == HutchinsonTrace.estimate(of: a, seed: 4))
        #expect(try HutchinsonTrace.estimate(of: a, seed: 4).samples != HutchinsonTrace.estimate(of: a, seed: 5).samples)
        let s1 = try SpectralDensity.estimate(of: a, probes: 2, steps: 40, seed: 4)
        let s2 = try SpectralDensity.estimate(of: a, probes: 2, steps: 40, seed: 4)
        #expect(s1 == s2)
        #expect(try s1.density(gridPoints: 500) == s2.density(gridPoints: 500))
    }
}
