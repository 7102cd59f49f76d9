import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainTestSupport

/// p₀ and the gradients of three steps shared by the reference tests.
private let initialValues: [Double] = [1.0, -2.0, 0.5]
private let fixedGradients: [[Double]] = [[0.1, -0.2, 0.3], [0.4, 0.1, -0.5], [-0.3, 0.2, 0.1]]

/// Runs `optimizer` for as many steps as there are gradients, on one parameter.
private func run<O: Optimizer>(_ optimizer: O, initial: [O.Scalar], gradients: [[O.Scalar]],
                               shape: [Int]? = nil) -> [O.Scalar] {
    let shape = shape ?? [initial.count]
    let p = Parameter<O.Scalar>("weight", role: .weight, value: Tensor(shape: shape, scalars: initial))
    for g in gradients {
        p.gradient = Tensor(shape: shape, scalars: g)
        optimizer.step([p])
    }
    return p.value.scalars
}

private func expectClose(_ a: [Double], _ b: [Double], tolerance: Double, _ label: String = "",
                         sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, "\(label): \(a.count) vs \(b.count) values", sourceLocation: sourceLocation)
    let worst = zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
    #expect(worst <= tolerance, "\(label): \(a) vs \(b), worst relative difference \(worst)", sourceLocation: sourceLocation)
}

@Suite("Optimizers")
struct OptimizerTests {
    /// Reference values: the update formulas in plain Double arithmetic (β₁m + (1−β₁)g form),
    /// three steps from p₀ = (1, −2, 0.5) with the gradients above, η = 0.1.
    static let referenceValues: [(name: String, expected: [Double])] = [
        ("sgd", [0.98, -2.01, 0.51]),
        ("momentum", [0.9269, -1.9848, 0.5037]),
        ("nesterov", [0.91421, -1.9963199999999999, 0.5133300000000001]),
        ("weight decay + dampening", [0.9053384462499999, -1.9282123925, 0.482262716875]),
        ("adam", [0.7938915337896525, -1.9006359802389328, 0.44091700021106006]),
        ("adam L2", [0.7629990181909688, -1.7580168711381137, 0.41744992007221243]),
        ("adamW", [0.7670649100509013, -1.843490317162246, 0.4277629389470788]),
        ("adamW via decoupled:", [0.7670649100509013, -1.843490317162246, 0.4277629389470788]),
    ]

    /// The optimizers of `referenceValues`, in the same order.
    static func referenceOptimizers<S: TensorScalar>(_: S.Type) -> [any Optimizer<S>] {
        [
            SGD(learningRate: 0.1),
            SGD(learningRate: 0.1, momentum: 0.9),
            SGD(learningRate: 0.1, momentum: 0.9, nesterov: true),
            SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.05, dampening: 0.1),
            Adam(learningRate: 0.1),
            Adam(learningRate: 0.1, weightDecay: 0.1),
            Adam<S>.adamW(learningRate: 0.1, weightDecay: 0.1),
            Adam(learningRate: 0.1, weightDecay: 0.1, decoupled: true),
        ]
    }

    @Test func handComputedReferences() {
        for (optimizer, reference) in zip(Self.referenceOptimizers(Double.self), Self.referenceValues) {
            let result = run(optimizer, initial: initialValues, gradients: fixedGradients)
            expectClose(result, reference.expected, tolerance: 1e-12, reference.name)
        }
    }

    @Test func floatAgreesWithReferences() {
        for (optimizer, reference) in zip(Self.referenceOptimizers(Float.self), Self.referenceValues) {
            let result = run(optimizer, initial: initialValues.map { Float($0) },
                             gradients: fixedGradients.map { $0.map { Float($0) } })
            expectClose(result.map(Double.init), reference.expected, tolerance: 1e-6, "\(reference.name) (Float)")
        }
    }

    @Test func adamStateAndStepCount() {
        let adam = Adam<Double>(learningRate: 0.1)
        let p = Parameter<Double>("w", role: .weight, value: Tensor(shape: [3], scalars: initialValues))
        #expect(adam.moments(of: p) == nil)
        for g in fixedGradients {
            p.gradient = Tensor(shape: [3], scalars: g)
            adam.step([p])
        }
        let state = adam.moments(of: p)
        #expect(state?.step == 3)
        #expect(adam.stepCount == 3)
        // m₃ = Σ (1−β₁)β₁^(3−t) g_t for the first coordinate: 0.1·(0.81·0.1 + 0.9·0.4 − 0.3).
        let m0: Double = state?.m[flat: 0] ?? .nan
        let expected: Double = 0.1 * (0.81 * 0.1 + 0.9 * 0.4 - 0.3)
        #expect(abs(m0 - expected) < 1e-15)
    }

    @Test func stateIsKeyedByParameterIdentity() {
        // Passing the parameters in a different order (a fresh array) each step changes nothing.
        func train(reorder: Bool) -> [[Double]] {
            let a = Parameter<Double>("a", role: .weight, value: Tensor(shape: [3], scalars: initialValues))
            let b = Parameter<Double>("b", role: .bias, value: Tensor(shape: [3], scalars: initialValues.map { -$0 }))
            let adam = Adam<Double>(learningRate: 0.05, weightDecay: 0.01)
            for (k, g) in fixedGradients.enumerated() {
                a.gradient = Tensor(shape: [3], scalars: g)
                b.gradient = Tensor(shape: [3], scalars: g.map { 2 * $0 })
                adam.step(reorder && k % 2 == 1 ? [b, a] : [a, b])
            }
            return [a.value.scalars, b.value.scalars]
        }
        #expect(train(reorder: false) == train(reorder: true))
    }

    @Test func skipsBuffersAndMissingGradients() {
        let optimizers: [(String, any Optimizer<Double>)] = [
            ("sgd", SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.1)),
            ("adam", Adam(learningRate: 0.1, weightDecay: 0.1)),
            ("adamW", Adam<Double>.adamW(learningRate: 0.1, weightDecay: 0.1)),
        ]
        for (name, optimizer) in optimizers {
            let bn = BatchNorm<Double>(3)
            bn.runningMean.value = Tensor(shape: [3], scalars: [0.5, -0.5, 1])
            let runningMean = bn.runningMean.value, runningVariance = bn.runningVariance.value
            let bias = Tensor<Double>(shape: [3], scalars: [0.25, 0.5, 0.75])
            bn.bias.value = bias
            // A gradient on a buffer must still be ignored; the bias has no gradient.
            bn.runningMean.gradient = Tensor(repeating: 1, shape: [3])
            bn.runningVariance.gradient = Tensor(repeating: 1, shape: [3])
            bn.weight.gradient = Tensor(repeating: 1, shape: [3])
            bn.bias.gradient = nil
            for _ in 0..<2 { optimizer.step(bn.namedParameters().map(\.parameter)) }
            #expect(bn.runningMean.value == runningMean, "\(name) changed running_mean")
            #expect(bn.runningVariance.value == runningVariance, "\(name) changed running_var")
            #expect(bn.bias.value == bias, "\(name) changed a parameter without a gradient")
            #expect(bn.weight.value != Tensor(repeating: 1, shape: [3]), "\(name) did not update the weight")
            if let adam = optimizer as? Adam<Double> {
                #expect(adam.moments(of: bn.bias) == nil && adam.moments(of: bn.runningMean) == nil)
            }
            if let sgd = optimizer as? SGD<Double> {
                #expect(sgd.momentumBuffer(of: bn.bias) == nil && sgd.momentumBuffer(of: bn.runningMean) == nil)
            }
        }
    }

    @Test func duplicateParameterIsUpdatedOnce() {
        let p = Parameter<Double>("w", role: .weight, value: Tensor(shape: [3], scalars: initialValues))
        p.gradient = Tensor(shape: [3], scalars: fixedGradients[0])
        SGD<Double>(learningRate: 0.1).step([p, p])
        #expect(p.value.scalars == [0.99, -1.98, 0.47])
    }

    @Test func stepOnModelUpdatesTrainableParameters() {
        var gen = SeededGenerator(seed: 1)
        let model = Sequential<Double>(Linear(3, 2, generator: &gen), BatchNorm(2))
        let before = model.flatParameters(.states)
        _ = model.forward(Tensor.randomNormal(shape: [4, 3], generator: &gen))
        let buffersBefore = model.namedParameters().filter { !$0.parameter.isTrainable }.map(\.parameter.value)
        _ = model.backward(Tensor(repeating: 1, shape: [4, 2]))
        let gradients = model.flatGradients()
        let weightsBefore = model.flatParameters()
        SGD<Double>(learningRate: 0.5).step(model)
        let after = model.flatParameters()
        for i in 0..<after.count {
            #expect(abs(after[flat: i] - (weightsBefore[flat: i] - 0.5 * gradients[flat: i])) < 1e-15)
        }
        #expect(model.namedParameters().filter { !$0.parameter.isTrainable }.map(\.parameter.value) == buffersBefore)
        #expect(before.count == model.flatParameters(.states).count)
    }

    // MARK: SAM

    /// L(w) = ½ wᵀAw over w = (a₀, a₁, b₀) held in two parameters, so the norm is global.
    static let matrix: [[Double]] = [[3, 1, 0], [1, 2, 0.5], [0, 0.5, 1]]

    static func gradient(_ w: [Double]) -> [Double] {
        matrix.map { row in zip(row, w).reduce(0) { $0 + $1.0 * $1.1 } }
    }

    static func loss(_ w: [Double]) -> Double {
        0.5 * zip(w, gradient(w)).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// Records what the base optimizer sees, then steps like SGD.
    final class SpyOptimizer: Optimizer {
        var learningRate: Double
        var seenValues: [[Double]] = []
        var seenGradients: [[Double]] = []
        init(learningRate: Double) { self.learningRate = learningRate }
        func step(_ parameters: [Parameter<Double>]) {
            seenValues.append(parameters.flatMap(\.value.scalars))
            seenGradients.append(parameters.flatMap { $0.gradient!.scalars })
            SGD<Double>(learningRate: learningRate).step(parameters)
        }
    }

    @Test(arguments: [false, true])
    func samStepOnQuadratic(adaptive: Bool) {
        let w0: [Double] = [1.0, -0.5, 2.0]
        let a = Parameter<Double>("a", role: .weight, value: Tensor(shape: [2], scalars: Array(w0[0..<2])))
        let b = Parameter<Double>("b", role: .bias, value: Tensor(shape: [1], scalars: [w0[2]]))
        let lr = 0.1, rho = 0.05
        let spy = SpyOptimizer(learningRate: lr)
        let sam = SAM(base: spy, rho: rho, adaptive: adaptive)
        var calls = 0
        let loss = sam.step([a, b]) {
            calls += 1
            a.gradient = nil; b.gradient = nil
            let w = a.value.scalars + b.value.scalars
            let g = Self.gradient(w)
            a.accumulateGradient(Tensor(shape: [2], scalars: Array(g[0..<2])))
            b.accumulateGradient(Tensor(shape: [1], scalars: [g[2]]))
            return Self.loss(w)
        }
        // By hand: g = A w₀; e = ρ g/‖g‖ (adaptive: ρ w² g/‖|w| g‖); w₁ = w₀ − η A (w₀ + e).
        let g = Self.gradient(w0)
        let e: [Double]
        if adaptive {
            let norm = zip(w0, g).map { ($0 * $1) * ($0 * $1) }.reduce(0, +).squareRoot()
            e = zip(w0, g).map { rho * $0 * $0 * $1 / norm }
        } else {
            let norm = g.map { $0 * $0 }.reduce(0, +).squareRoot()
            e = g.map { rho * $0 / norm }
        }
        let perturbedGradient = Self.gradient(zip(w0, e).map(+))
        let expected = zip(w0, perturbedGradient).map { $0 - lr * $1 }

        #expect(calls == 2)
        #expect(abs(loss - Self.loss(w0)) < 1e-15)
        #expect(spy.seenValues == [w0], "weights must be restored exactly before the base step")
        expectClose(spy.seenGradients[0], perturbedGradient, tolerance: 1e-12, "gradient at w + e")
        expectClose(a.value.scalars + b.value.scalars, expected, tolerance: 1e-12, "SAM step")
        #expect(sam.learningRate == lr)
        sam.learningRate = 0.2
        #expect(spy.learningRate == 0.2)
    }

    @Test func samSinglePassStepIsBaseStep() {
        let p = Parameter<Double>("w", role: .weight, value: Tensor(shape: [3], scalars: initialValues))
        p.gradient = Tensor(shape: [3], scalars: fixedGradients[0])
        SAM(base: SGD<Double>(learningRate: 0.1)).step([p])
        #expect(p.value.scalars == [0.99, -1.98, 0.47])
    }

    @Test func samWithZeroGradientDoesNotProduceNaN() {
        let p = Parameter<Double>("w", role: .weight, value: Tensor(shape: [2], scalars: [1, 2]))
        let sam = SAM(base: SGD<Double>(learningRate: 0.1, momentum: 0.9))
        sam.step([p]) {
            p.gradient = Tensor(zeros: [2])
            return 0
        }
        #expect(p.value.scalars == [1, 2])
    }

    // MARK: SWA

    @Test func weightAverageOfThreeModelsIsTheirMean() {
        var gen = SeededGenerator(seed: 11)
        let model = Sequential<Double>(Linear(3, 2, generator: &gen), BatchNorm(2))
        let swa = StochasticWeightAverage<Double>()
        #expect(swa.averagedModels == 0)
        var sets: [Tensor<Double>] = []
        for _ in 0..<3 {
            let w = Tensor<Double>.randomNormal(shape: [model.trainableScalarCount], generator: &gen)
            sets.append(w)
            model.setFlatParameters(w)
            swa.update(from: model)
        }
        #expect(swa.averagedModels == 3)

        let target = Sequential<Double>(Linear(3, 2, generator: &gen), BatchNorm(2))
        let bn = target.batchNormLayers[0]
        bn.runningMean.value = Tensor(shape: [2], scalars: [3, 4])
        let buffers = target.flatParameters(.states).count
        swa.apply(to: target)
        let averaged = target.flatParameters()
        for i in 0..<averaged.count {
            let mean = (sets[0][flat: i] + sets[1][flat: i] + sets[2][flat: i]) / 3
            #expect(abs(averaged[flat: i] - mean) < 1e-15)
        }
        #expect(bn.runningMean.value.scalars == [3, 4], "apply must leave buffers alone")
        #expect(target.flatParameters(.states).count == buffers)
        #expect(swa.averagedParameters.map(\.name) == target.namedParameters().filter(\.parameter.isTrainable).map(\.name))
        // The source model's own weights are untouched by averaging.
        #expect(model.flatParameters() == sets[2])
    }

    @Test func recomputeBatchNormStatisticsIsCumulative() {
        var gen = SeededGenerator(seed: 5)
        let linear = Linear<Double>(3, 2, generator: &gen)
        let bn = BatchNorm<Double>(2, momentum: 0.1)
        let model = Sequential<Double>(linear, bn)
        bn.runningMean.value = Tensor(shape: [2], scalars: [5, -5])
        bn.runningVariance.value = Tensor(shape: [2], scalars: [9, 9])
        model.setTraining(false)
        let batches = (0..<3).map { _ in Tensor<Double>.randomNormal(shape: [4, 3], mean: 1, std: 2, generator: &gen) }

        SWA<Double>.recomputeBatchNormStatistics(model, batches: batches)

        // The BN's inputs are the linear layer's outputs; equal batch sizes, so the cumulative
        // average of batch means is the mean over all 12 rows.
        let outputs = batches.map { linear.forward($0) }
        for f in 0..<2 {
            let columns = outputs.map { y in (0..<4).map { y[flat: $0 * 2 + f] } }
            let mean = columns.joined().reduce(0, +) / 12
            let variance = columns.map { c -> Double in
                let m = c.reduce(0, +) / 4
                return c.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 3
            }.reduce(0, +) / 3
            #expect(abs(bn.runningMean.value[flat: f] - mean) < 1e-12)
            #expect(abs(bn.runningVariance.value[flat: f] - variance) < 1e-12)
        }
        #expect(bn.momentum == 0.1)
        #expect(bn.batchesTracked == 3)
        #expect(!model.isTraining && !bn.isTraining)
        #expect(model.isRecording)
    }

    @Test func recomputeBatchNormStatisticsWithoutBatchNormIsANoOp() {
        var gen = SeededGenerator(seed: 6)
        let model = Sequential<Double>(Linear(3, 2, generator: &gen))
        let before = model.flatParameters(.states)
        SWA<Double>.recomputeBatchNormStatistics(model, batches: [Tensor<Double>(zeros: [2, 3])])
        #expect(model.flatParameters(.states) == before)
        #expect(model.isTraining)
    }

    // MARK: PyTorch

    /// Same initial values and gradients through `torch.optim` (single-tensor CPU path) in
    /// float64 and float32: Double must agree bit for bit on the small case, Float to 1e-6.
    @Test(.enabled(if: Python.torchChecksRun))
    func matchesTorchOptim() throws {
        // A 5-element case (PyTorch's scalar loops) and a 40-element one (its vector loops).
        var gen = SeededGenerator(seed: 2024)
        let shapes = [[5], [4, 10]]
        let data: [(initial: [Double], gradients: [[Double]])] = shapes.map { shape in
            let n = shape.reduce(1, *)
            return (Tensor<Double>.randomNormal(shape: [n], generator: &gen).scalars,
                    (0..<4).map { _ in Tensor<Double>.randomNormal(shape: [n], std: 0.5, generator: &gen).scalars })
        }
        let configs: [(name: String, torch: String, make: () -> (any Optimizer<Double>, any Optimizer<Float>))] = [
            ("sgd", "torch.optim.SGD(ps, lr=0.1)", { (SGD(learningRate: 0.1), SGD(learningRate: 0.1)) }),
            ("momentum", "torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.2, weight_decay=5e-4)",
             { (SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4, dampening: 0.2),
                     SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4, dampening: 0.2)) }),
            ("nesterov", "torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-2)",
             { (SGD(learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-2),
                     SGD(learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-2)) }),
            ("adam", "torch.optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, foreach=False)",
             { (Adam(learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1),
                     Adam(learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1)) }),
            ("adamw", "torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1, foreach=False)",
             { (Adam<Double>.adamW(learningRate: 0.01, weightDecay: 0.1),
                     Adam<Float>.adamW(learningRate: 0.01, weightDecay: 0.1)) }),
            ("adam-largebeta1", "torch.optim.Adam(ps, lr=0.01, betas=(0.3, 0.999), foreach=False)",
             { (Adam(learningRate: 0.01, beta1: 0.3), Adam(learningRate: 0.01, beta1: 0.3)) }),
        ]
        func literal(_ xs: [Double]) -> String { "[" + xs.map { "\($0)" }.joined(separator: ",") + "]" }
        var script = """
            import json, torch
            torch.set_num_threads(1)
            out = {}
            def run(key, make, init, grads, dtype):
                p = torch.tensor(init, dtype=dtype)
                ps = [p]
                opt = make(ps)
                for g in grads:
                    p.grad = torch.tensor(g, dtype=dtype)
                    opt.step()
                out[key] = [float(x) for x in p.detach().tolist()]

            """
        for (k, d) in data.enumerated() {
            let grads = "[" + d.gradients.map(literal).joined(separator: ",") + "]"
            for c in configs {
                for dtype in ["float64", "float32"] {
                    script += "run('\(c.name)/\(k)/\(dtype)', lambda ps: \(c.torch), \(literal(d.initial)), \(grads), torch.\(dtype))\n"
                }
            }
        }
        script += "print(json.dumps(out))\n"

        // Throws (the test fails) when the script exits with a non-zero status.
        let output = try Python.run(script, interpreter: Python.torchInterpreter)
        let reference = try JSONDecoder().decode([String: [Double]].self, from: Data(output.utf8))

        for (k, d) in data.enumerated() {
            for c in configs {
                let (double, float) = c.make()
                let doubleResult = run(double, initial: d.initial, gradients: d.gradients)
                let floatResult = run(float, initial: d.initial.map { Float($0) },
                                      gradients: d.gradients.map { $0.map { Float($0) } })
                let torch64 = try #require(reference["\(c.name)/\(k)/float64"])
                let torch32 = try #require(reference["\(c.name)/\(k)/float32"])
                // Exact on the small case; a few ulps of slack where PyTorch's vector loops run.
                expectClose(doubleResult, torch64, tolerance: k == 0 ? 0 : 1e-15, "\(c.name)/\(k) Double")
                expectClose(floatResult.map(Double.init), torch32, tolerance: 1e-6, "\(c.name)/\(k) Float")
            }
        }
    }
}
