import ArgumentParser
import Foundation
import TerrainModels
import TerrainTraining

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The main job on a real default: train a small CNN on Fashion-MNIST, recording its trajectory.")

    @Option(help: "Output folder.") var out: String = "demo-output"
    @Option(help: "Epochs.") var epochs: Int = 3
    @Flag(help: "No progress bar.") var quiet = false
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        try failing {
            let start = Date()
            var config = TrainingConfig(model: ModelSpec(architecture: "cnn", inputShape: [], outputs: 0, seed: 0),
                                        dataset: "fashion-mnist")
            config.epochs = epochs
            config.batchSize = 128
            config.optimizer = .sgd
            config.learningRate = 0.05
            config.momentum = 0.9
            config.nesterov = true
            config.weightDecay = 5e-4
            config.schedule = "cosine"
            config.saveEveryIterations = 100
            let folder = URL(fileURLWithPath: out).appendingPathComponent("run")
            print("terrain demo: training a small CNN on Fashion-MNIST for \(epochs) epochs, a checkpoint every 100 iterations")
            try runTraining(config, folder: folder, quiet: quiet)
            print(String(format: "demo finished in %.0f s. Open %@/metrics.csv for the learning curve; checkpoints are in %@/checkpoints/.",
                         Date().timeIntervalSince(start), folder.path, folder.path))
        }
    }
}
