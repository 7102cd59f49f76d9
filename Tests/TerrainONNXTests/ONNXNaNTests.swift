import Foundation
import Testing
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainLandscape
import TerrainONNX
import TerrainObjectives

/// The NaN rule through imported graphs (Gemm, Conv, BatchNormalization, Relu, MaxPool, GELU,
/// Softmax, … as PyTorch exported them): NaN in the data gives a NaN loss; so does a batch
/// normalization whose running variance is negative, as in PyTorch.
@Suite("ONNX NaN")
struct ONNXNaNTests {
    @Test(arguments: Fixtures.names)
    func nanInTheDataGivesANaNLoss(name: String) throws {
        let objective = try Fixtures.objective(name, Float.self)
        #expect(try objective.evaluate(.train).loss.isFinite)
        let clean = try Fixtures.data(name).train
        var scalars = clean.inputs.scalars
        scalars[scalars.count / 2] = .nan
        let poisoned = Dataset(name: "nan", inputs: Tensor(shape: clean.inputs.shape, scalars: scalars), targets: clean.targets)
        let graph: Module<Float> = try Fixtures.model(name).makeGraph(Float.self)
        let nan = ModelObjective(model: graph, data: DatasetPair(train: poisoned, test: poisoned), batchSize: 20)
        #expect(try nan.evaluate(.train).loss.isNaN, "\(name)")
    }

    @Test func aNegativeRunningVarianceGivesANaNLoss() throws {
        let objective = try Fixtures.objective("cnn", Float.self)
        var theta = objective.parameters()
        let variance = try #require(objective.groups.first { $0.role == .runningVariance })
        theta[variance.offset] = -0.5
        objective.setParameters(theta)
        #expect(try objective.evaluate(.train).loss.isNaN)
    }
}
