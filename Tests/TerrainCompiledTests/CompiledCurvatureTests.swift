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

/// Hessian-vector products through the compiled curvature program (`CompiledCurvature`: values
/// and tangents side by side in oneDNN's blocked layout, batch norm as a per-channel map,
/// Winograd kernels for wide 3x3 layers) against the layers' R-operator passes
/// (`Module.forwardTangent`/`backwardTangent`, which `HessianVectorProductTests` holds to finite
/// differences), parameter group by parameter group.
@Suite("Compiled curvature")
struct CompiledCurvatureTests {
    /// ‖a − b‖ / ‖b‖.
    static func relativeError(_ a: ArraySlice<Double>, _ b: ArraySlice<Double>) -> Double {
        var d = 0.0, n = 0.0
        for (x, y) in zip(a, b) { d += (x - y) * (x - y); n += y * y }
        return (d / max(n, 1e-300)).squareRoot()
    }

    /// Both paths at θ with a Gaussian v over every parameter (`weightsOnly`: zero on biases and
    /// batch norm, like HessianOperator's ≥ 2-dimension selection): the same loss and accuracy,
    /// and each group's product to 1e-5 relative (Float rounding; measured about 3e-7).
    func expectPathsAgree(_ model: Module<Float>, _ data: DatasetPair, sampleShape: [Int], weightsOnly: Bool = false) throws {
        let objective = ModelObjective(model: model, data: data, batchSize: 16)
        #expect(CompiledCurvature(model: model, sampleShape: sampleShape) != nil, "the model should compile")
        var g = SeededGenerator(seed: 3)
        var v = (0..<objective.groups.scalarCount).map { _ in g.nextNormal() }
        if weightsOnly {
            for group in objective.groups where group.shape.count < 2 { for i in group.range { v[i] = 0 } }
        }
        objective.evaluationPath = .layerByLayer
        let plain = try objective.hessianVectorProduct(.train, applyingTo: v)
        objective.evaluationPath = .compiled
        let compiled = try objective.hessianVectorProduct(.train, applyingTo: v)
        #expect(abs(compiled.value.loss - plain.value.loss) <= 1e-5 * abs(plain.value.loss))
        #expect(compiled.value.accuracy == plain.value.accuracy)
        for group in objective.groups where group.role.isTrainable {
            let e = Self.relativeError(compiled.product[group.range], plain.product[group.range])
            #expect(e < 1e-5, "\(group.name): relative error \(e)")
        }
        for group in objective.groups where !group.role.isTrainable {
            #expect(compiled.product[group.range].allSatisfy { $0 == 0 }, "\(group.name) is a buffer")
        }
    }

    @Test func resnet20AgreesWithTheLayers() throws {
        let (model, data, _) = try CompiledEvaluationTests.subject("resnet20", inputShape: [3, 16, 16])
        try expectPathsAgree(model, data, sampleShape: [3, 16, 16])
    }

    @Test func resnet20WeightsOnlyAgreesWithTheLayers() throws {
        let (model, data, _) = try CompiledEvaluationTests.subject("resnet20", inputShape: [3, 16, 16])
        try expectPathsAgree(model, data, sampleShape: [3, 16, 16], weightsOnly: true)
    }

    @Test func mlpAgreesWithTheLayers() throws {
        let (model, data, _) = try CompiledEvaluationTests.subject("mlp", inputShape: [1, 8, 8], hidden: [32, 24])
        try expectPathsAgree(model, data, sampleShape: [1, 8, 8])
    }

    /// Every epilogue term at once: convolutions with biases followed by batch norm (b and ḃ
    /// inside the norm), a residual sum with an unfused addition, a linear layer with batch norm
    /// and ReLU, and an odd number of outputs (the sweeps' one-lane path).
    @Test func biasesInsideBatchNormAgreeWithTheLayers() throws {
        var g = SeededGenerator(seed: 21)
        let body = Sequential<Float>(Conv2d(16, 16, kernel: 3, padding: 1, generator: &g), BatchNorm(16), ReLU(),
                                     Conv2d(16, 16, kernel: 3, padding: 1, generator: &g), BatchNorm(16), ReLU())
        let model = Sequential<Float>(
            Conv2d(3, 16, kernel: 3, padding: 1, generator: &g), BatchNorm(16), ReLU(),
            Residual(body: body),
            Conv2d(16, 32, kernel: 3, stride: 2, padding: 1, generator: &g), BatchNorm(32), ReLU(),
            GlobalAvgPool(), Flatten(),
            Linear(32, 24, generator: &g), BatchNorm(24), ReLU(),
            Linear(24, 7, generator: &g))
        CompiledEvaluationTests.moveNormalization(of: model, generator: &g)
        let count = 21
        let inputs = Tensor<Float>.randomNormal(shape: [count, 3, 8, 8], generator: &g)
        let set = Dataset(name: "random", inputs: inputs, targets: .classes((0..<count).map { Int32($0 % 7) }, count: 7))
        try expectPathsAgree(model, DatasetPair(train: set, test: set), sampleShape: [3, 8, 8])
    }

    /// One thread or two: the same bits (chunks run whole on one thread and are summed in order).
    @Test func threadCountDoesNotChangeTheBits() throws {
        let (model, data, _) = try CompiledEvaluationTests.subject("resnet20", inputShape: [3, 16, 16], count: 40)
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        var products: [[Double]] = []
        for threads in [1, 2] {
            Parallel.threadCount = threads
            let objective = ModelObjective(model: model, data: data, batchSize: 16)
            var g = SeededGenerator(seed: 8)
            let v = (0..<objective.groups.scalarCount).map { _ in g.nextNormal() }
            products.append(try objective.hessianVectorProduct(.train, applyingTo: v).product)
        }
        #expect(products[0].map(\.bitPattern) == products[1].map(\.bitPattern))
    }

    /// Models the program does not cover (max pooling) keep the layers' passes.
    @Test func maxPoolingModelsKeepTheLayers() throws {
        let (model, _, _) = try CompiledEvaluationTests.subject("vgg9", inputShape: [3, 16, 16])
        #expect(CompiledCurvature(model: model, sampleShape: [3, 16, 16]) == nil)
    }
}
