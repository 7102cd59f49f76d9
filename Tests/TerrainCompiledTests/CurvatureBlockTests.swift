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

/// Blocks of Hessian-vector products (`ModelObjective.hessianVectorProducts`, through
/// `CompiledCurvature.hessianVectorProducts` and the oneDNN block program) against single
/// products, and the θ-only results kept across calls (`curvatureStateBudget`).
@Suite("Curvature blocks")
struct CurvatureBlockTests {
    static func vectors(_ count: Int, length: Int, seed: UInt64) -> [[Double]] {
        var g = SeededGenerator(seed: seed)
        return (0..<count).map { _ in (0..<length).map { _ in g.nextNormal() } }
    }

    static func bits(_ products: [[Double]]) -> [[UInt64]] { products.map { $0.map(\.bitPattern) } }

    /// The subjects: ResNet-20 (batch norm, residual sums, Winograd-sized layers at 16x16), an
    /// MLP (inner products only) and the model with every epilogue term.
    static func subjects() throws -> [(name: String, model: Module<Float>, data: DatasetPair)] {
        let (resnet, resnetData, _) = try CompiledEvaluationTests.subject("resnet20", inputShape: [3, 16, 16], count: 40)
        let (mlp, mlpData, _) = try CompiledEvaluationTests.subject("mlp", inputShape: [1, 8, 8], hidden: [32, 24])
        return [("resnet20", resnet, resnetData), ("mlp", mlp, mlpData)]
    }

    /// Compiled: each product of a block of 4 equals its single product to 1e-5 relative per
    /// group (Float rounding), the loss and accuracy too. Layer by layer: bit for bit.
    @Test func blockProductsEqualSingleProducts() throws {
        for subject in try Self.subjects() {
            let objective = ModelObjective(model: subject.model, data: subject.data, batchSize: 16)
            let vectors = Self.vectors(4, length: objective.groups.scalarCount, seed: 11)
            let singles = try vectors.map { try objective.hessianVectorProduct(.train, applyingTo: $0) }
            let block = try objective.hessianVectorProducts(.train, applyingTo: vectors)
            #expect(abs(block.value.loss - singles[0].value.loss) <= 1e-6 * abs(singles[0].value.loss))
            #expect(block.value.accuracy == singles[0].value.accuracy)
            for (k, single) in singles.enumerated() {
                for group in objective.groups where group.role.isTrainable {
                    let e = CompiledCurvatureTests.relativeError(block.products[k][group.range], single.product[group.range])
                    #expect(e < 1e-5, "\(subject.name) probe \(k) \(group.name): relative error \(e)")
                }
                for group in objective.groups where !group.role.isTrainable {
                    #expect(block.products[k][group.range].allSatisfy { $0 == 0 })
                }
            }
            objective.evaluationPath = .layerByLayer
            let layerSingles = try vectors.map { try objective.hessianVectorProduct(.train, applyingTo: $0).product }
            let layerBlock = try objective.hessianVectorProducts(.train, applyingTo: vectors).products
            #expect(Self.bits(layerBlock) == Self.bits(layerSingles), "\(subject.name) layer by layer")
        }
    }

    /// Keeping the θ-only results changes no bit: a block and a single product with nothing kept,
    /// with everything kept (the second call reads the kept results), and with a budget too small
    /// for one chunk (nothing is kept).
    @Test func keptStatesGiveTheSameBits() throws {
        for subject in try Self.subjects() {
            let objective = ModelObjective(model: subject.model, data: subject.data, batchSize: 16)
            let vectors = Self.vectors(3, length: objective.groups.scalarCount, seed: 12)
            objective.curvatureStateBudget = 0
            let fresh = try objective.hessianVectorProducts(.train, applyingTo: vectors).products
            #expect(objective.keptCurvatureStateBytes == 0)
            objective.curvatureStateBudget = 1 << 40
            let first = try objective.hessianVectorProducts(.train, applyingTo: vectors).products
            #expect(objective.keptCurvatureStateBytes > 0)
            let kept = try objective.hessianVectorProducts(.train, applyingTo: vectors).products
            #expect(Self.bits(first) == Self.bits(fresh), "\(subject.name)")
            #expect(Self.bits(kept) == Self.bits(fresh), "\(subject.name)")
            // Single products through the block program: the same bits kept or not.
            let single = try objective.hessianVectorProduct(.train, applyingTo: vectors[0]).product
            let singleAgain = try objective.hessianVectorProduct(.train, applyingTo: vectors[0]).product
            #expect(single.map(\.bitPattern) == singleAgain.map(\.bitPattern))
            objective.curvatureStateBudget = 1
            let tiny = try objective.hessianVectorProducts(.train, applyingTo: vectors).products
            #expect(objective.keptCurvatureStateBytes == 0, "a budget below one chunk keeps nothing")
            #expect(Self.bits(tiny) == Self.bits(fresh), "\(subject.name)")
        }
    }

    /// Kept results belong to one θ: after new parameters the products are those of an objective
    /// that never kept anything; and a budget for part of the chunks keeps only those.
    @Test func newParametersRefreshTheKeptStates() throws {
        let (model, data, _) = try CompiledEvaluationTests.subject("resnet20", inputShape: [3, 16, 16], count: 40)
        let objective = ModelObjective(model: model, data: data, batchSize: 16)
        let vectors = Self.vectors(2, length: objective.groups.scalarCount, seed: 13)
        let theta = objective.parameters()
        var g = SeededGenerator(seed: 14)
        let moved = theta.enumerated().map { i, x in objective.groups.first { $0.range.contains(i) }!.role.isTrainable ? x + 0.01 * g.nextNormal() : x }
        objective.curvatureStateBudget = 1 << 40
        _ = try objective.hessianVectorProducts(.train, applyingTo: vectors)
        objective.setParameters(moved)
        let afterMove = try objective.hessianVectorProducts(.train, applyingTo: vectors).products
        let full = objective.keptCurvatureStateBytes
        objective.curvatureStateBudget = 0
        let reference = try objective.hessianVectorProducts(.train, applyingTo: vectors).products
        #expect(Self.bits(afterMove) == Self.bits(reference))
        // 40 samples are 3 chunks of 16, 16 and 8 (the last holds half a chunk's bytes): room for
        // the first only.
        objective.curvatureStateBudget = full * 2 / 5 + 1
        let partial = try objective.hessianVectorProducts(.train, applyingTo: vectors).products
        #expect(objective.keptCurvatureStateBytes > 0 && objective.keptCurvatureStateBytes < full)
        #expect(Self.bits(partial) == Self.bits(reference))
    }

    /// One thread or two: the same bits for a block (chunks run whole and add in chunk order).
    @Test func threadCountDoesNotChangeABlock() throws {
        let (model, data, _) = try CompiledEvaluationTests.subject("resnet20", inputShape: [3, 16, 16], count: 40)
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        var results: [[[UInt64]]] = []
        for threads in [1, 2] {
            Parallel.threadCount = threads
            let objective = ModelObjective(model: model, data: data, batchSize: 16)
            let vectors = Self.vectors(3, length: objective.groups.scalarCount, seed: 15)
            results.append(Self.bits(try objective.hessianVectorProducts(.train, applyingTo: vectors).products))
        }
        #expect(results[0] == results[1])
    }
}
