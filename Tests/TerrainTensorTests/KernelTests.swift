import Testing
import TerrainTensor

/// The CPU kernels against direct, loop-by-loop computations of the same definitions.
@Suite("CPU kernels")
struct KernelTests {
    let backend = CPUBackend()

    func random(_ shape: [Int], seed: UInt64) -> Tensor<Double> {
        var g = SeededGenerator(seed: seed)
        return .randomNormal(shape: shape, generator: &g)
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matmulMatchesDefinition(transposeA: Bool, transposeB: Bool) {
        let (m, k, n) = (70, 33, 45)   // more than one 64-row block
        let a = random(transposeA ? [k, m] : [m, k], seed: 1)
        let b = random(transposeB ? [n, k] : [k, n], seed: 2)
        let c = backend.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
        #expect(c.shape == [m, n])
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    s += (transposeA ? a[flat: p * m + i] : a[flat: i * k + p]) * (transposeB ? b[flat: j * k + p] : b[flat: p * n + j])
                }
                #expect(abs(c[flat: i * n + j] - s) < 1e-12)
            }
        }
    }

    @Test(arguments: [(3, 1, 1), (3, 2, 1), (1, 1, 0), (1, 2, 0), (5, 1, 2), (3, 3, 0)])
    func convolutionMatchesDirectSum(kernel: Int, stride: Int, padding: Int) {
        let (n, c, h, w, f) = (3, 2, 7, 6, 4)
        let x = random([n, c, h, w], seed: 3), weight = random([f, c, kernel, kernel], seed: 4), bias = random([f], seed: 5)
        let g = Conv2dGeometry(kernel: kernel, stride: stride, padding: padding)
        let y = backend.conv2d(x, weight: weight, bias: bias, geometry: g)
        let (oh, ow) = g.outputSize(height: h, width: w)
        #expect(y.shape == [n, f, oh, ow])
        for i in 0..<n { for o in 0..<f { for r in 0..<oh { for q in 0..<ow {
            var s = bias[flat: o]
            for ch in 0..<c { for u in 0..<kernel { for v in 0..<kernel {
                let ih = r * stride - padding + u, iw = q * stride - padding + v
                if ih >= 0 && ih < h && iw >= 0 && iw < w {
                    s += weight[flat: ((o * c + ch) * kernel + u) * kernel + v] * x[flat: ((i * c + ch) * h + ih) * w + iw]
                }
            }}}
            #expect(abs(y[flat: ((i * f + o) * oh + r) * ow + q] - s) < 1e-12)
        }}}}
    }

    @Test func poolingMatchesDefinition() {
        let x = random([2, 3, 5, 4], seed: 6)
        let g = Pool2dGeometry(kernel: 2, stride: 2)
        let (mx, _) = backend.maxPool2d(x, geometry: g)
        let avg = backend.avgPool2d(x, geometry: g)
        #expect(mx.shape == [2, 3, 2, 2])
        for p in 0..<6 { for r in 0..<2 { for q in 0..<2 {
            let vals = [(0, 0), (0, 1), (1, 0), (1, 1)].map { x[flat: p * 20 + (2 * r + $0.0) * 4 + 2 * q + $0.1] }
            #expect(mx[flat: p * 4 + r * 2 + q] == vals.max()!)
            #expect(abs(avg[flat: p * 4 + r * 2 + q] - vals.reduce(0, +) / 4) < 1e-15)
        }}}
    }

    @Test func featureMomentsAndAffine() {
        let x = random([5, 3, 2, 2], seed: 7)
        let (mean, variance) = backend.featureMoments(x)
        for ch in 0..<3 {
            var values: [Double] = []
            for i in 0..<5 { for j in 0..<4 { values.append(x[flat: (i * 3 + ch) * 4 + j]) } }
            let mu = values.reduce(0, +) / 20
            #expect(abs(mean[ch] - mu) < 1e-14)
            #expect(abs(variance[ch] - values.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / 20) < 1e-14)
        }
        let y = backend.featureAffine(x, scale: Tensor(shape: [3], scalars: [1, 2, 3]), shift: Tensor(shape: [3], scalars: [0, -1, 1]))
        #expect(y[flat: 4] == 2 * x[flat: 4] - 1)
    }

    @Test func concatAndSplitAreInverse() {
        let a = random([2, 2, 3], seed: 8), b = random([2, 3, 3], seed: 9)
        let c = backend.concatFeatures([a, b])
        #expect(c.shape == [2, 5, 3])
        let parts = backend.splitFeatures(c, sizes: [2, 3])
        #expect(parts[0] == a && parts[1] == b)
    }

    @Test func resultsDoNotDependOnTheThreadCount() {
        // Float, where summation order shows in the last bits.
        var g = SeededGenerator(seed: 10)
        let x = Tensor<Float>.randomNormal(shape: [19, 8, 12, 12], generator: &g)
        let w = Tensor<Float>.randomNormal(shape: [16, 8, 3, 3], generator: &g)
        let big = Tensor<Float>.randomNormal(shape: [300_000], generator: &g)
        let geometry = Conv2dGeometry(kernel: 3, stride: 1, padding: 1)
        func run() -> (Tensor<Float>, Conv2dGradients<Float>, Double, [Double]) {
            let y = backend.conv2d(x, weight: w, bias: nil, geometry: geometry)
            let grads = backend.conv2dBackward(input: x, weight: w, gradient: y, geometry: geometry, needsInputGradient: true)
            return (y, grads, backend.sum(big), backend.featureMoments(x).variance)
        }
        let (one, three) = resultsWithOneAndThreeThreads(run)
        #expect(one.0 == three.0)
        #expect(one.1.weight == three.1.weight && one.1.input! == three.1.input! && one.1.bias == three.1.bias)
        #expect(one.2 == three.2 && one.3 == three.3)
    }

    @Test func seededGeneratorIsReproducible() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let xs = (0..<5).map { _ in a.next() }
        #expect(xs == (0..<5).map { _ in b.next() })
        #expect(xs != (0..<5).map { _ in c.next() })
        var g = SeededGenerator(seed: 1)
        let samples = (0..<200_000).map { _ in g.nextNormal() }
        let mean = samples.reduce(0, +) / 200_000
        let variance = samples.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 200_000
        #expect(abs(mean) < 0.01 && abs(variance - 1) < 0.01)
        var p = SeededGenerator(seed: 3)
        #expect(p.permutation(100).sorted() == Array(0..<100))
    }

    @Test func copyOnWriteKeepsValueSemantics() {
        let a = Tensor<Float>(shape: [3], scalars: [1, 2, 3])
        var b = a
        b[flat: 0] = 9
        #expect(a.scalars == [1, 2, 3] && b.scalars == [9, 2, 3])
        #expect(a.reshaped([1, 3]).shape == [1, 3] && a.reshaped([-1, 1]).shape == [3, 1])
        #expect(Tensor<Double>(converting: a).scalars == [1, 2, 3])
    }
}
