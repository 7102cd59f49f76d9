import Foundation
import Testing
import TerrainTensor

/// The kernels ONNX graphs need beyond the zoo's: convolutions with groups, dilation and
/// asymmetric padding; broadcasting and its adjoint; transposes; concatenation on any axis;
/// softmax along an axis with its Jacobian products and second-order term. Each against its
/// definition, and backward kernels against their forward ones (adjoints, finite differences).
@Suite("CPU kernels for imported graphs")
struct GeneralKernelTests {
    let backend = CPUBackend()

    func random(_ shape: [Int], seed: UInt64) -> Tensor<Double> {
        var g = SeededGenerator(seed: seed)
        return .randomNormal(shape: shape, generator: &g)
    }

    /// (kernel, stride, padding begin, padding end, dilation, groups)
    @Test(arguments: [(3, 1, 1, 1, 2, 2), (3, 2, 0, 2, 1, 1), (2, 1, 1, 0, 3, 4), (1, 1, 0, 0, 1, 2), (3, 2, 2, 1, 2, 1)])
    func convolutionWithGroupsAndDilationMatchesDirectSum(kernel: Int, stride: Int, padding: Int, paddingEnd: Int, dilation: Int, groups: Int) {
        let (n, c, h, w, f) = (2, 4, 8, 7, 8)
        let cg = c / groups, fg = f / groups
        let x = random([n, c, h, w], seed: 1), weight = random([f, cg, kernel, kernel], seed: 2), bias = random([f], seed: 3)
        let g = Conv2dGeometry(kernel: (kernel, kernel), stride: (stride, stride), padding: (padding, padding),
                               paddingEnd: (paddingEnd, paddingEnd), dilation: (dilation, dilation), groups: groups)
        let y = backend.conv2d(x, weight: weight, bias: bias, geometry: g)
        let (oh, ow) = g.outputSize(height: h, width: w)
        #expect(y.shape == [n, f, oh, ow])
        for i in 0..<n { for o in 0..<f { for r in 0..<oh { for q in 0..<ow {
            var s = bias[flat: o]
            let group = o / fg
            for k in 0..<cg { for u in 0..<kernel { for v in 0..<kernel {
                let ch = group * cg + k
                let ih = r * stride - padding + u * dilation, iw = q * stride - padding + v * dilation
                if ih >= 0 && ih < h && iw >= 0 && iw < w {
                    s += weight[flat: ((o * cg + k) * kernel + u) * kernel + v] * x[flat: ((i * c + ch) * h + ih) * w + iw]
                }
            }}}
            #expect(abs(y[flat: ((i * f + o) * oh + r) * ow + q] - s) < 1e-12)
        }}}}
        // Backward kernels are the adjoints: ⟨conv(ẋ, W), g⟩ = ⟨ẋ, ∂x⟩ and ⟨conv(x, V), g⟩ = ⟨V, ∂W⟩.
        let gy = random(y.shape, seed: 4), xDot = random(x.shape, seed: 5), v = random(weight.shape, seed: 6)
        let grads = backend.conv2dBackward(input: x, weight: weight, gradient: gy, geometry: g, needsInputGradient: true)
        let lhsX = backend.dot(backend.conv2d(xDot, weight: weight, bias: nil, geometry: g), gy)
        let lhsW = backend.dot(backend.conv2d(x, weight: v, bias: nil, geometry: g), gy)
        #expect(abs(lhsX - backend.dot(xDot, grads.input!)) < 1e-10 * max(1, abs(lhsX)))
        #expect(abs(lhsW - backend.dot(v, grads.weight)) < 1e-10 * max(1, abs(lhsW)))
    }

    @Test func broadcastingFollowsNumPy() {
        #expect(BroadcastShape.of([2, 1, 4], [3, 1]) == [2, 3, 4])
        #expect(BroadcastShape.of([], [5]) == [5])
        #expect(BroadcastShape.of([2, 3], [4, 3]) == nil)
        let a = random([2, 1, 4], seed: 7), b = random([3, 1], seed: 8)
        for (op, f) in [(BinaryOperation.add, { (p: Double, q: Double) in p + q }), (.subtract, { $0 - $1 }),
                        (.multiply, { $0 * $1 }), (.divide, { $0 / $1 })] {
            let y = backend.broadcast(op, a, b)
            #expect(y.shape == [2, 3, 4])
            for i in 0..<2 { for j in 0..<3 { for k in 0..<4 {
                #expect(y[flat: (i * 3 + j) * 4 + k] == f(a[flat: i * 4 + k], b[flat: j]))
            }}}
        }
        // sum(toShape:) is the adjoint of repeating: ⟨expand(a), t⟩ = ⟨a, sum(t)⟩.
        let t = random([2, 3, 4], seed: 9)
        let expanded = backend.broadcast(.add, Tensor(zeros: [2, 3, 4]), a)
        let reduced = backend.sum(t, toShape: a.shape)
        #expect(reduced.shape == a.shape)
        #expect(abs(backend.dot(expanded, t) - backend.dot(a, reduced)) < 1e-12)
        #expect(backend.sum(t, toShape: []).shape == [] && abs(backend.sum(t, toShape: [])[flat: 0] - backend.sum(t)) < 1e-12)
    }

    @Test func transposeConcatenateAndSplit() {
        let x = random([2, 3, 4], seed: 10)
        let y = backend.transpose(x, permutation: [2, 0, 1])
        #expect(y.shape == [4, 2, 3])
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { #expect(y[flat: (k * 2 + i) * 3 + j] == x[flat: (i * 3 + j) * 4 + k]) } } }
        let parts = [random([2, 1, 4], seed: 11), random([2, 3, 4], seed: 12)]
        let joined = backend.concatenate(parts, axis: 1)
        #expect(joined.shape == [2, 4, 4])
        #expect(joined[flat: 4 * 4 + 0] == parts[0][flat: 4] && joined[flat: 4 * 4 + 4] == parts[1][flat: 12])
        let back = backend.split(joined, axis: 1, sizes: [1, 3])
        #expect(back[0] == parts[0] && back[1] == parts[1])
        let last = backend.concatenate([x, x], axis: 2)
        #expect(last.shape == [2, 3, 8] && backend.split(last, axis: 2, sizes: [4, 4])[1] == x)
    }

    @Test(arguments: [false, true]) func softmaxAlongAnAxis(logarithm: Bool) {
        let x = random([2, 5, 3], seed: 13)
        let y = backend.softmax(x, axis: 1, logarithm: logarithm)
        for i in 0..<2 { for k in 0..<3 {
            let column = (0..<5).map { y[flat: (i * 5 + $0) * 3 + k] }
            let total = column.reduce(0) { $0 + (logarithm ? exp($1) : $1) }
            #expect(abs(total - 1) < 1e-12)
        }}
        // J·v against central differences; Jᵀ the adjoint of J.
        let v = random(x.shape, seed: 14), u = random(x.shape, seed: 15), h = 1e-6
        let jv = backend.softmaxJacobian(output: y, v, axis: 1, logarithm: logarithm, transposed: false)
        func moved(_ s: Double) -> Tensor<Double> {
            var p = x
            backend.axpy(s, v, into: &p)
            return backend.softmax(p, axis: 1, logarithm: logarithm)
        }
        var numeric = moved(h)
        backend.axpy(-1, moved(-h), into: &numeric)
        backend.scale(&numeric, by: 1 / (2 * h))
        #expect(zip(jv.scalars, numeric.scalars).allSatisfy { abs($0 - $1) < 1e-8 })
        let jtu = backend.softmaxJacobian(output: y, u, axis: 1, logarithm: logarithm, transposed: true)
        #expect(abs(backend.dot(jv, u) - backend.dot(v, jtu)) < 1e-12)
        // The second-order term is the derivative of Jᵀ·g along ẋ = v (with g fixed).
        let term = backend.softmaxSecondOrder(output: y, outputTangent: jv, gradient: u, axis: 1, logarithm: logarithm)
        func pulled(_ s: Double) -> Tensor<Double> {
            backend.softmaxJacobian(output: moved(s), u, axis: 1, logarithm: logarithm, transposed: true)
        }
        var second = pulled(h)
        backend.axpy(-1, pulled(-h), into: &second)
        backend.scale(&second, by: 1 / (2 * h))
        #expect(zip(term.scalars, second.scalars).allSatisfy { abs($0 - $1) < 1e-7 })
    }

    /// Many distributions (attention's scores) are spread over threads: the bits are those of one
    /// thread, along the last axis and along an inner one, and each row still sums to 1.
    @Test func softmaxOverManyDistributionsDoesNotDependOnTheThreadCount() {
        var g = SeededGenerator(seed: 16)
        let x = Tensor<Float>.randomNormal(shape: [4, 8, 64, 64], std: 3, generator: &g)
        let v = Tensor<Float>.randomNormal(shape: x.shape, generator: &g)
        func run() -> [Tensor<Float>] {
            [3, 2].flatMap { axis in
                let y = backend.softmax(x, axis: axis, logarithm: false)
                return [y, backend.softmax(x, axis: axis, logarithm: true),
                        backend.softmaxJacobian(output: y, v, axis: axis, logarithm: false, transposed: true),
                        backend.softmaxSecondOrder(output: y, outputTangent: v, gradient: x, axis: axis, logarithm: false)]
            }
        }
        let (one, three) = resultsWithOneAndThreeThreads(run)
        #expect(one == three)
        let y = three[0]
        for row in stride(from: 0, to: y.count, by: 64 * 37) {
            #expect(abs((0..<64).reduce(0.0) { $0 + Double(y[flat: row + $1]) } - 1) < 1e-5)
        }
    }

    /// GELU's tanh approximation: the forward kernel is ½x(1 + tanh(√(2/π)(x + 0.044715x³))), f′ is
    /// the central difference of the forward kernel and f″ that of the f′ kernel (Double, h = 1e-6).
    @Test func geluTanhAndItsDerivatives() {
        var x = random([60], seed: 17)
        backend.scale(&x, by: 2)   // out to |x| ≈ 6, where tanh saturates
        let ones = Tensor<Double>(repeating: 1, shape: [60]), h = 1e-6
        let y = backend.activation(.geluTanh, x)
        let d1 = backend.activationBackward(.geluTanh, input: x, output: y, gradient: ones)
        let d2 = backend.activationSecondDerivative(.geluTanh, input: x, output: y, times: ones)
        func at(_ v: Double) -> (f: Double, slope: Double) {
            let p = Tensor<Double>(shape: [1], scalars: [v]), q = backend.activation(.geluTanh, p)
            return (q[flat: 0], backend.activationBackward(.geluTanh, input: p, output: q, gradient: Tensor(repeating: 1, shape: [1]))[flat: 0])
        }
        for i in 0..<60 {
            let v = x[flat: i]
            let closedForm = 0.5 * v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))
            #expect(abs(y[flat: i] - closedForm) <= 1e-15 * max(1, abs(closedForm)))
            #expect(abs(d1[flat: i] - (at(v + h).f - at(v - h).f) / (2 * h)) < 1e-8, "f′ at \(v)")
            #expect(abs(d2[flat: i] - (at(v + h).slope - at(v - h).slope) / (2 * h)) < 1e-8, "f″ at \(v)")
        }
    }

    @Test func erfAndItsDerivatives() {
        let x = random([50], seed: 16), ones = Tensor<Double>(repeating: 1, shape: [50]), h = 1e-6
        let y = backend.activation(.erf, x)
        let d1 = backend.activationBackward(.erf, input: x, output: y, gradient: ones)
        let d2 = backend.activationSecondDerivative(.erf, input: x, output: y, times: ones)
        for i in 0..<50 {
            let v = x[flat: i]
            #expect(abs(y[flat: i] - erf(v)) < 1e-15)
            #expect(abs(d1[flat: i] - (erf(v + h) - erf(v - h)) / (2 * h)) < 1e-8)
            let slope = { (t: Double) in 2 / Double.pi.squareRoot() * exp(-t * t) }
            #expect(abs(d2[flat: i] - (slope(v + h) - slope(v - h)) / (2 * h)) < 1e-8)
        }
    }
}
