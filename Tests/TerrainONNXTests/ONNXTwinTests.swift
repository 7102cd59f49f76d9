import Foundation
import Testing
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainLandscape
@testable import TerrainONNX
import TerrainObjectives
import TerrainIO
import TerrainTestSupport

/// Today's CNN classification families, as PyTorch exports them: small plain-PyTorch twins of
/// torchvision's MobileNetV2 (at operator sets 13 and 10), MobileNetV3, EfficientNet and RegNet
/// (tests/onnx/cnn_twins.py says which operators each exercises), exported afresh by PyTorch,
/// randomly initialized. Terrain's loss matches PyTorch's to 1e-5 in Float and Double, and its
/// Hessian-vector product (R-operator) matches PyTorch's double backward to 1e-4 relative.
@Suite("ONNX exports of today's CNN families give PyTorch's loss and Hessian-vector products",
       .enabled(if: Python.torchChecksRun, "needs PyTorch with onnx (TERRAIN_TORCH_PYTHON or .venv-torch)"))
struct ONNXTwinTests {
    static let twins = ["mobilenet_v2", "mobilenet_v2_opset10", "mobilenet_v3", "efficientnet", "efficientnet_opset10", "regnet",
                        "regnet_opset10", "convnext"]

    /// The folder the twins are exported into, once per test run.
    static let exported: Result<URL, any Error> = Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-cnn-twins-\(UUID().uuidString)")
        let script = packageRoot.appendingPathComponent("tests/onnx/cnn_twins.py")
        try Command.run(Python.torchInterpreter, [script.path, folder.path] + twins + ["instance_norm"])
        return folder
    }

    @Test(arguments: twins) func lossAndHessianVectorProductMatchPyTorch(_ name: String) throws {
        let folder = try Self.exported.get()
        let model = try ONNXModel.read(from: folder.appendingPathComponent(name + ".onnx"))
        let data = try Fixtures.data(name, in: folder)
        let reference = try NPZ.read(try Data(contentsOf: folder.appendingPathComponent(name + ".reference.npz")), file: name)
        let expected = reference["loss"]!.doubles()[0]
        let float = ModelObjective(model: model.makeGraph(Float.self) as Module<Float>, data: data, batchSize: 8)
        let loss32 = try float.evaluate(.train).loss
        #expect(relativeError(loss32, expected) < 1e-5, "\(name) (float): Terrain \(loss32), PyTorch \(expected)")
        let objective = ModelObjective(model: model.makeGraph(Double.self) as Module<Double>, data: data, batchSize: 8)
        // v by parameter name; zero on buffers (BatchNorm's running statistics).
        var v = [Double](repeating: 0, count: objective.groups.scalarCount)
        var want = v
        for group in objective.groups where group.isTrainable {
            let d = try #require(reference["direction." + group.name]?.doubles(), "\(name): PyTorch has no parameter \(group.name)")
            let hv = try #require(reference["hvp." + group.name]?.doubles())
            for i in 0..<group.count { v[group.offset + i] = d[i]; want[group.offset + i] = hv[i] }
        }
        let (value, _, product) = try objective.hessianVectorProduct(.train, v)
        #expect(relativeError(value.loss, expected) < 1e-5, "\(name) (double): Terrain \(value.loss), PyTorch \(expected)")
        let norm = { (a: [Double]) in a.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        let error = norm(zip(product, want).map { $0 - $1 }) / norm(want)
        #expect(norm(want) > 0 && error < 1e-4, "\(name): H·v differs from PyTorch's double backward by \(error) (relative)")
        print("\(name): loss relative to PyTorch's \(relativeError(loss32, expected)) (Float), \(relativeError(value.loss, expected)) (Double); "
              + "H·v \(error)")
    }

    /// A model with an operator Terrain lacks is refused when read, naming the operator.
    @Test func aMissingOperatorIsRefusedByName() throws {
        let folder = try Self.exported.get()
        do {
            _ = try ONNXModel.read(from: folder.appendingPathComponent("instance_norm.onnx"))
            Issue.record("a model with InstanceNormalization was read")
        } catch let error as ONNXError {
            #expect("\(error)".contains("InstanceNormalization"), "\(error)")
        }
    }
}
