import ArgumentParser
import Foundation
import TerrainLandscape
import TerrainRequests
import TerrainTraining

struct Connect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mode connectivity: train a curve between two checkpoints (Garipov et al. 2018) and compare its loss with the straight line's.",
        discussion: """
        The curve θ(t) from A (t = 0) to B (t = 1) has one trainable bend θ_b: a quadratic Bézier curve
        (1 − t)²·A + 2t(1 − t)·θ_b + t²·B, or a polygonal chain A → θ_b → B. The bend starts at (A + B)/2
        and is trained with one t ∼ U(0, 1) drawn per batch. Batch norm's running statistics are
        recomputed at every point evaluated. Writes, in --out:
          curve.safetensors    the bend (a checkpoint of the architecture)
          training/            metrics.csv per epoch of the bend's training (`terrain plot` draws it)
          curve.h5             loss and accuracy along the curve and along the line, and their barriers
          plane.h5             the plane through A, B and the bend, the curve drawn on it
        Example:
          terrain connect runs/a/final.safetensors runs/b/final.safetensors --epochs 10 --out connect
          terrain plot connect/curve.h5 connect/plane.h5
        A stopped run continues with the same command line (the bend from its last finished epoch, the
        grids from their journals); --overwrite starts again.
        """)

    @Argument(help: "Checkpoint A (t = 0).") var a: String
    @Argument(help: "Checkpoint B (t = 1), of A's architecture.") var b: String
    @Option(help: "The curve: bezier (quadratic Bézier) or polychain (polygonal chain with one bend).") var curve: ConnectingCurve = .bezier
    @Option(help: "Epochs of the bend's training.") var epochs: Int = 10
    @Option(help: "Mini-batch size of the bend's training.") var batchSize: Int = 128
    @Option(help: "Optimizer: sgd, adam, adamw.") var optimizer: String = "sgd"
    @Option(help: "Learning rate.") var lr: Double = 0.03
    @Option(help: "SGD momentum.") var momentum: Double = 0.9
    @Option(help: "Weight decay on the bend.") var weightDecay: Double = 5e-4
    @Option(help: "Learning-rate schedule (as `terrain train --schedule`).") var schedule: String = "constant"
    @Option(help: "Seed of the batch order and of the points t drawn.") var seed: UInt64 = 0
    @Option(help: "Points along t from 0 to 1 (at least 2).") var points: Int = 61
    @Option(help: "Points per axis of the plane through A, B and the bend (α and β from -0.25 to 1.25; 0: no plane).") var planeGrid: Int = 13
    @Option(help: "Recompute batch norm's statistics on a fixed random subset of this many training samples (default: all).") var bnSubset: Int?
    @Option(help: "Dataset (default: the one A was trained on).") var dataset: String?
    @Option(help: ArgumentHelp("Sets to evaluate along the paths: train, test or train,test.", valueName: "sets")) var data: DataSpec = .sets([.train, .test])
    @Option(help: "Train and evaluate on a fixed random subset of this many samples of each set.") var subset: Int?
    @Option(help: "Seed of the subset.") var subsetSeed: UInt64 = 0
    @Option(help: "Evaluation batch size.") var evalBatchSize: Int = 500
    @Option(help: ArgumentHelp("How the threads share the evaluation: points, layers or auto.", valueName: "mode")) var spread: ThreadUse = .auto
    @Option(help: "Output folder.") var out: String = "connect"
    @OptionGroup var output: OverwriteOptions
    @OptionGroup var progress: ProgressOptions
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        if case .file = data { throw ValidationError("--data takes train, test or train,test here; name another dataset with --dataset") }
        try OptionCheck.count(evalBatchSize, "--eval-batch-size", in: 1...EvaluationData.maximumBatchSize)
        if let subset { try OptionCheck.count(subset, "--subset", in: 1...Int.max) }
        do { try request().validate() } catch { throw ValidationError("\(error)") }
        try OptionCheck.outputs(folders: [out])
    }

    func request() throws -> ConnectRequest {
        guard let kind = OptimizerKind(rawValue: optimizer.lowercased()) else {
            throw ValidationError("unknown optimizer '\(optimizer)' (sgd, adam, adamw)")
        }
        let training = CurveTrainingSettings(epochs: epochs, batchSize: batchSize, optimizer: kind, learningRate: lr, momentum: momentum,
                                             weightDecay: weightDecay, schedule: schedule, seed: seed)
        let evaluation = EvaluationData(dataset: dataset, sets: data.sets, subset: subset, subsetSeed: subsetSeed,
                                        batchSize: evalBatchSize, spread: spread)
        return ConnectRequest(a: a, b: b, curve: curve, training: training, data: evaluation, points: points, planeGrid: planeGrid,
                              batchNormSubset: bnSubset, output: out, overwrite: output.overwrite)
    }

    func run() throws {
        try compute.apply()
        try failing {
            let request = try request()
            let result = try request.run(progress: progress.progress)
            Self.summarize(result, request: request)
        }
    }

    /// The barriers along the line and the curve, and the end losses, as a table.
    static func summarize(_ result: ConnectResult, request: ConnectRequest) {
        var table = TextTable(header: ["set", "loss A", "loss B", "barrier (line)", "at t", "barrier (curve)", "at t"])
        for b in result.barriers {
            table.rows.append([b.set.rawValue, String(format: "%.4g", b.lossA), String(format: "%.4g", b.lossB),
                               String(format: "%.4g", b.line), String(format: "%.3f", b.lineAt),
                               String(format: "%.4g", b.curve), String(format: "%.3f", b.curveAt)])
        }
        for line in table.lines { print(line) }
        print("written to \(request.output): curve.safetensors, curve.h5" + (request.planeGrid > 0 ? ", plane.h5" : "")
              + " (directions: plane.directions.h5), training/")
    }
}

extension ConnectingCurve: ExpressibleByArgument {}
