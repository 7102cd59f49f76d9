import ArgumentParser
import Foundation
import TerrainModels
import TerrainTraining
import TerrainPlot

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The main job on a real default: train a small CNN on Fashion-MNIST recording its trajectory, then its loss surface, its path on the PCA plane, an interpolation, its Hessian and a convexity map, the landscape through training as an animation, every figure, and the interactive viewer.")

    @Option(help: "Output folder.") var out: String = "demo-output"
    @Option(help: "Epochs.") var epochs: Int = 3
    @Option(help: "Grid points per axis of the surfaces.") var steps: Int = 21
    @Option(help: "Images of each set evaluated at every grid point.") var subset: Int = 1000
    @Flag(help: "No progress bar.") var quiet = false
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        try OptionCheck.count(epochs, "--epochs", in: 1...TrainingConfig.maximumEpochs)
        try OptionCheck.outputs(folders: [out])
        try OptionCheck.count(steps, "--steps", in: 2...4096)
        try OptionCheck.count(subset, "--subset", in: 1...Int.max)
    }

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
            let interpolationPath = URL(fileURLWithPath: out).appendingPathComponent("interpolation.h5").path
            let initial = folder.appendingPathComponent("checkpoints/epoch-0000.safetensors").path
            print("\nterrain demo: the straight line from the initial weights to the final ones (and beyond)")
            let interpolation = try Interpolate.parse([initial, final, "--steps", "41", "--range=-0.25:1.25", "--out", interpolationPath] + common)
            try interpolation.run()
            let folderURL = URL(fileURLWithPath: out)
            let hessianPath = folderURL.appendingPathComponent("hessian.h5").path
            print("\nterrain demo: the Hessian at the final weights: extreme eigenvalues, trace, spectral density")
            let hessian = try Hessian.parse(["--checkpoint", final, "--top", "3", "--bottom", "1", "--trace", "--density",
                                             "--subset", "500", "--max-iterations", "40", "--probes", "30", "--out", hessianPath]
                                            + (quiet ? ["--quiet"] : []))
            try hessian.run()
            let convexityPath = folderURL.appendingPathComponent("convexity.h5").path
            print("\nterrain demo: a convexity map: λmax and λmin at each point of a 5x5 surface")
            let small = try Surface.parse(["--checkpoint", final, "--x=-1:1:5", "--y=-1:1:5", "--subset", "200", "--out", convexityPath]
                                          + (quiet ? ["--quiet"] : []))
            try small.run()
            let map = try HessianMap.parse(["--surface", convexityPath, "--subset", "200", "--max-iterations", "12"] + (quiet ? ["--quiet"] : []))
            try map.run()
            let evolvePath = folderURL.appendingPathComponent("evolve.h5").path
            print("\nterrain demo: the landscape through training: a surface around each of 6 checkpoints, along directions re-normalized to each")
            let evolve = try Evolve.parse(["--run", folder.path, "--x=-1:1:11", "--y=-1:1:11", "--max-frames", "6", "--subset", "500",
                                           "--data", "train,test", "--out", evolvePath] + (quiet ? ["--quiet"] : []))
            try evolve.run()
            let figures = folderURL.appendingPathComponent("figures").path
            print("\nterrain demo: figures")
            let plot = try Plot.parse([surfacePath, trajectoryPath, interpolationPath, hessianPath, convexityPath, "--out", figures,
                                       "--format", "png,svg,pdf", "--index", "--index-title", "Terrain demo: a small CNN on Fashion-MNIST"])
            try plot.run()
            print("\nterrain demo: the evolve animation")
            let animation = URL(fileURLWithPath: figures).appendingPathComponent("evolve").path
            let videos = FFmpegVideo.executable != nil ? ["--out", animation + ".mp4"] : []
            try Animate.parse([evolvePath, "--out", animation + ".gif"] + videos).run()
            print("\nterrain demo: the interactive viewer")
            let report = folderURL.appendingPathComponent("report.html").path
            try View.parse([surfacePath, trajectoryPath, evolvePath, interpolationPath, "--out", report,
                            "--title", "Terrain demo: a small CNN on Fashion-MNIST"]).run()
            print(String(format: "\ndemo finished in %.0f s. Open %@ in a browser: the interactive viewer (3D, contours, the training path, the landscape through training). Also: figures/index.html (every figure, and evolve.gif), run/ (checkpoints, metrics.csv), surface.h5, trajectory.h5, interpolation.h5, hessian.h5, convexity.h5, evolve.h5 (+ directions and projection files).",
                         Date().timeIntervalSince(start), report))
        }
    }
}
