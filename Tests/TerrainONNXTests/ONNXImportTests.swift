import Foundation
import Testing
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainLandscape
@testable import TerrainONNX
import TerrainIO
import TerrainObjectives

/// The committed fixtures (written by tests/onnx/make_fixtures.py from small PyTorch models).
enum Fixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let names = ["mlp", "cnn", "resnet_block", "mixer"]

    static func model(_ name: String) throws -> ONNXModel {
        try ONNXModel.read(from: folder.appendingPathComponent(name + ".onnx"))
    }

    /// The fixture's x and y as one set used for both train and test (NAME.npz in `folder`).
    static func data(_ name: String, in folder: URL = folder) throws -> DatasetPair {
        let url = folder.appendingPathComponent(name + ".npz")
        let arrays = try NPZ.read(try Data(contentsOf: url), file: url.path)
        let x = arrays["x"]!, y = arrays["y"]!
        let labels = y.integers()!.map { Int32($0) }
        let set = Dataset(name: name, inputs: Tensor(shape: x.shape, scalars: x.floats()),
                          targets: .classes(labels, count: Int(labels.max()!) + 1))
        return DatasetPair(train: set, test: set)
    }

    static func reference(_ name: String) throws -> [String: NumpyArray] {
        let url = folder.appendingPathComponent(name + ".reference.npz")
        return try NPZ.read(try Data(contentsOf: url), file: url.path)
    }

    /// The objective of the fixture's graph on its data, in the given precision.
    static func objective<S: TensorScalar>(_ name: String, _ type: S.Type, batchSize: Int = 20) throws -> ModelObjective<S> {
        let model = try model(name)
        return ModelObjective(model: model.makeGraph(S.self) as Module<S>, data: try data(name), batchSize: batchSize)
    }

    /// θ + scale·d with d the reference's stored direction (by initializer name).
    static func perturbed(_ objective: some Objective, _ reference: [String: NumpyArray], scale: Double) -> [Double] {
        var theta = objective.parameters()
        for group in objective.groups {
            guard let d = reference["direction." + group.name]?.doubles() else { continue }
            for i in 0..<group.count { theta[group.offset + i] += scale * d[i] }
        }
        return theta
    }
}

func relativeError(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-300) }

@Suite("ONNX models exported by PyTorch give PyTorch's losses")
struct ONNXImportTests {
    @Test(arguments: Fixtures.names) func lossAtTheCentreAndAtAPerturbedPoint(_ name: String) throws {
        let reference = try Fixtures.reference(name)
        for precision in ["double", "float"] {
            let objective: any Objective = precision == "double" ? try Fixtures.objective(name, Double.self)
                                                                 : try Fixtures.objective(name, Float.self)
            let center = try objective.evaluate(.train).loss
            let expected = reference["loss_center"]!.doubles()[0]
            #expect(relativeError(center, expected) < 1e-5, "\(name) (\(precision)) centre: Terrain \(center), PyTorch \(expected)")
            objective.setParameters(Fixtures.perturbed(objective, reference, scale: 0.1))
            let moved = try objective.evaluate(.train).loss
            let expectedMoved = reference["loss_perturbed"]!.doubles()[0]
            #expect(relativeError(moved, expectedMoved) < 1e-5, "\(name) (\(precision)) θ + 0.1·d: Terrain \(moved), PyTorch \(expectedMoved)")
            #expect(abs(moved - center) > 1e-3, "the perturbation moves the loss")
        }
    }

    @Test(arguments: Fixtures.names) func logitsMatchInDouble(_ name: String) throws {
        let reference = try Fixtures.reference(name)
        let graph: ONNXGraph<Double> = try Fixtures.model(name).makeGraph()
        graph.setRecording(false)
        let data = try Fixtures.data(name)
        let logits = graph.forward(Tensor(converting: data.train.inputs))
        let expected = reference["logits_center"]!
        #expect(logits.shape == expected.shape)
        let worst = zip(logits.scalars, expected.doubles()).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 1e-9, "\(name): largest logit difference \(worst)")
    }

    @Test func parameterNamesAndRolesFollowTheStateDict() throws {
        let cnn = try Fixtures.model("cnn")
        let roles = Dictionary(uniqueKeysWithValues: cnn.parameters.map { ($0.name, $0.role) })
        #expect(cnn.parameters.map(\.name) == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                                               "conv2.weight", "conv2.bias", "bn2.weight", "bn2.bias", "bn2.running_mean",
                                               "bn2.running_var", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
        #expect(roles["conv1.weight"] == .weight && roles["conv2.bias"] == .bias)
        #expect(roles["bn1.weight"] == .normWeight && roles["bn1.bias"] == .normBias)
        #expect(roles["bn2.running_mean"] == .runningMean && roles["bn2.running_var"] == .runningVariance)
        #expect(roles["fc1.weight"] == .weight && roles["fc2.bias"] == .bias)
        #expect(cnn.opsetVersion == 13 && cnn.inputDimensions == [nil, 1, 8, 8] && cnn.declaredSampleShape == [1, 8, 8])
        let mixer = try Fixtures.model("mixer")
        #expect(mixer.parameters.map(\.role) == [.weight, .weight, .bias])
        // A ModelObjective sees the same groups: what directions are normalized against.
        let objective = try Fixtures.objective("resnet_block", Float.self)
        #expect(objective.groups.map(\.name).contains("layer1.0.shortcut.1.running_var"))
        #expect(objective.groups.first { $0.name == "layer1.0.shortcut.0.weight" }?.shape == [16, 8, 1, 1])
    }

    @Test func samplesAreReshapedToTheDeclaredInput() throws {
        // The CNN's data as flat vectors of 64 values: reshaped to [1, 8, 8].
        let graph: ONNXGraph<Double> = try Fixtures.model("cnn").makeGraph()
        let data = try Fixtures.data("cnn")
        let images = Tensor<Double>(converting: data.train.inputs)
        let flat = images.reshaped([images.shape[0], 64])
        #expect(graph.forward(flat) == graph.forward(images))
        #expect(try graph.outputShape(sampleShape: [64]) == [1, 4])
        #expect(throws: ONNXError.self) { try graph.outputShape(sampleShape: [63]) }
    }

    @Test func batchSizeFollowsTheData() throws {
        // The CNN's Reshape target comes from Shape → Gather → Unsqueeze → Concat.
        let data = try Fixtures.data("cnn")
        let reference = try Fixtures.reference("cnn")["loss_center"]!.doubles()[0]
        for batch in [1, 7, 48] {
            let objective = try Fixtures.objective("cnn", Double.self, batchSize: batch)
            #expect(relativeError(try objective.evaluate(.train).loss, reference) < 1e-9, "batch size \(batch)")
        }
        _ = data
    }
}
