import ArgumentParser
import Foundation
import TerrainData
import TerrainIO
import TerrainModels
import TerrainTraining
import TerrainPlot
import TerrainReport

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The main job on a real default: train a small CNN on Fashion-MNIST recording its trajectory, then its loss surface, its path on the PCA plane, an interpolation, its Hessian and a convexity map, the landscape through training as an animation; a small character-level GPT on the fortunes corpus with its surface (and perplexity) and Hessian density; every figure, and the interactive viewer.")

    /// Checkpoints of the CNN's run that the landscape through training shows (`evolve --max-frames`).
    static let evolveFrames = 6

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
            try GPTPart.checkCorpus()
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
            print("\nterrain demo: the straight line from the initial weights to the final ones (and a little beyond)")
            // The line stops at 1.05: batch-norm statistics move along it too, and a little past
            // α = 1.07 this CNN's smallest running variance (1 at the start, 0.065 at the end)
            // goes below −ε, so every loss there is NaN, as PyTorch computes it.
            let interpolation = try Interpolate.parse([initial, final, "--steps", "41", "--range=-0.25:1.05", "--out", interpolationPath] + common)
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
            print("\nterrain demo: the landscape through training: a surface around each of \(Self.evolveFrames) checkpoints, along directions re-normalized to each")
            let evolve = try Evolve.parse(["--run", folder.path, "--x=-1:1:11", "--y=-1:1:11", "--max-frames", "\(Self.evolveFrames)", "--subset", "500",
                                           "--data", "train,test", "--out", evolvePath] + (quiet ? ["--quiet"] : []))
            try evolve.run()
            let gpt = try GPTPart.run(in: folderURL, quiet: quiet)
            let figures = folderURL.appendingPathComponent("figures").path
            print("\nterrain demo: figures")
            let cnnFigures = try Plot.parse([surfacePath, trajectoryPath, interpolationPath, hessianPath, convexityPath, "--out", figures,
                                             "--format", "png,svg,pdf"]).draw()
            let gptFigures = try Plot.parse([gpt.surface, gpt.hessian, "--out", (figures as NSString).appendingPathComponent(GPTPart.figureFolder),
                                             "--format", "png,svg,pdf", "--figure-title", GPTPart.figureTitle]).draw()
            print("\nterrain demo: the evolve animation")
            let animation = URL(fileURLWithPath: figures).appendingPathComponent("evolve").path
            let videos = FFmpegVideo.executable != nil ? ["--out", animation + ".mp4"] : []
            try Animate.parse([evolvePath, "--out", animation + ".gif"] + videos).run()
            print("\nterrain demo: the interactive viewer")
            let report = folderURL.appendingPathComponent("report.html").path
            try View.parse([surfacePath, trajectoryPath, evolvePath, interpolationPath, gpt.surface, "--out", report,
                            "--title", "Terrain demo: a small CNN on Fashion-MNIST, and \(GPTPart.title) (gpt-surface)"]).run()
            let animationFiles = ["evolve.gif"] + (videos.isEmpty ? [] : ["evolve.mp4"])
            let page = try writeIndex(in: figures, cnn: cnnFigures, animation: animationFiles, gpt: gptFigures)
            print("written \(page)")
            print(String(format: "\ndemo finished in %.0f s. Open %@ in a browser: the interactive viewer (3D, contours, the training path, the landscape through training, the GPT's surface). Also: figures/index.html (every figure: the CNN's, its evolve animation, and the GPT's surface, perplexity and Hessian density), run/ and gpt-run/ (checkpoints, metrics.csv), surface.h5, trajectory.h5, interpolation.h5, hessian.h5, convexity.h5, evolve.h5, gpt-surface.h5, gpt-hessian.h5 (+ directions and projection files).",
                         Date().timeIntervalSince(start), report))
        }
    }
}

extension Demo {
    /// The demo's one page of figures, `figures/index.html`: the CNN's figures with its
    /// animation, then the GPT's (drawn into `figures/gpt/`), each model a section of its own
    /// with links to both at the top, and a link to the interactive viewer. One page rather than
    /// a page per model: whoever opens the demo's figures should find all of them in one place.
    func writeIndex(in figures: String, cnn: [FigureIndex.Entry], animation: [String], gpt: [FigureIndex.Entry]) throws -> String {
        let page = (figures as NSString).appendingPathComponent("index.html")
        try OptionCheck.outputs(files: [page])
        let evolve = FigureIndex.Entry(name: "evolve", caption: "the loss surface around each of \(Self.evolveFrames) checkpoints through training, directions re-normalized to each (animation)",
                                       files: animation)
        let inGPTFolder = gpt.map { entry in
            FigureIndex.Entry(name: entry.name, caption: entry.caption, files: entry.files.map { GPTPart.figureFolder + "/" + $0 })
        }
        try FigureIndex.write(sections: [
            FigureIndex.Section(title: "A small CNN on Fashion-MNIST",
                                note: "Trained for \(epochs) epochs (SGD with Nesterov momentum, cosine schedule): its surface around the final weights, the training path on its PCA plane, the line from the initial weights to the final ones, its Hessian's spectrum, a convexity map, and the landscape through training.",
                                entries: cnn + [evolve]),
            FigureIndex.Section(title: "A character-level GPT on fortunes",
                                note: "\(GPTPart.title.prefix(1).uppercased())\(GPTPart.title.dropFirst()), trained for one epoch: its surface around the final weights (loss, token accuracy and perplexity, exp of the loss) and its Hessian's spectral density.",
                                entries: inGPTFolder),
        ], title: "Terrain demo: a small CNN on Fashion-MNIST and a character-level GPT on fortunes",
           links: [FigureIndex.Link(text: "the interactive viewer (report.html)", target: "../report.html")], to: page)
        return page
    }
}

/// The demo's language model: a small character-level GPT trained on Debian's fortunes corpus,
/// its loss surface (with perplexity, exp of the next-token loss) and its Hessian's spectral
/// density, sized to take about a minute on 2 free cores so that the whole demo stays
/// under 10 minutes (README gives the measured times of each part).
enum GPTPart {
    /// Bytes of context: short enough that attention's [T x T] scores cost little, long enough
    /// for the model to learn words rather than letter frequencies.
    static let context = 32
    /// Over each of its figures (short: a figure is 560 points wide).
    static let figureTitle = "character-level GPT on fortunes"
    /// The subfolder of `figures` its figures are drawn into (names would not clash, but the
    /// folder keeps each model's files apart).
    static let figureFolder = "gpt"
    static let title = "a character-level GPT (2 blocks, 4 heads, embedding 64, context \(context)) on the fortunes corpus"

    /// The corpus, looked for before any work: a machine without the fortunes package hears so
    /// at once, not after the CNN's minutes.
    static func checkCorpus() throws {
        var options = DatasetOptions()
        options.context = context
        do {
            _ = try DatasetCatalog.load("fortunes", options: options)
        } catch let error as DatasetError {
            guard case .notInstalled = error else { throw error }
            throw ValidationError("the demo's GPT trains on the fortunes corpus, which is missing here: \(error)")
        }
    }

    /// Trains the GPT (AdamW, warm-up then cosine, clipped gradients: the GPT recipe) and writes
    /// its surface and Hessian spectrum into `folder`; returns their paths.
    static func run(in folder: URL, quiet: Bool) throws -> (surface: String, hessian: String) {
        var config = TrainingConfig(model: ModelSpec(architecture: "gpt", inputShape: [], outputs: 0, seed: 0, layers: 2, heads: 4, embed: 64),
                                    dataset: "fortunes")
        config.context = context
        config.epochs = 1
        config.batchSize = 32
        config.optimizer = .adamw
        config.learningRate = 3e-3
        config.betas = [0.9, 0.95]
        config.weightDecay = 0.1
        config.decayScope = .weights
        config.schedule = "warmup-cosine:20:3e-4"
        config.clipNorm = 1
        let run = folder.appendingPathComponent("gpt-run")
        print("\nterrain demo: \(title), trained for one epoch in batches of 32 sequences with AdamW, warm-up and cosine")
        try runTraining(config, folder: run, quiet: quiet)
        let final = run.appendingPathComponent("final.safetensors").path
        let quietFlag = quiet ? ["--quiet"] : []
        let surface = folder.appendingPathComponent("gpt-surface.h5").path
        print("\nterrain demo: the GPT's 11x11 surface (loss and perplexity) along two filter-normalized random directions")
        try Surface.parse(["--checkpoint", final, "--x=-1:1:11", "--y=-1:1:11", "--subset", "128", "--data", "train,test",
                           "--out", surface] + quietFlag).run()
        let hessian = folder.appendingPathComponent("gpt-hessian.h5").path
        print("\nterrain demo: the GPT's Hessian: its largest eigenvalue and spectral density")
        try Hessian.parse(["--checkpoint", final, "--top", "1", "--bottom", "0", "--density", "--subset", "128",
                           "--max-iterations", "30", "--out", hessian] + quietFlag).run()
        return (surface, hessian)
    }
}
