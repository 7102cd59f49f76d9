import ArgumentParser
import Foundation
import TerrainModels
import TerrainTraining

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The main job on a real default: train a small CNN on Fashion-MNIST recording its trajectory, then its loss surface and its path on the PCA plane.")

    @Option(help: "Output folder.") var out: String = "demo-output"
    @Option(help: "Epochs.") var epochs: Int = 3
    @Option(help: "Grid points per axis of the surfaces.") var steps: Int = 21
    @Option(help: "Images of each set evaluated at every grid point.") var subset: Int = 1000
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
            let common = ["--subset", "\(subset)", "--data", "train,test"] + (quiet ? ["--quiet"] : [])
            let final = folder.appendingPathComponent("final.safetensors").path
            let surfacePath = URL(fileURLWithPath: out).appendingPathComponent("surface.h5").path
            let trajectoryPath = URL(fileURLWithPath: out).appendingPathComponent("trajectory.h5").path
            print("\nterrain demo: a \(steps)x\(steps) surface around the final weights along two filter-normalized random directions")
            let surface = try Surface.parse(["--checkpoint", final, "--x=-1:1:\(steps)", "--y=-1:1:\(steps)", "--out", surfacePath] + common)
            try surface.run()
            print("\nterrain demo: the training path on the plane of its two principal components, and the surface there")
            let trajectory = try Trajectory.parse(["--run", folder.path, "--steps", "\(steps)", "--out", trajectoryPath] + common)
            try trajectory.run()
            print(String(format: "\ndemo finished in %.0f s. Results in %@/: run/ (checkpoints, metrics.csv), surface.h5, trajectory.h5 (+ directions and projection files).",
                         Date().timeIntervalSince(start), out))
        }
    }
}
