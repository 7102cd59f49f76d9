import ArgumentParser
import Foundation
import TerrainTraining
import TerrainModels

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Describe a checkpoint: model, tensors, training metadata.")

    @Argument(help: "A checkpoint (.safetensors).") var checkpoint: String

    func run() throws {
        try failing {
            let ckpt = try Checkpoint.read(from: URL(fileURLWithPath: checkpoint))
            let model = try ckpt.makeModel(Float.self, source: checkpoint)
            let spec = ckpt.spec
            print("model: \(spec.architecture) width \(spec.width) input \(spec.inputShape) outputs \(spec.outputs)")
            print("parameters: \(model.trainableScalarCount) trainable in \(model.trainableParameters.count) tensors; \(ckpt.tensorOrder.count) tensors stored")
            for key in ckpt.metadata.keys.sorted() where key != Checkpoint.modelKey && key != "terrain.training" {
                print("\(key): \(ckpt.metadata[key]!)")
            }
            for (name, p) in model.namedParameters() {
                print("  \(name.padding(toLength: 36, withPad: " ", startingAt: 0)) \(p.role.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)) \(p.shape)")
            }
        }
    }
}

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the model zoo.")

    func run() {
        for (name, summary) in ModelSpec.architectures {
            print("\(name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(summary)")
        }
        print("\nEvery model takes --width (a multiplier of channels and hidden sizes); input shape and outputs follow the dataset.")
    }
}
