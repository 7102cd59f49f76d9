import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainTestSupport

/// AdamW with a decay scope, the per-step warm-up + cosine schedule and gradient clipping: the
/// pieces of transformer training, checked by hand and against PyTorch step by step.
@Suite("Transformer training recipe")
struct TransformerRecipeTests {
    /// `LearningRateSchedule.warmupCosine`'s factor of step s in Python, for PyTorch's LambdaLR:
    /// linear from f to 1 over W warmup steps, then a cosine from 1 to m/base at step S (the
    /// scripts set W, S, base, m and f).
    static let pythonScheduleFactor = """
        def factor(s):
            if s < W: return f + (1 - f) * s / W
            r = m / base
            return r + (1 - r) * (1 + math.cos(math.pi * (min(s - W, S - W) / (S - W)))) / 2
        """

    private static func close(_ a: [Double], _ b: [Double], _ tolerance: Double) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
    }

    // MARK: Weight decay scope

    @Test func decayScopeExemptsBiasesAndNorms() {
        #expect(WeightDecayScope.all.decays(.bias) && WeightDecayScope.all.decays(.normWeight))
        #expect(WeightDecayScope.weights.decays(.weight))
        #expect(!WeightDecayScope.weights.decays(.bias) && !WeightDecayScope.weights.decays(.normWeight)
                && !WeightDecayScope.weights.decays(.normBias))
        // A zero gradient isolates the decay: AdamW's step is then p·(1 − ηλ) exactly (m = v = 0).
        for scope in WeightDecayScope.allCases {
            let w = Parameter<Double>("w", role: .weight, value: Tensor(shape: [2], scalars: [1, -2]))
            let b = Parameter<Double>("b", role: .bias, value: Tensor(shape: [2], scalars: [3, 4]))
            let g = Parameter<Double>("g", role: .normWeight, value: Tensor(shape: [2], scalars: [1, 1]))
            for p in [w, b, g] { p.gradient = Tensor(zeros: [2]) }
            let adamW = Adam<Double>.adamW(learningRate: 0.1, weightDecay: 0.5, decayScope: scope)
            adamW.step([w, b, g])
            #expect(w.value.scalars == [1 * 0.95, -2 * 0.95])
            #expect(b.value.scalars == (scope == .all ? [3 * 0.95, 4 * 0.95] : [3, 4]))
            #expect(g.value.scalars == (scope == .all ? [0.95, 0.95] : [1, 1]))
            // SGD's L2 decay follows the same scope.
            let sgdBias = Parameter<Double>("b", role: .bias, value: Tensor(shape: [1], scalars: [2]))
            sgdBias.gradient = Tensor(zeros: [1])
            SGD<Double>(learningRate: 0.1, weightDecay: 0.5, decayScope: scope).step([sgdBias])
            #expect(sgdBias.value.scalars == [scope == .all ? 2 - 0.1 * 0.5 * 2 : 2])
        }
        #expect(Adam<Double>.adamW().weightDecay == 0.01 && Adam<Double>.adamW().learningRate == 1e-3
                && Adam<Double>.adamW().epsilon == 1e-8 && Adam<Double>.adamW().decoupled)
    }

    // MARK: Clipping

    @Test func clipNormByHand() {
        // Gradients (3, 4) and (12): global norm 13.
        let a = Parameter<Double>("a", role: .weight, value: Tensor(zeros: [2]))
        let b = Parameter<Double>("b", role: .bias, value: Tensor(zeros: [1]))
        let buffer = Parameter<Double>("running_mean", role: .runningMean, value: Tensor(zeros: [1]))
        a.gradient = Tensor(shape: [2], scalars: [3, 4])
        b.gradient = Tensor(shape: [1], scalars: [12])
        buffer.gradient = Tensor(shape: [1], scalars: [100])
        let total = GradientClipping.clipNorm([a, b, buffer, a], maxNorm: 6.5)
        #expect(total == 13)
        let c = 6.5 / (13 + 1e-6)
        #expect(a.gradient!.scalars == [3 * c, 4 * c] && b.gradient!.scalars == [12 * c])
        #expect(buffer.gradient!.scalars == [100], "buffers are not clipped")
        // Under the bound: multiplied by 1, unchanged.
        #expect(GradientClipping.clipNorm([a, b], maxNorm: 100) < 100)
        #expect(a.gradient!.scalars == [3 * c, 4 * c])
    }

    @Test func clipValueClampsEachElement() {
        let a = Parameter<Float>("a", role: .weight, value: Tensor(zeros: [4]))
        a.gradient = Tensor(shape: [4], scalars: [-3, 0.5, 2, .nan])
        GradientClipping.clipValue([a], clipValue: 1)
        let g = a.gradient!.scalars
        #expect(Array(g[0..<3]) == [-1, 0.5, 1] && g[3].isNaN)
    }

    // MARK: Schedule

    @Test func warmupCosineByHand() throws {
        let schedule = LearningRateSchedule.warmupCosine(warmupSteps: 4, minimum: 0.1, startFactor: 0)
        func rate(_ s: Int) -> Double { schedule.learningRate(base: 1, step: s, stepsPerEpoch: 3, totalSteps: 12) }
        #expect(rate(0) == 0 && rate(1) == 0.25 && rate(2) == 0.5 && rate(3) == 0.75)
        #expect(rate(4) == 1, "the peak at the end of warm-up")
        #expect(abs(rate(8) - 0.55) < 1e-15, "half-way down the cosine: (1 + 0.1)/2")
        #expect(abs(rate(12) - 0.1) < 1e-15 && abs(rate(40) - 0.1) < 1e-15, "the minimum at the end and after")
        let started = LearningRateSchedule.warmupCosine(warmupSteps: 4, minimum: 0, startFactor: 0.2)
        #expect(abs(started.learningRate(base: 2, step: 0, stepsPerEpoch: 3, totalSteps: 12) - 0.4) < 1e-15)
        #expect(schedule.isPerStep && !LearningRateSchedule.constant.isPerStep && schedule.discontinuities.isEmpty)
        // Epoch schedules read through the step form are read at the middle of the step.
        let cosine = LearningRateSchedule.cosine(totalEpochs: 4, minimum: 0)
        #expect(cosine.learningRate(base: 1, step: 5, stepsPerEpoch: 4, totalSteps: 16) == cosine.learningRate(base: 1, epoch: 1 + 1.5 / 4))
    }

    @Test func warmupCosineParsesAndPrints() throws {
        #expect(try LearningRateSchedule.parse("warmup-cosine:100", totalEpochs: 3) == .warmupCosine(warmupSteps: 100, minimum: 0, startFactor: 0))
        let full = try LearningRateSchedule.parse(" Warmup-Cosine:100:6e-5:0.1 ", totalEpochs: 3)
        #expect(full == .warmupCosine(warmupSteps: 100, minimum: 6e-5, startFactor: 0.1))
        #expect(try LearningRateSchedule.parse(full.description, totalEpochs: 3) == full)
        #expect(try LearningRateSchedule.parse("warmup-cosine:0", totalEpochs: 3) == .warmupCosine(warmupSteps: 0, minimum: 0, startFactor: 0))
        for (bad, reason) in [("warmup-cosine", "needs a warm-up length"), ("warmup-cosine:-1", "-1"), ("warmup-cosine:1.5", "1.5"),
                              ("warmup-cosine:10:-1", "'-1'"), ("warmup-cosine:10:0:2", "'2'"), ("warmup-cosine:10:0:0:1", "takes steps"),
                              ("warmup:1,warmup-cosine:10", "its own warm-up")] {
            #expect { try LearningRateSchedule.parse(bad, totalEpochs: 3) } throws: { "\($0)".contains(reason) }
        }
    }

    // MARK: State

    /// Saving the state after two steps and restoring it into a fresh optimizer continues with
    /// exactly the updates of the optimizer that never stopped.
    @Test func stateRoundTripContinuesExactly() throws {
        let gradients: [[Double]] = [[0.1, -0.2, 0.3], [0.4, 0.1, -0.5], [-0.3, 0.2, 0.1], [0.2, 0.2, -0.1]]
        let makers: [(String, () -> any Optimizer<Double>)] = [
            ("adamw", { Adam<Double>.adamW(learningRate: 0.1, weightDecay: 0.1) }),
            ("adam", { Adam<Double>(learningRate: 0.1, weightDecay: 0.1) }),
            ("sgd", { SGD<Double>(learningRate: 0.1, momentum: 0.9, nesterov: true) }),
            ("sam", { SAM(base: Adam<Double>(learningRate: 0.1)) }),
        ]
        for (name, make) in makers {
            func parameter() -> Parameter<Double> { Parameter("w", role: .weight, value: Tensor(shape: [3], scalars: [1, -2, 0.5])) }
            let straight = parameter(), straightOptimizer = make()
            for g in gradients {
                straight.gradient = Tensor(shape: [3], scalars: g)
                straightOptimizer.step([straight])
            }
            let first = parameter(), firstOptimizer = make()
            for g in gradients[0..<2] {
                first.gradient = Tensor(shape: [3], scalars: g)
                firstOptimizer.step([first])
            }
            let state = firstOptimizer.state(of: [("fc.weight", first)])
            #expect(!state.isEmpty, "\(name) has state after two steps")
            let resumed = parameter(), resumedOptimizer = make()
            resumed.value = first.value
            try resumedOptimizer.restore(state, into: [("fc.weight", resumed)])
            for g in gradients[2...] {
                resumed.gradient = Tensor(shape: [3], scalars: g)
                resumedOptimizer.step([resumed])
            }
            #expect(resumed.value.scalars == straight.value.scalars, "\(name)")
            // State for another parameter or of another shape is refused, with its name.
            #expect { try make().restore(state, into: [("other.weight", resumed)]) } throws: { "\($0)".contains("fc.weight") }
            let wrong = Parameter<Double>("w", role: .weight, value: Tensor(zeros: [4]))
            #expect { try make().restore(state, into: [("fc.weight", wrong)]) } throws: { "\($0)".contains("shape") }
        }
    }

    // MARK: PyTorch

    /// The whole recipe on a small model, against PyTorch in float64: a 3-4-2 tanh network and a
    /// weight/bias split into two AdamW parameter groups (biases not decayed), a LambdaLR
    /// warm-up + cosine schedule and clip_grad_norm_ (or clip_grad_value_) before each step, for
    /// eight steps on fixed batches. The gradients come from each side's own backward pass (they
    /// agree to rounding), so the weights agree to 1e-12; the optimizer alone, on the same
    /// gradients, agrees bit for bit (below).
    @Test(.enabled(if: Python.torchChecksRun))
    func smallModelMatchesPyTorch() throws {
        var gen = SeededGenerator(seed: 7)
        let first = Linear<Double>(3, 4, generator: &gen), second = Linear<Double>(4, 2, generator: &gen)
        let model = Sequential<Double>(first, Tanh(), second)
        let named = model.namedParameters().filter(\.parameter.isTrainable)
        let initial = named.map { ($0.name, $0.parameter.shape, $0.parameter.value.scalars) }
        let batches = (0..<8).map { _ in (Tensor<Double>.randomNormal(shape: [5, 3], generator: &gen),
                                          Tensor<Double>.randomNormal(shape: [5, 2], generator: &gen)) }
        let steps = batches.count, warmup = 3, minimum = 1e-3, base = 0.05
        let schedule = LearningRateSchedule.warmupCosine(warmupSteps: warmup, minimum: minimum, startFactor: 0.1)

        func train(clip: String) -> [Double] {
            for (name, shape, values) in initial { named.first { $0.name == name }!.parameter.value = Tensor(shape: shape, scalars: values) }
            let optimizer = Adam<Double>.adamW(learningRate: base, beta1: 0.9, beta2: 0.95, weightDecay: 0.1, decayScope: .weights)
            for (s, (x, y)) in batches.enumerated() {
                model.zeroGradients()
                let out = model.forward(x)
                // L = mean((out − y)²): dL/dout = 2(out − y)/n.
                let n = Double(out.count)
                _ = model.backward(Tensor(shape: out.shape, scalars: zip(out.scalars, y.scalars).map { 2 * ($0 - $1) / n }))
                let parameters = model.trainableParameters
                if clip == "norm" { GradientClipping.clipNorm(parameters, maxNorm: 0.05) } else { GradientClipping.clipValue(parameters, clipValue: 0.02) }
                optimizer.learningRate = schedule.learningRate(base: base, step: s, stepsPerEpoch: 4, totalSteps: steps)
                optimizer.step(parameters)
            }
            return named.flatMap(\.parameter.value.scalars)
        }

        func literal(_ xs: [Double]) -> String { "[" + xs.map { "\($0)" }.joined(separator: ",") + "]" }
        let state = initial.map { "'\($0.0)': torch.tensor(\(literal($0.2)), dtype=torch.float64).reshape(\($0.1))" }.joined(separator: ", ")
        let data = batches.map { "(torch.tensor(\(literal($0.0.scalars))).reshape(5, 3), torch.tensor(\(literal($0.1.scalars))).reshape(5, 2))" }
            .joined(separator: ", ")
        let script = """
            import json, math, torch
            torch.set_num_threads(1)
            torch.set_default_dtype(torch.float64)
            batches = [\(data)]
            W, S, base, m, f = \(warmup), \(steps), \(base), \(minimum), 0.1
            \(Self.pythonScheduleFactor)
            out = {}
            for clip in ['norm', 'value']:
                model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
                model.load_state_dict({\(state)})
                decay = [p for n, p in model.named_parameters() if n.endswith('weight')]
                rest = [p for n, p in model.named_parameters() if not n.endswith('weight')]
                opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.1}, {'params': rest, 'weight_decay': 0.0}],
                                        lr=base, betas=(0.9, 0.95), foreach=False)
                sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
                for x, y in batches:
                    opt.zero_grad()
                    torch.mean((model(x) - y) ** 2).backward()
                    if clip == 'norm': torch.nn.utils.clip_grad_norm_(model.parameters(), 0.05, foreach=False)
                    else: torch.nn.utils.clip_grad_value_(model.parameters(), 0.02, foreach=False)
                    opt.step()
                    sched.step()
                out[clip] = [float(v) for p in model.parameters() for v in p.detach().flatten().tolist()]
            print(json.dumps(out))
            """
        let reference = try JSONDecoder().decode([String: [Double]].self,
                                                 from: Data(try Python.run(script, interpreter: Python.torchInterpreter).utf8))
        for clip in ["norm", "value"] {
            let ours = train(clip: clip), torch = try #require(reference[clip])
            let worst = zip(ours, torch).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .infinity
            #expect(ours.count == torch.count && worst <= 1e-12, "clip \(clip): worst relative difference \(worst)")
            #expect(ours != initial.flatMap(\.2), "clip \(clip): the model trained")
        }
    }

    /// The optimizer pieces alone on the same gradients, in float64 and float32: clip_grad_norm_
    /// (and clip_grad_value_), AdamW with a no-decay group for the bias, LambdaLR for the
    /// schedule, six steps. Double agrees bit for bit, Float to 1e-6. The schedule also matches
    /// SequentialLR(LinearLR, CosineAnnealingLR), PyTorch's built-in form, to rounding.
    @Test(.enabled(if: Python.torchChecksRun))
    func optimizerStepsMatchPyTorchBitForBit() throws {
        var gen = SeededGenerator(seed: 31)
        let weight0 = Tensor<Double>.randomNormal(shape: [6], generator: &gen).scalars
        let bias0 = Tensor<Double>.randomNormal(shape: [3], generator: &gen).scalars
        let grads = (0..<6).map { _ in (Tensor<Double>.randomNormal(shape: [6], std: 2, generator: &gen).scalars,
                                        Tensor<Double>.randomNormal(shape: [3], std: 2, generator: &gen).scalars) }
        let (warmup, steps, base, minimum, start) = (2, 6, 0.01, 1e-4, 0.25)
        let schedule = LearningRateSchedule.warmupCosine(warmupSteps: warmup, minimum: minimum, startFactor: start)

        func run<S: TensorScalar>(_: S.Type, clip: String) -> [Double] {
            let w = Parameter<S>("w", role: .weight, value: Tensor(shape: [6], scalars: weight0.map { S($0) }))
            let b = Parameter<S>("b", role: .bias, value: Tensor(shape: [3], scalars: bias0.map { S($0) }))
            let optimizer = Adam<S>.adamW(learningRate: base, weightDecay: 0.3, decayScope: .weights)
            for (s, (gw, gb)) in grads.enumerated() {
                w.gradient = Tensor(shape: [6], scalars: gw.map { S($0) })
                b.gradient = Tensor(shape: [3], scalars: gb.map { S($0) })
                if clip == "norm" { GradientClipping.clipNorm([w, b], maxNorm: 1) } else { GradientClipping.clipValue([w, b], clipValue: 0.5) }
                optimizer.learningRate = schedule.learningRate(base: base, step: s, stepsPerEpoch: 6, totalSteps: steps)
                optimizer.step([w, b])
            }
            return (w.value.scalars + b.value.scalars).map { Double($0) }
        }

        func literal(_ xs: [Double]) -> String { "[" + xs.map { "\($0)" }.joined(separator: ",") + "]" }
        let script = """
            import json, math, torch
            torch.set_num_threads(1)
            W, S, base, m, f = \(warmup), \(steps), \(base), \(minimum), \(start)
            grads = [\(grads.map { "(\(literal($0.0)), \(literal($0.1)))" }.joined(separator: ", "))]
            \(Self.pythonScheduleFactor)
            out = {}
            for dtype in ['float64', 'float32']:
                for clip in ['norm', 'value']:
                    w = torch.tensor(\(literal(weight0)), dtype=getattr(torch, dtype), requires_grad=True)
                    b = torch.tensor(\(literal(bias0)), dtype=getattr(torch, dtype), requires_grad=True)
                    opt = torch.optim.AdamW([{'params': [w], 'weight_decay': 0.3}, {'params': [b], 'weight_decay': 0.0}],
                                            lr=base, foreach=False)
                    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
                    for gw, gb in grads:
                        w.grad = torch.tensor(gw, dtype=w.dtype)
                        b.grad = torch.tensor(gb, dtype=b.dtype)
                        if clip == 'norm': torch.nn.utils.clip_grad_norm_([w, b], 1.0, foreach=False)
                        else: torch.nn.utils.clip_grad_value_([w, b], 0.5, foreach=False)
                        opt.step()
                        sched.step()
                    out[dtype + '/' + clip] = [float(v) for v in w.detach().tolist() + b.detach().tolist()]
            # The built-in form of the schedule: its rate before each step.
            p = torch.zeros(1, requires_grad=True)
            opt = torch.optim.SGD([p], lr=base)
            sched = torch.optim.lr_scheduler.SequentialLR(opt, [
                torch.optim.lr_scheduler.LinearLR(opt, start_factor=f, total_iters=W),
                torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=S - W, eta_min=m)], milestones=[W])
            rates = []
            for s in range(S + 1):
                rates.append(opt.param_groups[0]['lr'])
                opt.step()
                sched.step()
            out['sequential'] = rates
            print(json.dumps(out))
            """
        let reference = try JSONDecoder().decode([String: [Double]].self,
                                                 from: Data(try Python.run(script, interpreter: Python.torchInterpreter).utf8))
        for clip in ["norm", "value"] {
            let double = run(Double.self, clip: clip), float = run(Float.self, clip: clip)
            let torch64 = try #require(reference["float64/\(clip)"]), torch32 = try #require(reference["float32/\(clip)"])
            #expect(double == torch64, "clip \(clip), Double: \(double) vs \(torch64)")
            #expect(Self.close(float, torch32, 1e-6), "clip \(clip), Float: \(float) vs \(torch32)")
        }
        let sequential = try #require(reference["sequential"])
        let ours = (0...steps).map { schedule.learningRate(base: base, step: $0, stepsPerEpoch: 6, totalSteps: steps) }
        #expect(Self.close(ours, sequential, 1e-12), "\(ours) vs SequentialLR's \(sequential)")
    }
}
