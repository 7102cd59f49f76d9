import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainModels
import TerrainTraining
import TerrainLandscape
import TerrainObjectives
import TerrainCompiled

/// The NaN rule on whole networks, on both evaluation paths (`.compiled`: oneDNN's fused graph,
/// whose ReLU turns NaN into 0, so it must decline; `.layerByLayer`): NaN in the data at random
/// positions, or a batch norm whose running variance is negative (an extrapolated `states`
/// direction), gives a NaN loss, as in PyTorch; a clean network still runs compiled.
@Suite("NaN through networks")
struct NaNEvaluationTests {
    static let models: [(String, [Int], [Int]?)] = [
        ("mlp", [1, 8, 8], [32, 24]), ("cnn", [1, 12, 12], nil), ("resnet20", [3, 16, 16], nil), ("vgg9", [3, 16, 16], nil),
    ]

    /// The loss on both paths.
    static func losses(_ objective: ModelObjective<Float>) throws -> (compiled: Double, layers: Double) {
        objective.evaluationPath = .compiled
        let compiled = try objective.evaluate(.train).loss
        objective.evaluationPath = .layerByLayer
        let layers = try objective.evaluate(.train).loss
        objective.evaluationPath = .compiled
        return (compiled, layers)
    }

    @Test(arguments: 0..<4)
    func nanInTheDataGivesANaNLossOnBothPaths(model k: Int) throws {
        let (architecture, shape, hidden) = Self.models[k]
        let (model, clean, _) = try CompiledEvaluationTests.subject(architecture, inputShape: shape, hidden: hidden)
        let objective = ModelObjective(model: model, data: clean, batchSize: 16)
        #expect(objective.evaluatesCompiled)
        // The clean set: finite, and the compiled graph really runs (it does not decline).
        let compiledProgram = try #require(CompiledEvaluation(model: model, sampleShape: shape))
        #expect(compiledProgram.evaluate(on: clean.train) != nil)
        let (c0, l0) = try Self.losses(objective)
        #expect(c0.isFinite && l0.isFinite)

        // A few NaN at random positions of random samples (one sample is enough for the mean).
        var g = SeededGenerator(seed: 11 + UInt64(k))
        var scalars = clean.train.inputs.scalars
        for _ in 0..<3 { scalars[g.nextInt(below: scalars.count)] = .nan }
        let poisoned = Dataset(name: "nan", inputs: Tensor(shape: clean.train.inputs.shape, scalars: scalars),
                               targets: clean.train.targets)
        let nanObjective = ModelObjective(model: model, data: DatasetPair(train: poisoned, test: poisoned), batchSize: 16)
        #expect(compiledProgram.evaluate(on: poisoned) == nil, "\(architecture): the compiled graph must decline NaN input")
        let (c, l) = try Self.losses(nanObjective)
        #expect(c.isNaN && l.isNaN, "\(architecture): \(c), \(l)")

        // ∞ in the data: PyTorch's convolutions and products make NaN of it (∞ − ∞, ∞·0).
        scalars = clean.train.inputs.scalars
        scalars[g.nextInt(below: scalars.count)] = .infinity
        scalars[g.nextInt(below: scalars.count)] = -.infinity
        let infinite = Dataset(name: "inf", inputs: Tensor(shape: clean.train.inputs.shape, scalars: scalars),
                               targets: clean.train.targets)
        let infObjective = ModelObjective(model: model, data: DatasetPair(train: infinite, test: infinite), batchSize: 16)
        let (ci, li) = try Self.losses(infObjective)
        #expect(ci.isNaN == li.isNaN && ci.isFinite == li.isFinite, "\(architecture): \(ci), \(li)")
    }

    /// The case: a batch norm's running variance pushed below −ε. PyTorch's
    /// (x − μ)/√(σ² + ε) is NaN for the whole channel, so every logit and the loss are NaN.
    @Test(arguments: 1..<4)
    func aNegativeRunningVarianceGivesANaNLossOnBothPaths(model k: Int) throws {
        let (architecture, shape, hidden) = Self.models[k]
        let (model, data, _) = try CompiledEvaluationTests.subject(architecture, inputShape: shape, hidden: hidden)
        let objective = ModelObjective(model: model, data: data, batchSize: 16)
        let variances = model.namedParameters().filter { $0.1.role == .runningVariance }
        let (_, last) = try #require(variances.last)
        var v = last.value.scalars
        v[v.count / 2] = -0.25
        last.value = Tensor(shape: last.value.shape, scalars: v)
        let (c, l) = try Self.losses(objective)
        #expect(c.isNaN && l.isNaN, "\(architecture): \(c), \(l)")
    }

    /// The same through a `states` interpolation extrapolated past its ends, as the issue found
    /// it: θ₁ + α(θ₂ − θ₁) with a variance that shrinks from θ₁ to θ₂ goes negative at α = 1.25.
    @Test func anExtrapolatedStatesInterpolationGivesNaNOutsideAndNumbersInside() throws {
        let (model, data, _) = try CompiledEvaluationTests.subject("resnet20", inputShape: [3, 16, 16], count: 20)
        let objective = ModelObjective(model: model, data: data, batchSize: 16)
        let theta1 = objective.parameters()
        var theta2 = theta1
        for group in objective.groups where group.role == .runningVariance {
            // σ₂² = σ₁²/10 on one channel: σ₁² + 1.25(σ₂² − σ₁²) = −0.125·σ₁² < 0.
            theta2[group.offset] = theta1[group.offset] / 10
        }
        for alpha in [-0.25, 0.0, 0.5, 1.0, 1.25] {
            objective.setParameters(zip(theta1, theta2).map { $0 + alpha * ($1 - $0) })
            let (c, l) = try Self.losses(objective)
            if alpha > 1.2 {
                #expect(c.isNaN && l.isNaN, "α = \(alpha): \(c), \(l)")
            } else {
                #expect(c.isFinite && l.isFinite && abs(c - l) <= 1e-5 * abs(l), "α = \(alpha): \(c), \(l)")
            }
        }
    }

    /// On a surface the NaN points are stored as NaN (`SurfaceValue.invalid`, with the accuracy
    /// PyTorch's arg-max gives), not as diverged (+∞), and count as computed: a resume does not
    /// recompute them.
    @Test func aSurfaceStoresNaNPointsAsInvalidAndComputed() throws {
        let (model, data, _) = try CompiledEvaluationTests.subject("resnet20", inputShape: [3, 16, 16], count: 20)
        let objective = ModelObjective(model: model, data: data, batchSize: 16)
        let theta1 = objective.parameters()
        var theta2 = theta1
        for group in objective.groups where group.role == .runningVariance { theta2[group.offset] = theta1[group.offset] / 10 }
        let direction = Direction.between(theta1, theta2, groups: objective.groups, type: .states)
        let grid = SurfaceGrid(x: [-0.25, 0, 0.5, 1, 1.25])
        let surface = try SurfaceComputation(objective: objective, center: theta1, xDirection: direction, yDirection: nil,
                                             grid: grid, sets: [.train])
        #expect(surface.pendingPoints == Array(0..<5))
        for point in 0..<5 { try surface.compute(point: point) }
        let losses = surface.values[.trainLoss]!, accuracies = surface.values[.trainAccuracy]!
        #expect(losses[..<4].allSatisfy { $0.isFinite })
        #expect(SurfaceValue.isInvalid(losses[4]) && !SurfaceValue.isNotComputed(losses[4]))
        #expect(accuracies[4].isFinite && accuracies[4] >= 0 && accuracies[4] <= 100)
        #expect(surface.pendingPoints.isEmpty)
        // A not-computed point is the other NaN.
        #expect(SurfaceValue.isNotComputed(.nan) && !SurfaceValue.isInvalid(.nan))
    }

    /// The compiled Hessian-vector product (C sweeps with the ReLU, Winograd, batch norm as a
    /// per-channel map) and the layers' R-operator: NaN loss and NaN products with a negative
    /// running variance or NaN in the data.
    @Test func hessianVectorProductsKeepNaNOnBothPaths() throws {
        let (model, data, _) = try CompiledEvaluationTests.subject("resnet20", inputShape: [3, 16, 16], count: 20)
        #expect(CompiledCurvature(model: model, sampleShape: [3, 16, 16]) != nil)
        var scalars = data.train.inputs.scalars
        scalars[scalars.count / 3] = .nan
        let poisoned = Dataset(name: "nan", inputs: Tensor(shape: data.train.inputs.shape, scalars: scalars), targets: data.train.targets)
        var g = SeededGenerator(seed: 4)
        for (name, pair, breakVariance) in [("NaN data", DatasetPair(train: poisoned, test: poisoned), false),
                                            ("negative variance", data, true)] {
            if breakVariance {
                let (_, variance) = try #require(model.namedParameters().first { $0.1.role == .runningVariance })
                var v = variance.value.scalars
                v[0] = -1
                variance.value = Tensor(shape: variance.value.shape, scalars: v)
            }
            let objective = ModelObjective(model: model, data: pair, batchSize: 16)
            let v = (0..<objective.groups.scalarCount).map { _ in g.nextNormal() }
            for path in [EvaluationPath.compiled, .layerByLayer] {
                objective.evaluationPath = path
                let result = try objective.hessianVectorProduct(.train, applyingTo: v)
                #expect(result.value.loss.isNaN, "\(name), \(path)")
                #expect(result.product.contains { $0.isNaN }, "\(name), \(path)")
            }
        }
    }

    /// The plane path (an MLP's first layer computed once per plane): a NaN in the data or in the
    /// first layer's weights at a point must give NaN there, not a number from oneDNN's ReLU.
    @Test func thePlanePathKeepsNaN() throws {
        let (model, data, _) = try CompiledEvaluationTests.subject("mlp", inputShape: [1, 8, 8], hidden: [32, 24])
        let objective = ModelObjective(model: model, data: data, batchSize: 16)
        let theta = objective.parameters()
        let drawn = DirectionRecipe(seed: 1).directions(count: 2, for: theta, groups: objective.groups)
        var dx = drawn[0]
        let dy = drawn[1]
        // NaN in one entry of the first layer's x direction: every point off the y axis is NaN.
        let first = try #require(objective.groups.first)
        dx.values[first.offset + 3] = .nan
        let plane = ObjectivePlane(center: theta, x: dx.values, y: dy.values)
        for (alpha, beta) in [(0.5, 0.25), (0.0, 0.5)] {
            let point = zip(theta.indices, theta).map { i, t in t + alpha * dx.values[i] + beta * dy.values[i] }
            objective.setParameters(point, on: plane, alpha: alpha, beta: beta)
            let loss = try objective.evaluate(.train).loss
            // 0·NaN is NaN: PyTorch's θ + 0·d is NaN too, so even α = 0 is NaN.
            #expect(loss.isNaN, "(\(alpha), \(beta)): \(loss)")
        }
    }
}
