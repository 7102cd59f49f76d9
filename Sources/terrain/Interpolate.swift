import TerrainTensor
import ArgumentParser
import Foundation
import TerrainLandscape
import TerrainRequests

struct Interpolate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Loss along the line θ(α) = (1 − α)·θA + α·θB between two checkpoints (α = 0: A, α = 1: B).")

    @Argument(help: "Checkpoint A (α = 0), or an .onnx model.") var a: String
    @Argument(help: "Checkpoint B (α = 1), or an .onnx model of the same graph.") var b: String
    @Option(help: "Number of points.") var steps: Int = 101
    @Option(parsing: .unconditional, help: ArgumentHelp("α range (extrapolation allowed, e.g. -0.5:1.5).", valueName: "min:max")) var range = Interval("0:1")
    @Option(help: "states (BN running statistics interpolate too) or weights.") var dirType: TensorSet = .states
    @OptionGroup var evaluation: EvaluationOptions
    @OptionGroup var precision: PrecisionOptions
    @Option(help: "Output file (HDF5).") var out: String = "interpolation.h5"
    @OptionGroup var output: OverwriteOptions
    @OptionGroup var progress: ProgressOptions
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        do { _ = try range.axis(count: steps) } catch { throw ValidationError("\(error)") }
        try OptionCheck.outputs(files: [out, Surface.directionPath(for: out)])
    }

    func run() throws {
        try compute.apply()
        try failing {
            let request = InterpolationRequest(a: evaluation.source(a), b: evaluation.source(b), data: try precision.apply(to: evaluation.evaluationData()),
                                               axis: try range.axis(count: steps), type: dirType, output: out, overwrite: output.overwrite)
            let result = try request.run(progress: progress.progress)
            Surface.summarize(result, path: out)
        }
    }
}
