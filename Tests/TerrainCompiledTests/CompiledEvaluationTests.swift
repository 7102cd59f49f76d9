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

/// The compiled evaluation (`CompiledEvaluation`: BN folded, activations and residual sums fused,
/// oneDNN's blocked layout throughout) against the plain layer-by-layer one, point by point.
@Suite("Compiled evaluation")
struct CompiledEvaluationTests {
    /// A model of the zoo with batch-norm statistics and affine parameters far from their
    /// initial values, so that folding them is really exercised, and a data set whose size is
    /// no multiple of the compiled run size (a short last run).
    static func subject(_ architecture: String, inputShape: [Int], hidden: [Int]? = nil, count: Int = 37)
        throws -> (Module<Float>, DatasetPair, ModelSpec)
    {
        let spec = ModelSpec(architecture: architecture, hiddenSizes: hidden, inputShape: inputShape, outputs: 10, seed: 7)
        let model: Module<Float> = try spec.build()
        var g = SeededGenerator(seed: 99)
        moveNormalization(of: model, generator: &g)
        let inputs = Tensor<Float>.randomNormal(shape: [count] + inputShape, generator: &g)
        let labels = (0..<count).map { Int32(($0 * 7) % 10) }
        let set = Dataset(name: "random", inputs: inputs, targets: .classes(labels, count: 10))
        return (model, DatasetPair(train: set, test: set), spec)
    }

    /// Batch-norm statistics, scales and shifts, and biases, drawn far from their initial values.
    static func moveNormalization(of model: Module<Float>, generator g: inout SeededGenerator) {
        for (_, p) in model.namedParameters() {
            switch p.role {
            case .runningMean, .normBias, .bias:
                p.value = Tensor(shape: p.value.shape, scalars: (0..<p.value.count).map { _ in Float(0.3 * g.nextNormal()) })
            case .runningVariance, .normWeight:
                p.value = Tensor(shape: p.value.shape, scalars: (0..<p.value.count).map { _ in Float(0.5 + abs(g.nextNormal())) })
            default: break
            }
        }
    }

    /// Loss (1e-5 relative) and accuracy (equal) of both paths at the centre and at points of a
    /// filter-normalized plane, on both sets.
    func expectPathsAgree(_ architecture: String, inputShape: [Int], hidden: [Int]? = nil) throws {
        let (model, data, _) = try Self.subject(architecture, inputShape: inputShape, hidden: hidden)
        try expectPathsAgree(architecture, model: model, data: data)
    }

    func expectPathsAgree(_ architecture: String, model: Module<Float>, data: DatasetPair) throws {
        let objective = ModelObjective(model: model, data: data, batchSize: 16)
        #expect(objective.evaluatesCompiled, "\(architecture) should lower")
        let theta = objective.parameters()
        let directions = DirectionRecipe(seed: 5).directions(count: 2, for: theta, groups: objective.groups)
        for (alpha, beta) in [(0.0, 0.0), (-0.5, 0.3), (0.8, -1.0), (0.1, 0.05)] {
            objective.setParameters(zip(theta.indices, theta).map { i, t in
                t + alpha * directions[0].values[i] + beta * directions[1].values[i]
            })
            for set in [EvaluationSet.train, .test] {
                objective.evaluationPath = .layerByLayer
                let plain = try objective.evaluate(set)
                objective.evaluationPath = .compiled
                let compiled = try objective.evaluate(set)
                #expect(abs(compiled.loss - plain.loss) <= 1e-5 * abs(plain.loss),
                        "\(architecture) at (\(alpha), \(beta)): \(compiled.loss) vs \(plain.loss)")
                #expect(compiled.accuracy == plain.accuracy, "\(architecture) at (\(alpha), \(beta))")
            }
        }
    }

    @Test func mlpAgreesWithTheLayers() throws { try expectPathsAgree("mlp", inputShape: [1, 8, 8], hidden: [32, 24]) }
    @Test func cnnAgreesWithTheLayers() throws { try expectPathsAgree("cnn", inputShape: [1, 12, 12]) }
    @Test func resnet20AgreesWithTheLayers() throws { try expectPathsAgree("resnet20", inputShape: [3, 16, 16]) }
    @Test func vgg9AgreesWithTheLayers() throws { try expectPathsAgree("vgg9", inputShape: [3, 16, 16]) }

    /// GELU in both forms, fused into the Linear before it (oneDNN's gelu_erf and gelu_tanh).
    @Test func geluExactAndTanhAgreeWithTheLayers() throws {
        var g = SeededGenerator(seed: 12)
        let model = Sequential<Float>(Flatten(), Linear(64, 32, generator: &g), GELU(tanhApproximation: true),
                                      Linear(32, 24, generator: &g), GELU(), Linear(24, 10, generator: &g))
        let (_, data, _) = try Self.subject("mlp", inputShape: [1, 8, 8], hidden: [32, 24])
        try expectPathsAgree("gelu mlp", model: model, data: data)
    }

    /// An empty set gives what the plain evaluation gives (loss 0, accuracy 0), not a trap.
    @Test func emptySetGivesThePlainResult() throws {
        let (model, _, _) = try Self.subject("mlp", inputShape: [1, 8, 8], hidden: [32, 24])
        let empty = Dataset(name: "empty", inputs: Tensor<Float>(zeros: [0, 1, 8, 8]), targets: .classes([], count: 10))
        let compiled = try #require(CompiledEvaluation(model: model, sampleShape: [1, 8, 8]))
        #expect(compiled.evaluate(on: empty) == Evaluation.evaluate(model, on: empty))
    }

    /// Models the lowering does not cover evaluate layer by layer, with the same numbers.
    @Test func densenetFallsBackToTheLayers() throws {
        let (model, data, _) = try Self.subject("densenet", inputShape: [3, 16, 16], count: 9)
        #expect(LoweredNetwork<Float>.lower(model, sampleShape: [3, 16, 16]) == nil)
        let objective = ModelObjective(model: model, data: data, batchSize: 16)
        #expect(!objective.evaluatesCompiled)
        let compiled = try objective.evaluate(.train)
        objective.evaluationPath = .layerByLayer
        let plain = try objective.evaluate(.train)
        #expect(compiled.loss == plain.loss && compiled.accuracy == plain.accuracy)
    }

    /// BN folding is exact algebra: y = s(Wx + b − μ) + β with s = γ/√(σ² + ε) equals the
    /// folded layer's W′x + b′.
    @Test func foldingMatchesBatchNormInDouble() throws {
        let (model, _, _) = try Self.subject("cnn", inputShape: [1, 12, 12])
        let lowered = try #require(LoweredNetwork<Float>.lower(model, sampleShape: [1, 12, 12]))
        let slot = try #require(lowered.slots.first { $0.norm != nil })
        let norm = try #require(slot.norm)
        var w: [Float] = [], b: [Float] = []
        slot.fold(weight: &w, bias: &b)
        let perOutput = slot.weight.value.count / slot.outputs
        for o in 0..<slot.outputs {
            let s = Double(norm.weight.value.scalars[o]) / (Double(norm.runningVariance.value.scalars[o]) + norm.epsilon).squareRoot()
            let bias = slot.bias.map { Double($0.value.scalars[o]) } ?? 0
            let expectedBias = s * (bias - Double(norm.runningMean.value.scalars[o])) + Double(norm.bias.value.scalars[o])
            #expect(abs(Double(b[o]) - expectedBias) <= 1e-6 * max(1, abs(expectedBias)))
            for k in 0..<perOutput {
                let expected = s * Double(slot.weight.value.scalars[o * perOutput + k])
                #expect(abs(Double(w[o * perOutput + k]) - expected) <= 1e-6 * max(1, abs(expected)))
            }
        }
    }

    /// A plane through a first layer's weights and bias: their values as the centre, and two
    /// seeded random directions (0.2·N(0, 1) per value).
    static func randomPlane(through layer: FoldedLayer<Float>) -> FirstLayerPlane {
        var g = SeededGenerator(seed: 3)
        func random(_ shape: [Int]) -> Tensor<Float> {
            Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(0.2 * g.nextNormal()) })
        }
        let (w0, b0) = (layer.weight.value, layer.bias!.value)
        return FirstLayerPlane(weights: [w0, random(w0.shape), random(w0.shape)], biases: [b0, random(b0.shape), random(b0.shape)])
    }

    /// Sets the layer's weight and bias to the plane's point (α, β): centre + α·x + β·y.
    static func move(_ layer: FoldedLayer<Float>, to plane: FirstLayerPlane, alpha: Double, beta: Double) {
        func moved(_ values: [Tensor<Float>]) -> Tensor<Float> {
            let (c, x, y) = (values[0].scalars, values[1].scalars, values[2].scalars)
            return Tensor(shape: values[0].shape, scalars: (0..<c.count).map { c[$0] + Float(alpha) * x[$0] + Float(beta) * y[$0] })
        }
        layer.weight.value = moved(plane.weights)
        layer.bias!.value = moved(plane.biases)
    }

    /// An MLP's first layer is linear on a plane: the plane evaluation (Y₀ + αYx + βYy, then the
    /// rest of the network) matches the compiled evaluation at the point's parameters.
    @Test func firstLayerOnAPlaneMatchesTheWholeNetwork() throws {
        let (model, data, _) = try Self.subject("mlp", inputShape: [1, 8, 8], hidden: [32, 24], count: 45)
        let compiled = try #require(CompiledEvaluation(model: model, sampleShape: [1, 8, 8]))
        let layer = try #require(compiled.planeLayer)
        let plane = Self.randomPlane(through: layer)
        for (alpha, beta) in [(0.0, 0.0), (0.7, -0.4), (-1.0, 1.0)] {
            Self.move(layer, to: plane, alpha: alpha, beta: beta)
            let whole = try #require(compiled.evaluate(on: data.train))
            let onPlane = try #require(compiled.evaluate(on: data.train, plane: plane, alpha: alpha, beta: beta))
            #expect(abs(onPlane.loss - whole.loss) <= 1e-5 * abs(whole.loss), "(\(alpha), \(beta)): \(onPlane.loss) vs \(whole.loss)")
            #expect(onPlane.accuracy == whole.accuracy)
        }
        // A first layer with batch norm folded in is not linear on a plane.
        let (cnn, _, _) = try Self.subject("cnn", inputShape: [1, 12, 12])
        #expect(CompiledEvaluation(model: cnn, sampleShape: [1, 12, 12])?.planeLayer == nil)
    }

    /// The compiled path gives the same bits with one thread or two, and a surface computed
    /// through it (for the MLP: on the plane, first layer once per plane) matches the
    /// layer-by-layer surface point by point.
    @Test(arguments: ["resnet20", "mlp"])
    func threadCountDoesNotChangeTheBitsAndSurfacesAgree(_ architecture: String) throws {
        let shape = architecture == "mlp" ? [1, 8, 8] : [3, 16, 16]
        let (model, data, spec) = try Self.subject(architecture, inputShape: shape, hidden: architecture == "mlp" ? [32, 24] : nil, count: 40)
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        var losses: [UInt64] = []
        for threads in [1, 2] {
            Parallel.threadCount = threads
            let objective = ModelObjective(model: model, data: data, batchSize: 16)
            losses.append(try objective.evaluate(.train).loss.bitPattern)
        }
        #expect(losses[0] == losses[1])

        var surfaces: [[Double]] = []
        for path in [EvaluationPath.layerByLayer, .compiled] {
            let objective = ModelObjective(model: model, data: data, batchSize: 16) { try spec.build() as Module<Float> }
            objective.evaluationPath = path
            #expect(objective.evaluatesCompiled == (path == .compiled))
            let theta = objective.parameters()
            let directions = DirectionRecipe(seed: 11).directions(count: 2, for: theta, groups: objective.groups)
            let grid = SurfaceGrid(x: try Axis.parse("-1:1:3").coordinates, y: try Axis.parse("-1:1:3").coordinates)
            let surface = try SurfaceComputation(objective: objective, center: theta, xDirection: directions[0],
                                                 yDirection: directions[1], grid: grid, sets: [.train])
            try surface.spreadPointsOverThreads(2)
            let pending = surface.pendingPoints
            for first in stride(from: 0, to: pending.count, by: surface.concurrentPoints) {
                _ = try surface.compute(points: Array(pending[first..<min(pending.count, first + surface.concurrentPoints)]))
            }
            surface.restoreCenter()
            surfaces.append(surface.values[.trainLoss]!)
        }
        for (plain, compiled) in zip(surfaces[0], surfaces[1]) {
            #expect(abs(compiled - plain) <= 1e-5 * abs(plain), "\(compiled) vs \(plain)")
        }
    }
}
