import Testing
import TerrainTensor

/// The NaN rule, as a property over every kernel: inputs with NaN at random positions give NaN
/// exactly where PyTorch gives it. Elementwise kernels: at the same positions (ReLU included:
/// relu(NaN) = NaN, and its backward, `threshold_backward`, passes the gradient where the input
/// is NaN). Windows (convolution, pooling): where the window holds a NaN. Reductions (products,
/// softmax, losses, sums): the rows or distributions that hold one. A NaN turned into a number
/// would make an invalid point (a batch norm with a negative running variance) look plausible.
@Suite("NaN propagation")
struct NaNPropagationTests {
    static let activations: [Activation] = [.relu, .leakyRelu(slope: 0.01), .tanh, .sigmoid, .gelu, .geluTanh, .erf]

    /// Normal values with about `fraction` of them NaN, at positions that depend on the seed;
    /// special values (±0, ±∞) mixed in where `special`.
    static func values(_ count: Int, seed: UInt64, fraction: Double = 0.1, special: Bool = false) -> [Double] {
        var g = SeededGenerator(seed: seed)
        let specials: [Double] = [0, -0.0, .infinity, -.infinity]
        return (0..<count).map { i in
            if g.nextUniform() < fraction { return .nan }
            if special && i % 11 == 3 { return specials[(i / 11) % specials.count] }
            return g.nextNormal()
        }
    }

    static func tensor<T: TensorScalar>(_ shape: [Int], _ values: [Double], as _: T.Type) -> Tensor<T> {
        Tensor(shape: shape, scalars: values.map { T($0) })
    }

    static func nanMask<T: TensorScalar>(_ t: Tensor<T>) -> [Bool] { t.scalars.map(\.isNaN) }

    // MARK: Elementwise

    func expectActivations<T: TensorScalar>(_: T.Type, count: Int, seed: UInt64) {
        let backend = CPUBackend()
        let xs = Self.values(count, seed: seed, special: true)
        let gs = Self.values(count, seed: seed + 1000)
        let x = Self.tensor([count], xs, as: T.self), g = Self.tensor([count], gs, as: T.self)
        for kind in Self.activations {
            let y = backend.activation(kind, x)
            // Forward: NaN exactly where the input is NaN. (GELU's x·Φ(x) and its tanh
            // approximation ½x(1 + tanh u) are −∞·0 at −∞, NaN in PyTorch's formulas too: not
            // asked about.)
            for i in 0..<count where !((kind == .gelu || kind == .geluTanh) && xs[i].isInfinite) {
                #expect(y.scalars[i].isNaN == xs[i].isNaN, "\(kind) forward at \(i): \(xs[i]), \(T.self)")
            }
            let gx = backend.activationBackward(kind, input: x, output: y, gradient: g)
            let second = backend.activationSecondDerivative(kind, input: x, output: y, times: g)
            for i in 0..<count {
                let (xi, gi) = (xs[i], gs[i])
                let expected: Bool
                let expectedSecond: Bool
                switch kind {
                case .relu:
                    // threshold_backward(g, x, 0) = x <= 0 ? 0 : g: g passes at NaN.
                    expected = !(xi <= 0) && gi.isNaN
                    expectedSecond = false
                case .leakyRelu:
                    expected = gi.isNaN
                    expectedSecond = false
                default:
                    // The derivative's formula reads x or y = f(x): NaN from either, and from g.
                    // (±∞ inputs give 0·∞ in some formulas; those positions are not asked about.)
                    if xi.isInfinite { continue }
                    expected = xi.isNaN || gi.isNaN
                    expectedSecond = expected
                }
                #expect(gx.scalars[i].isNaN == expected, "\(kind) backward at \(i): x \(xi), g \(gi), got \(gx.scalars[i])")
                if kind == .relu {
                    // The gradient itself passes unchanged where the input is NaN.
                    if xi.isNaN && !gi.isNaN { #expect(gx.scalars[i] == T(gi)) }
                }
                #expect(second.scalars[i].isNaN == expectedSecond, "\(kind) second derivative at \(i): x \(xi), t \(gi)")
            }
        }
    }

    /// The Float ReLU's eight-lane select and its scalar tail, and the Double loop, at lengths
    /// around the vector width.
    @Test(arguments: [1, 7, 8, 9, 33, 1000])
    func activationsKeepNaNWherePyTorchDoes(count: Int) {
        expectActivations(Float.self, count: count, seed: UInt64(count))
        expectActivations(Double.self, count: count, seed: UInt64(count) + 7)
    }

    @Test func elementwiseArithmeticKeepsNaN() {
        let backend = CPUBackend()
        let shape = [3, 4, 5]
        let a = Self.tensor(shape, Self.values(60, seed: 1), as: Float.self)
        let b = Self.tensor(shape, Self.values(60, seed: 2), as: Float.self)
        let either = zip(a.scalars, b.scalars).map { $0.isNaN || $1.isNaN }
        #expect(Self.nanMask(backend.add(a, b)) == either)
        #expect(Self.nanMask(backend.multiply(a, b)) == either)
        for op in [BinaryOperation.add, .subtract, .multiply, .divide] {
            #expect(Self.nanMask(backend.broadcast(op, a, b)) == either, "\(op)")
        }
        // Per-feature maps (batch norm in evaluation mode, biases): NaN where x is NaN.
        let scale = Self.tensor([4], [0.5, -2, 1, 3], as: Float.self), shift = Self.tensor([4], [0, 1, -1, 2], as: Float.self)
        #expect(Self.nanMask(backend.featureAffine(a, scale: scale, shift: shift)) == Self.nanMask(a))
        var biased = a
        backend.addFeatureBias(&biased, shift)
        #expect(Self.nanMask(biased) == Self.nanMask(a))
        // A NaN scale (a negative running variance's 1/√(σ² + ε)) makes its whole channel NaN.
        let badScale = Self.tensor([4], [0.5, .nan, 1, 3], as: Float.self)
        let poisoned = backend.featureAffine(a, scale: badScale, shift: shift)
        for i in 0..<60 { #expect(poisoned.scalars[i].isNaN == (a.scalars[i].isNaN || (i / 5) % 4 == 1)) }
        // Reductions.
        #expect(backend.sum(a).isNaN && backend.dot(a, b).isNaN)
        let finite = Self.tensor(shape, (0..<60).map { Double($0) }, as: Float.self)
        #expect(!backend.sum(finite).isNaN)
    }

    // MARK: Windows

    /// Whether the window of output (n, channel, oh, ow) holds a NaN: over every input channel
    /// (`allChannels`, a convolution) or the output's own (pooling).
    static func windowHoldsNaN(_ x: [Double], shape: [Int], geometry g: Conv2dGeometry, n: Int, channel: Int,
                               oh: Int, ow: Int, allChannels: Bool) -> Bool {
        let (c, h, w) = (shape[1], shape[2], shape[3])
        for ci in (allChannels ? 0..<c : channel..<(channel + 1)) {
            for i in 0..<g.kernel.height {
                let ih = oh * g.stride.height - g.padding.height + i * g.dilation.height
                guard ih >= 0 && ih < h else { continue }
                for j in 0..<g.kernel.width {
                    let iw = ow * g.stride.width - g.padding.width + j * g.dilation.width
                    if iw >= 0 && iw < w && x[((n * c + ci) * h + ih) * w + iw].isNaN { return true }
                }
            }
        }
        return false
    }

    static let windows: [Conv2dGeometry] = [
        Conv2dGeometry(kernel: 3, stride: 1, padding: 1), Conv2dGeometry(kernel: 2, stride: 2),
        Conv2dGeometry(kernel: 3, stride: 2, padding: 1), Conv2dGeometry(kernel: 1, stride: 1),
    ]

    @Test(arguments: 0..<4)
    func poolingGivesNaNForWindowsHoldingNaN(case k: Int) {
        let backend = CPUBackend()
        let shape = [2, 3, 7, 8], g = Self.windows[k]
        let xs = Self.values(shape.reduce(1, *), seed: 40 + UInt64(k), fraction: 0.05)
        let x = Self.tensor(shape, xs, as: Float.self)
        let (maxed, argmax) = backend.maxPool2d(x, geometry: g)
        let averaged = backend.avgPool2d(x, geometry: g)
        let (oh, ow) = g.outputSize(height: 7, width: 8)
        for n in 0..<2 {
            for c in 0..<3 {
                for i in 0..<oh {
                    for j in 0..<ow {
                        let o = ((n * 3 + c) * oh + i) * ow + j
                        let expected = Self.windowHoldsNaN(xs, shape: shape, geometry: g, n: n, channel: c, oh: i, ow: j, allChannels: false)
                        #expect(maxed.scalars[o].isNaN == expected, "max pool \(k) at \(o)")
                        #expect(averaged.scalars[o].isNaN == expected, "average pool \(k) at \(o)")
                        // The arg-max names the NaN (torch's max_pool2d indices do), so the
                        // backward pass sends the gradient there.
                        if expected { #expect(xs[Int(argmax[o])].isNaN) }
                    }
                }
            }
        }
        // The tangent reads the input at the arg-max: NaN exactly where the forward is.
        #expect(Self.nanMask(backend.maxPool2dTangent(x, argmax: argmax, outputShape: maxed.shape)) == Self.nanMask(maxed))
    }

    @Test(arguments: CPUBackend.ConvolutionAlgorithm.allCases)
    func convolutionGivesNaNForWindowsHoldingNaN(algorithm: CPUBackend.ConvolutionAlgorithm) {
        let backend = CPUBackend(convolution: algorithm)
        for (k, g) in Self.windows.enumerated() {
            let shape = [2, 8, 9, 9]
            let xs = Self.values(shape.reduce(1, *), seed: 70 + UInt64(k), fraction: 0.004)
            let x = Self.tensor(shape, xs, as: Float.self)
            let weight = Self.tensor([16, 8, g.kernel.height, g.kernel.width],
                                     Self.values(16 * 8 * g.kernel.height * g.kernel.width, seed: 90, fraction: 0), as: Float.self)
            let bias = Self.tensor([16], Self.values(16, seed: 91, fraction: 0), as: Float.self)
            let y = backend.conv2d(x, weight: weight, bias: bias, geometry: g)
            let (oh, ow) = g.outputSize(height: 9, width: 9)
            var nanCount = 0
            for n in 0..<2 {
                for f in 0..<16 {
                    for i in 0..<oh {
                        for j in 0..<ow {
                            let o = ((n * 16 + f) * oh + i) * ow + j
                            let expected = Self.windowHoldsNaN(xs, shape: shape, geometry: g, n: n, channel: 0, oh: i, ow: j, allChannels: true)
                            if expected { nanCount += 1 }
                            #expect(y.scalars[o].isNaN == expected, "\(algorithm) convolution \(k) at \(o)")
                        }
                    }
                }
            }
            #expect(nanCount > 0, "the case should hold NaN windows")
        }
    }

    // MARK: Rows

    @Test func productsAndLossesGiveNaNForRowsHoldingNaN() {
        let backend = CPUBackend()
        let (rows, inner, cols) = (9, 13, 6)
        let xs = Self.values(rows * inner, seed: 5, fraction: 0.04)
        let a = Self.tensor([rows, inner], xs, as: Float.self)
        let b = Self.tensor([cols, inner], Self.values(cols * inner, seed: 6, fraction: 0), as: Float.self)
        let product = backend.matmul(a, b, transposeA: false, transposeB: true)
        let rowHasNaN = (0..<rows).map { r in (0..<inner).contains { xs[r * inner + $0].isNaN } }
        #expect(rowHasNaN.contains(true) && rowHasNaN.contains(false))
        for r in 0..<rows {
            for c in 0..<cols { #expect(product.scalars[r * cols + c].isNaN == rowHasNaN[r], "matmul row \(r)") }
        }

        // Softmax: a distribution that holds a NaN is NaN throughout, the others are untouched.
        for logarithm in [false, true] {
            let s = backend.softmax(a, axis: 1, logarithm: logarithm)
            for r in 0..<rows {
                for c in 0..<inner { #expect(s.scalars[r * inner + c].isNaN == rowHasNaN[r]) }
            }
        }

        // Cross-entropy: NaN loss; the arg-max is torch.max's, the first NaN of the row.
        let logits = Self.tensor([4, 3], [1, .nan, 2,   .nan, 5, .nan,   3, 1, 0,   0, 0, .nan], as: Float.self)
        let nanLoss = backend.softmaxCrossEntropy(logits: logits, labels: [1, 0, 0, 2])
        #expect(nanLoss.loss.isNaN)
        #expect(nanLoss.correct == 4, "each row's prediction is its first NaN (or its largest value)")
        #expect(backend.softmaxCrossEntropy(logits: logits, labels: [2, 1, 1, 0]).correct == 0)
        let clean = backend.softmaxCrossEntropy(logits: Self.tensor([1, 3], [3, 1, 0], as: Float.self), labels: [0])
        #expect(clean.loss.isFinite && clean.correct == 1)
        #expect(backend.meanSquaredError(prediction: a, target: a).loss.isNaN)
    }
}
