import Testing
import Foundation
import TerrainTensor
import TerrainNN
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
    /// The model's logits (flattened) and mean cross-entropy over every position, and the twin's.
    static func compare(_ spec: ModelSpec, inputs: Tensor<Float>, targets: [Int32]) throws {
        let model: Module<Float> = try spec.build()
        model.setTraining(false)
        var g = SeededGenerator(seed: 17)
        var parameters = model.flatParameters()
        Backends.current.axpy(0.2, .randomNormal(shape: parameters.shape, generator: &g), into: &parameters)
        model.setFlatParameters(parameters)
        let logits = model.forward(inputs)
        let classes = logits.shape.last!
        let loss = Loss.crossEntropy(logits: logits.reshaped([-1, classes]), labels: targets).loss

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
        let output = try Command.run(Python.torchInterpreter, [script, checkpoint.path, data.path, spec.json])
        let lines = output.split(separator: "\n").map(String.init)
        let theirs = lines.dropLast().map { Double($0)! }
        #expect(theirs.count == logits.count)
        var worst = 0.0
        for (ours, twin) in zip(logits.scalars, theirs) { worst = max(worst, abs(Double(ours) - twin) / max(1, abs(twin))) }
        #expect(worst < 1e-5, "logits differ from PyTorch's by \(worst)")
        let twinLoss = Double(lines.last!.split(separator: " ")[1])!
        #expect(abs(loss - twinLoss) < 1e-5 * max(1, abs(twinLoss)), "loss \(loss), PyTorch \(twinLoss)")
    }

    @Test(.enabled(if: Python.torchChecksRun)) func gpt() throws {
        let spec = ModelSpec(architecture: "gpt", inputShape: [12], outputs: 23, seed: 3, layers: 2, heads: 4, embed: 16)
        var g = SeededGenerator(seed: 5)
        let ids = (0..<(3 * 12)).map { _ in Float(g.nextInt(below: 23)) }
        let targets = (0..<(3 * 12)).map { _ in Int32(g.nextInt(below: 23)) }
        try Self.compare(spec, inputs: Tensor(shape: [3, 12], scalars: ids), targets: targets)
    }

    @Test(.enabled(if: Python.torchChecksRun)) func vit() throws {
        let spec = ModelSpec(architecture: "vit", inputShape: [3, 8, 12], outputs: 5, seed: 4, layers: 2, heads: 2, embed: 8, patch: 4)
        var g = SeededGenerator(seed: 6)
        let images = Tensor<Float>.randomNormal(shape: [3, 3, 8, 12], generator: &g)
        try Self.compare(spec, inputs: images, targets: [0, 4, 2])
    }
}
