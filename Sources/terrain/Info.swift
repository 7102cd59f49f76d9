import ArgumentParser
import Foundation
import TerrainTraining
import TerrainModels
import TerrainONNX
import TerrainRequests

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Describe a checkpoint (model, tensors, training metadata) or an ONNX model (operator set, input, output, parameters with their roles).")

    @Argument(help: "A checkpoint (.safetensors) or an ONNX model (.onnx).") var checkpoint: String

    func run() throws {
        try failing {
            if case .onnx(let path) = ModelSource(path: checkpoint) { return try describe(onnx: path) }
            let ckpt = try Checkpoint.read(from: URL(fileURLWithPath: checkpoint))
            let model = try ckpt.makeModel(Float.self, source: checkpoint)
            let spec = ckpt.spec
            print("model: \(spec.architecture) width \(spec.width) input \(spec.inputShape) outputs \(spec.outputs)")
            print("parameters: \(model.trainableScalarCount) trainable in \(model.trainableParameters.count) tensors; \(ckpt.tensorOrder.count) tensors stored")
            // The optimizer line for runs that use the transformer-era settings (clipping, a decay
            // scope, Adam's ε or a per-step schedule); earlier checkpoints print as before.
            if let text = ckpt.metadata["terrain.training"], let config = try? TrainingConfig(json: text), config.usesModernSettings {
                print("optimizer: \(config.optimizerSummary)")
            }
            for key in ckpt.metadata.keys.sorted() where key != Checkpoint.modelKey && key != "terrain.training" {
                print("\(key): \(ckpt.metadata[key]!)")
            }
            for (name, p) in model.namedParameters() {
                print("  \(name.padding(toLength: 36, withPad: " ", startingAt: 0)) \(p.role.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)) \(p.shape)")
            }
        }
    }

    private func describe(onnx path: String) throws {
        let model = try ONNXModel.read(from: URL(fileURLWithPath: path))
        let dims = model.inputDimensions.map { $0.map(String.init) ?? "?" }.joined(separator: ", ")
        print("ONNX model: operator set \(model.opsetVersion)" + (model.producer.isEmpty ? "" : ", written by \(model.producer)"))
        print("input: \(model.inputName) [\(dims)]; output: \(model.outputName)")
        let trainable = model.parameters.filter(\.role.isTrainable)
        print("parameters: \(trainable.reduce(0) { $0 + $1.values.count }) trainable in \(trainable.count) tensors; \(model.parameters.count) tensors")
        for p in model.parameters {
            print("  \(p.name.padding(toLength: 36, withPad: " ", startingAt: 0)) \(p.role.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)) \(p.shape)")
        }
    }
}

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the model zoo.")

    func run() {
        for (name, summary) in ModelSpec.architectures {
            print("\(name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(summary)")
        }
        print("\nEvery model but gpt and vit takes --width (a multiplier of channels and hidden sizes); input shape and outputs follow the dataset.")
    }
}
