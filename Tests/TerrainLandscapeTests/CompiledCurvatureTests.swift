import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainModels
import TerrainTraining
import TerrainLandscape

/// Hessian-vector products through the compiled curvature program (`CompiledCurvature`: values
/// and tangents in oneDNN's blocked layout, batch norm as a per-channel map, Winograd kernels)
/// against the layers' R-operator passes, group by group.
@Suite("Compiled curvature")
struct CompiledCurvatureTests {
    /// ‖a − b‖ / ‖b‖.
    static func relativeError(_ a: ArraySlice<Double>, _ b: ArraySlice<Double>) -> Double {
        var d = 0.0, n = 0.0
        for (x, y) in zip(a, b) { d += (x - y) * (x - y); n += y * y }
        return (d / max(n, 1e-300)).squareRoot()
    }

    func compare(_ architecture: String, inputShape: [Int], hidden: [Int]? = nil, count: Int = 37) throws {
        let (model, data, _) = try CompiledEvaluationTests.subject(architecture, inputShape: inputShape, hidden: hidden, count: count)
        let objective = ModelObjective(model: model, data: data, batchSize: 16)
        #expect(CompiledCurvature(model: model, sampleShape: inputShape) != nil, "\(architecture) should compile")
        var g = SeededGenerator(seed: 3)
        let v = (0..<objective.groups.scalarCount).map { _ in g.nextNormal() }
        objective.evaluationPath = .layerByLayer
        let plain = try objective.hessianVectorProduct(.train, applyingTo: v)
        objective.evaluationPath = .compiled
        let compiled = try objective.hessianVectorProduct(.train, applyingTo: v)
        #expect(abs(compiled.value.loss - plain.value.loss) <= 1e-5 * abs(plain.value.loss))
        #expect(compiled.value.accuracy == plain.value.accuracy)
        let whole = Self.relativeError(compiled.product[...], plain.product[...])
        print("\(architecture): whole \(whole)")
        #expect(whole < 1e-4)
        for group in objective.groups where group.role.isTrainable {
            let e = Self.relativeError(compiled.product[group.range], plain.product[group.range])
            print("  \(group.name): \(e)")
            #expect(e < 1e-3, "\(architecture) \(group.name): \(e)")
        }
    }

    @Test func resnet20AgreesWithTheLayers() throws { try compare("resnet20", inputShape: [3, 16, 16]) }
    @Test func mlpAgreesWithTheLayers() throws { try compare("mlp", inputShape: [1, 8, 8], hidden: [32, 24]) }
}
