import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainModels
import TerrainTraining
import TerrainTestSupport

/// The zoo's transformers against their PyTorch twins (`tests/twins/transformer_twins.py`): the
/// twin's `state_dict` loads Terrain's checkpoint with `strict=True` and gives the same logits
/// and mean cross-entropy (1e-5) on the same inputs. Every parameter is moved away from its
/// initial value first (layer norms' γ = 1, β = 0 and attention's zero biases would hide a
/// swapped or misnamed tensor).
@Suite("PyTorch twins of the transformers")
struct TransformerTwinTests {
    /// The model's logits (flattened) and mean cross-entropy over every position, and the twin's;
    /// with `gradients`, also the loss's gradient for every parameter (1e-4 of the largest
    /// magnitude of each tensor's, float32 sums in another order).
    static func compare(_ spec: ModelSpec, inputs: Tensor<Float>, targets: [Int32], gradients: Bool = false) throws {
        let model: Module<Float> = try spec.build()
        model.setTraining(false)
        var g = SeededGenerator(seed: 17)
        var parameters = model.flatParameters()
        Backends.current.axpy(0.2, .randomNormal(shape: parameters.shape, generator: &g), into: &parameters)
        model.setFlatParameters(parameters)
        let logits = model.forward(inputs)
        let classes = logits.shape.last!
        let scored = Loss.crossEntropy(logits: logits.reshaped([-1, classes]), labels: targets)
        let loss = scored.loss
        if gradients {
            model.zeroGradients()
            _ = model.backward(scored.gradient.reshaped(logits.shape))
        }

        let folder = try makeTemporaryFolder("twins")
        let checkpoint = folder.appendingPathComponent("model.safetensors")
        try Checkpoint(model: model, spec: spec).write(to: checkpoint)
        let data = folder.appendingPathComponent("inputs.json")
        let values = inputs.scalars.map { spec.architecture == "gpt" ? "\(Int($0))" : "\($0)" }
        let tokens = spec.architecture == "gpt"
            ? (0..<inputs.shape[0]).map { n in "[" + values[(n * inputs.shape[1])..<((n + 1) * inputs.shape[1])].joined(separator: ",") + "]" }
            : values
        let targetRows = spec.architecture == "gpt"
            ? (0..<inputs.shape[0]).map { n in "[" + targets[(n * inputs.shape[1])..<((n + 1) * inputs.shape[1])].map { "\($0)" }.joined(separator: ",") + "]" }
            : targets.map { "\($0)" }
        try Data("{\"inputs\": [\(tokens.joined(separator: ","))], \"targets\": [\(targetRows.joined(separator: ","))]}".utf8).write(to: data)
        let script = packageRoot.appendingPathComponent("tests/twins/transformer_twins.py").path
        let output = try Command.run(Python.torchInterpreter, [script, checkpoint.path, data.path, spec.json] + (gradients ? ["--gradients"] : []))
        let lines = output.split(separator: "\n").map(String.init)
        let theirs = lines.filter { !$0.hasPrefix("loss ") && !$0.hasPrefix("grad ") }.map { Double($0)! }
        #expect(theirs.count == logits.count)
        var worst = 0.0
        for (ours, twin) in zip(logits.scalars, theirs) { worst = max(worst, abs(Double(ours) - twin) / max(1, abs(twin))) }
        #expect(worst < 1e-5, "logits differ from PyTorch's by \(worst)")
        let twinLoss = Double(lines.first { $0.hasPrefix("loss ") }!.split(separator: " ")[1])!
        #expect(abs(loss - twinLoss) < 1e-5 * max(1, abs(twinLoss)), "loss \(loss), PyTorch \(twinLoss)")
        guard gradients else { return }
        let twinGradients = Dictionary(uniqueKeysWithValues: lines.filter { $0.hasPrefix("grad ") }.map { line in
            let fields = line.split(separator: " ")
            return (String(fields[1]), fields.dropFirst(2).map { Double($0)! })
        })
        let named = model.namedParameters()
        #expect(Set(twinGradients.keys) == Set(named.map(\.name)))
        for (name, parameter) in named {
            guard let twin = twinGradients[name], let ours = parameter.gradient else { Issue.record("no gradient for \(name)"); continue }
            #expect(twin.count == ours.count, "\(name)")
            let scale = max(twin.map(abs).max() ?? 0, 1e-6)
            let difference = zip(ours.scalars, twin).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(difference <= 1e-4 * scale, "\(name): gradient differs from PyTorch's by \(difference) of \(scale)")
        }
    }

    @Test(.enabled(if: Python.torchChecksRun)) func gpt() throws {
        let spec = ModelSpec(architecture: "gpt", inputShape: [12], outputs: 23, seed: 3, layers: 2, heads: 4, embed: 16)
        var g = SeededGenerator(seed: 5)
        let ids = (0..<(3 * 12)).map { _ in Float(g.nextInt(below: 23)) }
        let targets = (0..<(3 * 12)).map { _ in Int32(g.nextInt(below: 23)) }
        try Self.compare(spec, inputs: Tensor(shape: [3, 12], scalars: ids), targets: targets, gradients: true)
    }

    /// A gpt of context 16 on sequences of 8 tokens, as PyTorch's GPTs run them (wpe's first 8
    /// rows): the data fit the model, and the logits, the loss (by the layers and by
    /// `Evaluation`, as `terrain evaluate` scores) and every gradient are the twin's; the rows
    /// of wpe beyond the sequence get no gradient.
    @Test(.enabled(if: Python.torchChecksRun)) func gptOnSequencesShorterThanItsContext() throws {
        let spec = ModelSpec(architecture: "gpt", inputShape: [16], outputs: 23, seed: 7, layers: 2, heads: 4, embed: 16)
        var g = SeededGenerator(seed: 8)
        let ids = (0..<(3 * 8)).map { _ in Float(g.nextInt(below: 23)) }
        let targets = (0..<(3 * 8)).map { _ in Int32(g.nextInt(below: 23)) }
        let inputs = Tensor<Float>(shape: [3, 8], scalars: ids)
        try Self.compare(spec, inputs: inputs, targets: targets, gradients: true)
    }

    /// The same shorter sequences through the data path: `DataFit` lets them in, `Evaluation`
    /// scores them as the layers do, and only wpe's first T rows get a gradient.
    @Test func gptOnShorterSequencesThroughTheDataPath() throws {
        let spec = ModelSpec(architecture: "gpt", inputShape: [16], outputs: 23, seed: 7, layers: 2, heads: 4, embed: 16)
        var g = SeededGenerator(seed: 8)
        let ids = (0..<(3 * 8)).map { _ in Float(g.nextInt(below: 23)) }
        let targets = (0..<(3 * 8)).map { _ in Int32(g.nextInt(below: 23)) }
        let inputs = Tensor<Float>(shape: [3, 8], scalars: ids)
        let set = Dataset(name: "short", inputs: inputs, targets: .tokens(targets, length: 8, vocabulary: 23))
        try DataFit.check(spec, model: "gpt", fits: DatasetPair(train: set, test: set), dataName: "short")
        let model: Module<Float> = try spec.build()
        model.setTraining(false)
        let logits = model.forward(inputs)
        #expect(logits.shape == [3, 8, 23])
        let scored = Loss.crossEntropy(logits: logits.reshaped([-1, 23]), labels: targets)
        let evaluated = Evaluation.evaluate(model, on: set, batchSize: 2)
        #expect(abs(evaluated.loss - scored.loss) < 1e-6 * max(1, scored.loss), "Evaluation \(evaluated.loss), layers \(scored.loss)")
        #expect(evaluated.perplexity != nil)
        model.zeroGradients()
        _ = model.forward(inputs)
        _ = model.backward(scored.gradient.reshaped(logits.shape))
        let wpe = model.namedParameters().first { $0.name == "wpe.weight" }!.parameter
        #expect(wpe.shape == [16, 16])
        let rows = wpe.gradient!.scalars
        #expect(rows[(8 * 16)...].allSatisfy { $0 == 0 } && rows[..<(8 * 16)].contains { $0 != 0 })
    }

    @Test(.enabled(if: Python.torchChecksRun)) func vit() throws {
        let spec = ModelSpec(architecture: "vit", inputShape: [3, 8, 12], outputs: 5, seed: 4, layers: 2, heads: 2, embed: 8, patch: 4)
        var g = SeededGenerator(seed: 6)
        let images = Tensor<Float>.randomNormal(shape: [3, 3, 8, 12], generator: &g)
        try Self.compare(spec, inputs: images, targets: [0, 4, 2])
    }
}
