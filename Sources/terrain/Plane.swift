import TerrainTensor
import ArgumentParser
import Foundation
import TerrainLandscape
import TerrainRequests

struct Plane: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Loss on the plane through three checkpoints: θ = θA + α·(θB − θA) + β·(θC − θA).")

    @Argument(help: "Checkpoint A (the origin), or an .onnx model (B and C then too).") var a: String
    @Argument(help: "Checkpoint B (α = 1).") var b: String
    @Argument(help: "Checkpoint C (β = 1).") var c: String
    @Option(parsing: .unconditional, help: ArgumentHelp("α range.", valueName: "min:max:num")) var x = AxisRange("-0.5:1.5:21")
    @Option(parsing: .unconditional, help: ArgumentHelp("β range.", valueName: "min:max:num")) var y = AxisRange("-0.5:1.5:21")
    @Option(help: "states (BN running statistics move too) or weights.") var dirType: TensorSet = .states
    @OptionGroup var evaluation: EvaluationOptions
    @OptionGroup var precision: PrecisionOptions
    @Option(help: "Output file (HDF5).") var out: String = "plane.h5"
    @OptionGroup var output: OverwriteOptions
    @OptionGroup var progress: ProgressOptions
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        for range in [x, y] {
            do { _ = try range.axis() } catch { throw ValidationError("\(error)") }
        }
        try OptionCheck.outputs(files: [out, Surface.directionPath(for: out)])
    }

    func run() throws {
        try compute.apply()
        try failing {
            let request = PlaneRequest(a: evaluation.source(a), b: evaluation.source(b), c: evaluation.source(c),
                                       data: try precision.apply(to: evaluation.evaluationData()), x: try x.axis(), y: try y.axis(),
                                       type: dirType, output: out, overwrite: output.overwrite)
            let result = try request.run(progress: progress.progress)
            Surface.summarize(result, path: out)
        }
    }
}
