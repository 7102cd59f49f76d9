import Testing
import Foundation
import TerrainTensor
import TerrainNN

@Suite("Backward passes match central finite differences (Double, relative error < 1e-6)")
struct LayerGradientTests {
    var gen = SeededGenerator(seed: 42)

    @Test mutating func linear() {
        expectGradientsMatch(Linear<Double>(5, 3, generator: &gen), input: randomInput([4, 5]))
        expectGradientsMatch(Linear<Double>(6, 2, bias: false, generator: &gen), input: randomInput([3, 6]))
    }

    @Test(arguments: [(1, 0, 3), (1, 1, 3), (2, 1, 3), (2, 0, 1), (1, 2, 5), (3, 1, 3)])
    func conv2d(stride: Int, padding: Int, kernel: Int) {
        var gen = SeededGenerator(seed: UInt64(stride * 100 + padding * 10 + kernel))
        let conv = Conv2d<Double>(3, 4, kernel: kernel, stride: stride, padding: padding, generator: &gen)
        expectGradientsMatch(conv, input: randomInput([2, 3, 7, 6]))
    }

    @Test mutating func conv2dWithoutBiasOnBatchBiggerThanAGroup() {
        // More images than one weight-gradient group (8) to cover the partial-sum reduction.
        let conv = Conv2d<Double>(2, 3, kernel: 3, padding: 1, bias: false, generator: &gen)
        expectGradientsMatch(conv, input: randomInput([11, 2, 4, 4]))
    }

    @Test func batchNormTraining() {
        let bn1 = BatchNorm<Double>(4)
        var g = SeededGenerator(seed: 3)
        bn1.weight.value = .randomNormal(shape: [4], mean: 1, std: 0.3, generator: &g)
        bn1.bias.value = .randomNormal(shape: [4], generator: &g)
        expectGradientsMatch(bn1, input: randomInput([6, 4]))
        let bn2 = BatchNorm<Double>(3)
        bn2.weight.value = .randomNormal(shape: [3], mean: 1, std: 0.3, generator: &g)
        expectGradientsMatch(bn2, input: randomInput([4, 3, 3, 2]))
    }

    @Test func batchNormEvaluation() {
        let bn = BatchNorm<Double>(3)
        var g = SeededGenerator(seed: 4)
        bn.runningMean.value = .randomNormal(shape: [3], generator: &g)
        bn.runningVariance.value = .randomUniform(shape: [3], low: 0.5, high: 2, generator: &g)
        bn.weight.value = .randomNormal(shape: [3], mean: 1, std: 0.3, generator: &g)
        bn.setTraining(false)
        expectGradientsMatch(bn, input: randomInput([4, 3, 2, 2]))
    }

    @Test func batchNormRunningStatistics() {
        let bn = BatchNorm<Double>(2, momentum: 0.1)
        let x = Tensor<Double>(shape: [4, 2], scalars: [1, 10, 2, 20, 3, 30, 4, 40])
        _ = bn.forward(x)
        // mean (2.5, 25); unbiased variance (5/3, 500/3)
        #expect(abs(bn.runningMean.value[flat: 0] - 0.25) < 1e-12)
        #expect(abs(bn.runningMean.value[flat: 1] - 2.5) < 1e-12)
        #expect(abs(bn.runningVariance.value[flat: 0] - (0.9 + 0.1 * 5 / 3)) < 1e-12)
        #expect(abs(bn.runningVariance.value[flat: 1] - (0.9 + 0.1 * 500 / 3)) < 1e-12)
    }

    @Test(arguments: [Activation.relu, .leakyRelu(slope: 0.1), .tanh, .sigmoid, .gelu, .geluTanh, .erf])
    func activations(kind: Activation) {
        expectGradientsMatch(ActivationLayer<Double>(kind), input: randomInput([3, 7]))
    }

    /// The R-operator passes of the smooth activations (f″ ≠ 0) against finite differences.
    @Test(arguments: [Activation.tanh, .sigmoid, .gelu, .geluTanh, .erf, .softplus])
    func activationTangents(kind: Activation) {
        expectTangentsMatch(ActivationLayer<Double>(kind), input: randomInput([3, 7]))
    }

    @Test func pooling() {
        expectGradientsMatch(MaxPool2d<Double>(kernel: 2), input: randomInput([2, 3, 4, 6]))
        expectGradientsMatch(MaxPool2d<Double>(kernel: 3, stride: 2, padding: 1), input: randomInput([2, 2, 5, 5]))
        expectGradientsMatch(AvgPool2d<Double>(kernel: 2), input: randomInput([2, 3, 4, 6]))
        expectGradientsMatch(AvgPool2d<Double>(kernel: 3, stride: 2, padding: 1), input: randomInput([1, 2, 5, 5]))
        expectGradientsMatch(GlobalAvgPool<Double>(), input: randomInput([2, 3, 3, 4]))
    }

    @Test mutating func flattenAndSequential() {
        let net = Sequential<Double>(
            Conv2d(2, 3, kernel: 3, padding: 1, generator: &gen), ReLU(), Flatten(),
            Linear(3 * 4 * 4, 5, generator: &gen), Tanh())
        expectGradientsMatch(net, input: randomInput([3, 2, 4, 4]))
    }

    @Test func dropout() {
        let drop = Dropout<Double>(0.3, seed: 5)
        let x = randomInput([4, 50])
        let y = drop.forward(x)
        let gy = randomInput([4, 50], seed: 9)
        let gx = drop.backward(gy)
        var zeros = 0
        for i in 0..<x.count {
            let kept = y[flat: i] != 0
            if !kept { zeros += 1 }
            #expect(abs(gx[flat: i] - (kept ? gy[flat: i] / 0.7 : 0)) < 1e-12)
            #expect(abs(y[flat: i] - (kept ? x[flat: i] / 0.7 : 0)) < 1e-12)
        }
        #expect(zeros > 30 && zeros < 90)
        drop.setTraining(false)
        #expect(drop.forward(x) == x)
    }

    @Test mutating func residualWithAndWithoutShortcut() {
        for (hasShortcut, projected) in [(true, false), (true, true), (false, false)] {
            let body = Sequential<Double>(named: [
                ("conv1", Conv2d(3, 3, kernel: 3, padding: 1, bias: false, generator: &gen)),
                ("bn1", BatchNorm(3)), ("relu1", ReLU()),
                ("conv2", Conv2d(3, 3, kernel: 3, padding: 1, bias: false, generator: &gen)),
                ("bn2", BatchNorm(3)),
            ])
            let shortcut: Module<Double>? = projected
                ? Sequential(Conv2d(3, 3, kernel: 1, bias: false, generator: &gen), BatchNorm(3)) : nil
            let block = Residual(body: body, shortcut: shortcut, hasShortcut: hasShortcut, post: ReLU())
            expectGradientsMatch(block, input: randomInput([3, 3, 4, 4]))
            #expect(block.namedParameters().map(\.name).contains("conv1.weight"))
            #expect(block.namedParameters().map(\.name).contains("shortcut.0.weight") == projected)
        }
    }

    @Test mutating func denseConcat() {
        let layer = DenseConcat(body: Sequential<Double>(
            BatchNorm(2), ReLU(), Conv2d(2, 3, kernel: 3, padding: 1, bias: false, generator: &gen)))
        expectGradientsMatch(layer, input: randomInput([2, 2, 3, 3]))
    }

    @Test func crossEntropyGradient() {
        let logits = randomInput([5, 4])
        let labels: [Int32] = [0, 3, 1, 1, 2]
        let result = Loss.crossEntropy(logits: logits, labels: labels)
        var x = logits
        for i in 0..<x.count {
            let old = x[flat: i]
            x[flat: i] = old + 1e-6
            let up = Loss.crossEntropy(logits: x, labels: labels).loss
            x[flat: i] = old - 1e-6
            let down = Loss.crossEntropy(logits: x, labels: labels).loss
            x[flat: i] = old
            #expect(abs((up - down) / 2e-6 - result.gradient[flat: i]) < 1e-8)
        }
        // The loss itself against a direct log-sum-exp.
        var direct = 0.0
        for n in 0..<5 {
            let row = (0..<4).map { logits[flat: n * 4 + $0] }
            direct += Foundation.log(row.map { Foundation.exp($0) }.reduce(0, +)) - row[Int(labels[n])]
        }
        #expect(abs(result.loss - direct / 5) < 1e-12)
    }

    @Test func meanSquaredErrorGradient() {
        let p = randomInput([4, 2]), t = randomInput([4, 2], seed: 3)
        let result = Loss.meanSquaredError(prediction: p, target: t)
        var expected = 0.0
        for i in 0..<8 { expected += (p[flat: i] - t[flat: i]) * (p[flat: i] - t[flat: i]) }
        #expect(abs(result.loss - expected / 8) < 1e-14)
        for i in 0..<8 { #expect(abs(result.gradient[flat: i] - 2 * (p[flat: i] - t[flat: i]) / 8) < 1e-14) }
    }
}
