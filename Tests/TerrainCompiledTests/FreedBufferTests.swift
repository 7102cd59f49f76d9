import Testing
import Foundation
@testable import TerrainTensor
import TerrainNN
import TerrainData
import TerrainObjectives
import TerrainCompiled

/// The compiled paths against buffers that outlive their use: the plane evaluation's cache of
/// first-layer outputs, which must belong to the very inputs it is asked about, and runs with
/// freed buffers poisoned (`BufferPool.poisoningFreedBuffers`, see `TerrainTensorTests`'
/// `FreedBufferTests`), which must give the bits of plain runs.
@Suite("Compiled paths and freed buffers")
struct CompiledFreedBufferTests {
    /// An MLP, a plane through its first layer and the point (0.7, −0.4) on it, the model's
    /// parameters set there.
    static func mlpOnAPlane() throws -> (CompiledEvaluation<Float>, FirstLayerPlane, alpha: Double, beta: Double) {
        let (model, _, _) = try CompiledEvaluationTests.subject("mlp", inputShape: [1, 8, 8], hidden: [32, 24])
        let compiled = try #require(CompiledEvaluation(model: model, sampleShape: [1, 8, 8]))
        let layer = try #require(compiled.planeLayer)
        let plane = CompiledEvaluationTests.randomPlane(through: layer)
        let (alpha, beta) = (0.7, -0.4)
        CompiledEvaluationTests.move(layer, to: plane, alpha: alpha, beta: beta)
        return (compiled, plane, alpha, beta)
    }

    /// 300 random samples [1, 8, 8]: 76,800 bytes of inputs, a pooled size.
    static func samples(seed: UInt64) -> Dataset {
        var g = SeededGenerator(seed: seed)
        return Dataset(name: "random", inputs: .randomNormal(shape: [300, 1, 8, 8], generator: &g),
                       targets: .classes((0..<300).map { Int32(($0 * 7) % 10) }, count: 10))
    }

    func expectPlaneMatchesWhole(_ compiled: CompiledEvaluation<Float>, _ plane: FirstLayerPlane, _ alpha: Double,
                                 _ beta: Double, on data: Dataset, _ comment: Comment) throws {
        let whole = try #require(compiled.evaluate(on: data))
        let onPlane = try #require(compiled.evaluate(on: data, plane: plane, alpha: alpha, beta: beta))
        #expect(abs(onPlane.loss - whole.loss) <= 1e-5 * abs(whole.loss), comment)
        #expect(onPlane.accuracy == whole.accuracy, comment)
    }

    /// The plane's first-layer outputs are made once per data set; a new set must not be taken
    /// for the last one because its inputs sit at the same address (the pool gives a freed
    /// set's buffer to the next tensor of its size), nor a set whose inputs were written in place.
    @Test func planeOutputsBelongToTheInputsTheyWereMadeFrom() throws {
        let (compiled, plane, alpha, beta) = try Self.mlpOnAPlane()
        for seed: UInt64 in 1...3 {
            try expectPlaneMatchesWhole(compiled, plane, alpha, beta, on: Self.samples(seed: seed), "set \(seed)")
        }
        var data = Self.samples(seed: 4)
        try expectPlaneMatchesWhole(compiled, plane, alpha, beta, on: data, "before normalization")
        Normalization(mean: [0.5], std: [2]).apply(to: &data)
        try expectPlaneMatchesWhole(compiled, plane, alpha, beta, on: data, "after normalization in place")
    }

    /// The plane evaluation (its combined first-layer buffer read by every run) and the compiled
    /// Hessian-vector product (each run's loss gradient and its tangent, copied into the
    /// program) give the same bits with freed buffers poisoned.
    @Test func compiledPathsGiveTheSameBitsWithFreedBuffersPoisoned() throws {
        let (compiled, plane, alpha, beta) = try Self.mlpOnAPlane()
        let data = Self.samples(seed: 5)
        let plain = try #require(compiled.evaluate(on: data, plane: plane, alpha: alpha, beta: beta))
        let poisoned = try #require(BufferPool.shared.poisoningFreedBuffers {
            compiled.evaluate(on: data, plane: plane, alpha: alpha, beta: beta)
        })
        #expect(poisoned.loss == plain.loss && poisoned.accuracy == plain.accuracy)

        let (model, pair, _) = try CompiledEvaluationTests.subject("mlp", inputShape: [1, 8, 8], hidden: [32, 24])
        #expect(CompiledCurvature(model: model, sampleShape: [1, 8, 8]) != nil, "the model should compile")
        let objective = ModelObjective(model: model, data: pair, batchSize: 16)
        objective.evaluationPath = .compiled
        var g = SeededGenerator(seed: 8)
        let v = (0..<objective.groups.scalarCount).map { _ in g.nextNormal() }
        let product = try objective.hessianVectorProduct(.train, applyingTo: v)
        let poisonedProduct = try BufferPool.shared.poisoningFreedBuffers {
            try objective.hessianVectorProduct(.train, applyingTo: v)
        }
        #expect(poisonedProduct.value.loss == product.value.loss)
        #expect(poisonedProduct.product == product.product)
        #expect(product.product.allSatisfy { $0.isFinite })
    }
}
