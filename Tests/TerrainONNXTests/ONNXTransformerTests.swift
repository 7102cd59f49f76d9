import Foundation
import Testing
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainLandscape
@testable import TerrainONNX
import TerrainIO
import TerrainObjectives

/// The transformer fixtures (written by tests/onnx/make_transformer_fixtures.py): GPT-style
/// models on token ids (logits [N, T, V], a next-token label at every position), a ViT on images.
enum TransformerFixtures {
    /// gpt, nanogpt and vit by the TorchScript exporter; *_dynamo by torch.export's
    /// (gelu_tanh_dynamo: Gelu with approximate = "tanh", and Linear layers as MatMul).
    static let names = ["gpt", "nanogpt", "vit", "gpt_dynamo", "encoder_dynamo", "gelu_tanh_dynamo"]

    /// The inputs (token ids as floats, or images) and the labels, one per position.
    static func data(_ name: String) throws -> (x: Tensor<Float>, labels: [Int32]) {
        let url = Fixtures.folder.appendingPathComponent(name + ".npz")
        let arrays = try NPZ.read(try Data(contentsOf: url), file: url.path)
        let x = arrays["x"]!
        return (Tensor(shape: x.shape, scalars: x.floats()), arrays["y"]!.integers()!.map { Int32($0) })
    }

    /// PyTorch's loss: cross-entropy averaged over every position (logits seen as [N·T, V]).
    static func loss<S: TensorScalar>(_ logits: Tensor<S>, _ labels: [Int32]) -> LossResult<S> {
        Loss.crossEntropy(logits: logits.reshaped([labels.count, logits.count / labels.count]), labels: labels)
    }
}

@Suite("ONNX transformers exported by PyTorch: logits, losses and Hessian-vector products")
struct ONNXTransformerTests {
    @Test(arguments: TransformerFixtures.names) func logitsAndLossesMatchPyTorch(_ name: String) throws {
        let reference = try Fixtures.reference(name)
        let (x, labels) = try TransformerFixtures.data(name)
        let model = try Fixtures.model(name)
        let expected = reference["logits_center"]!
        // Double: PyTorch's float64 numbers up to the graph's float32 constants (ε of LayerNorm and
        // the attention scale are stored as float32, √d is computed in float32 by the graph);
        // Float: to 1e-5.
        let double: ONNXGraph<Double> = model.makeGraph()
        double.setRecording(false)
        let logits = double.forward(Tensor(converting: x))
        #expect(logits.shape == expected.shape)
        let worst = zip(logits.scalars, expected.doubles()).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 1e-6, "\(name): largest logit difference in Double \(worst)")
        let single: ONNXGraph<Float> = model.makeGraph()
        single.setRecording(false)
        let floatLogits = single.forward(x)
        let worstFloat = zip(floatLogits.scalars, expected.doubles()).map { abs(Double($0) - $1) }.max() ?? .infinity
        #expect(worstFloat < 1e-5, "\(name): largest logit difference in Float \(worstFloat)")
        let center = reference["loss_center"]!.doubles()[0]
        let lossError = relativeError(TransformerFixtures.loss(logits, labels).loss, center)
        let floatLossError = relativeError(TransformerFixtures.loss(floatLogits, labels).loss, center)
        #expect(lossError < 1e-8 && floatLossError < 1e-5, "\(name): loss relative error \(lossError) (Double), \(floatLossError) (Float)")
        print("\(name): largest logit difference \(worst) (Double), \(worstFloat) (Float); loss relative error \(lossError), \(floatLossError)")
        // θ + 0.1·d, with d given per initializer: every parameter moves, and the loss is PyTorch's.
        for p in double.parameters {
            let d = try #require(reference["direction." + p.name], "\(name): no direction for parameter \(p.name)")
            p.value = Backends.current.add(p.value, Tensor(shape: p.shape, scalars: d.doubles().map { 0.1 * $0 }))
        }
        let moved = TransformerFixtures.loss(double.forward(Tensor(converting: x)), labels).loss
        #expect(relativeError(moved, reference["loss_perturbed"]!.doubles()[0]) < 1e-8, "\(name): loss at θ + 0.1·d")
    }

    @Test(arguments: TransformerFixtures.names) func hessianVectorProductMatchesDoubleBackward(_ name: String) throws {
        let reference = try Fixtures.reference(name)
        let (x, labels) = try TransformerFixtures.data(name)
        let graph: ONNXGraph<Double> = try Fixtures.model(name).makeGraph()
        // Every parameter is one of PyTorch's (constants such as a mask buffer or the attention
        // scale are not), and every one of PyTorch's is a parameter.
        let torchParameters = reference.keys.filter { $0.hasPrefix("direction.") }.map { String($0.dropFirst("direction.".count)) }
        #expect(Set(graph.parameters.map(\.name)) == Set(torchParameters), "\(name): parameters \(graph.parameters.map(\.name))")
        for p in graph.parameters {
            p.tangent = Tensor(shape: p.shape, scalars: try #require(reference["direction." + p.name]).doubles())
        }
        graph.setRecording(true)
        graph.zeroGradients()
        let (logits, logitsTangent) = graph.forwardTangent(Tensor(converting: x), nil)
        let rows = [labels.count, logits.count / labels.count]
        let (result, gradientTangent) = Loss.crossEntropyTangent(logits: logits.reshaped(rows), labels: labels,
                                                                 tangent: logitsTangent?.reshaped(rows))
        _ = graph.backwardTangent(result.gradient.reshaped(logits.shape), gradientTangent?.reshaped(logits.shape))
        var product: [Double] = [], expected: [Double] = []
        for p in graph.parameters {
            product += try #require(p.curvature, "\(name): no curvature for \(p.name)").scalars
            expected += try #require(reference["hvp." + p.name]).doubles()
        }
        let difference = zip(product, expected).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        let size = expected.map { $0 * $0 }.reduce(0, +).squareRoot()
        #expect(size > 0 && difference <= 1e-4 * size, "\(name): H·v relative difference \(difference / size)")
        print("\(name): H·v relative difference from PyTorch's double backward \(difference / size)")
    }

    /// Backward and R-operator passes of whole exported graphs against finite differences, in
    /// Double, with a squared error on random targets (every operator on the path to the loss).
    @Test(arguments: TransformerFixtures.names) func derivativesMatchFiniteDifferences(_ name: String) throws {
        let model = try Fixtures.model(name)
        let graph: ONNXGraph<Double> = model.makeGraph()
        let x = try TransformerFixtures.data(name).x
        let outputs = try graph.outputShape(sampleShape: Array(x.shape.dropFirst())).dropFirst().reduce(1, *)
        var g = SeededGenerator(seed: 4)
        let set = Dataset(name: name, inputs: x, targets: .values(Tensor<Float>.randomNormal(shape: [x.shape[0], outputs], generator: &g)))
        try ONNXOperatorTests.expectDerivativesMatch(ModelObjective(model: graph, data: DatasetPair(train: set, test: set), batchSize: 4), name)
    }

    @Test func rolesAndConstantsOfTheGPTs() throws {
        let gpt = try Fixtures.model("gpt")
        let roles = Dictionary(uniqueKeysWithValues: gpt.parameters.map { ($0.name, $0.role) })
        #expect(roles["wte.weight"] == .weight && roles["wpe.weight"] == .weight)
        #expect(roles["h.0.ln1.weight"] == .normWeight && roles["h.0.ln1.bias"] == .normBias && roles["ln_f.bias"] == .normBias)
        #expect(roles["h.0.attn.bias"] == .bias)
        #expect(gpt.inputDimensions == [nil, 8])
        // nanoGPT's causal mask is a buffer read only through Equal: a constant, not a parameter.
        #expect(!(try Fixtures.model("nanogpt")).parameters.contains { $0.name == "mask" })
        // torch.export's lifted scalars (the attention scale, the mask's fill value) are constants.
        #expect((try Fixtures.model("gpt_dynamo")).parameters.allSatisfy { $0.values.count > 1 })
    }

    /// Filter normalization of an exported model gives the direction the reference code gives
    /// the PyTorch model (the fixture's 'filter.<initializer>', computed by numpy on PyTorch's
    /// tensors and laid out as the initializer): a Linear written as MatMul holds Wᵀ [in, out],
    /// normalized along its columns, the rows of PyTorch's W; the Gemm's weight and the embedding
    /// table keep their rows.
    @Test func filterNormalizationIsPyTorchsForTransposedWeights() throws {
        let name = "gelu_tanh_dynamo"
        let model = try Fixtures.model(name), reference = try Fixtures.reference(name)
        let roles = Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.name, $0.role) })
        // fc.weight and fc2.weight, folded by the exporter into val_1 [16, 64] and val_3 [64, 16].
        #expect(roles["val_1"] == .transposedWeight && roles["val_3"] == .transposedWeight)
        #expect(roles["head.weight"] == .weight && roles["wte.weight"] == .weight && roles["fc.bias"] == .bias)
        let groups: [ParameterGroup] = .tiling(model.parameters.map { ($0.name, $0.shape, $0.role) })
        let theta = model.parameters.flatMap(\.values)
        var d = Direction(values: try model.parameters.flatMap { try #require(reference["direction." + $0.name]).doubles() })
        d.normalize(against: theta, groups: groups, type: .weights, normalization: .filter, oneDimensional: .leftOut)
        var compared = 0
        for group in groups where group.shape.count >= 2 {
            let expected = try #require(reference["filter." + group.name], "\(name): no reference for \(group.name)").doubles()
            let worst = zip(d.values[group.range], expected).map { abs($0 - $1) / max(abs($1), 1e-300) }.max() ?? .infinity
            #expect(worst < 1e-12, "\(group.name) (\(group.role)): relative difference \(worst) from PyTorch's")
            compared += 1
        }
        #expect(compared == 4)
        // The TorchScript exporter's folded copies (onnx::MatMul_…) are transposed weights too.
        let gpt = try Fixtures.model("gpt")
        #expect(gpt.parameters.filter { $0.name.hasPrefix("onnx::MatMul_") }.allSatisfy { $0.role == .transposedWeight })
        #expect(gpt.parameters.contains { $0.role == .transposedWeight })
    }

    @Test func aShorterSequenceGivesTheCausalPrefix() throws {
        // Positions come from Range(Shape(input)): a sequence of 5 tokens runs, and a causal
        // model's logits at those 5 positions are those of the full sequence.
        let graph: ONNXGraph<Double> = try Fixtures.model("gpt").makeGraph()
        graph.setRecording(false)
        let x = Tensor<Double>(converting: try TransformerFixtures.data("gpt").x)
        let full = graph.forward(x)
        let (n, t, v) = (x.shape[0], x.shape[1], full.shape[2])
        let prefix = Tensor<Double>(shape: [n, 5], scalars: (0..<n).flatMap { i in (0..<5).map { x[flat: i * t + $0] } })
        let short = graph.forward(prefix)
        #expect(short.shape == [n, 5, v])
        let expected = (0..<n).flatMap { i in (0..<(5 * v)).map { full[flat: i * t * v + $0] } }
        #expect(zip(short.scalars, expected).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    @Test func externalDataIsReadFromBesideTheModel() throws {
        // torch.export's exporter writes the weights to gpt_dynamo.onnx.data by default.
        let url = Fixtures.folder.appendingPathComponent("gpt_dynamo.onnx")
        let bytes = try Data(contentsOf: url)
        #expect(try ONNXModel(data: bytes, file: url.path, folder: Fixtures.folder).parameters.count == 29)
        // Without the folder, or with a folder that lacks the file: a clear refusal.
        #expect(throws: ONNXError.self) { try ONNXModel(data: bytes, file: url.path) }
        #expect(throws: ONNXError.self) { try ONNXModel(data: bytes, file: url.path, folder: URL(fileURLWithPath: "/nonexistent")) }
    }

    @Test func tokenIdsOutsideTheVocabularyAreAnError() throws {
        let graph: ONNXGraph<Double> = try Fixtures.model("gpt").makeGraph()
        #expect(throws: ONNXError.self) { try graph.run(Tensor(shape: [1, 8], scalars: [0, 1, 2, 3, 4, 5, 6, 11]), nil, recording: false) }
        #expect(throws: ONNXError.self) { try graph.run(Tensor(shape: [1, 8], scalars: [0, 1, 2, 3, 4, 5, 6, 0.5]), nil, recording: false) }
    }
}
