import TerrainTensor
import ArgumentParser
import Foundation
import TerrainLandscape
import TerrainObjectives
import TerrainRequests

extension EvolutionMode: ExpressibleByArgument {}
extension FrameSelection: ExpressibleByArgument {}

struct Evolve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Landscapes through training: one file holding a surface per checkpoint of a run, riding along with the minimizer or on one fixed PCA plane.",
        discussion: """
        --mode riding (the default): around each checkpoint, the surface along the same two \
        random directions (drawn once from --seed) normalized to that checkpoint's weights; \
        frame k is exactly what `terrain surface --checkpoint <checkpoint k>` computes with the \
        same options. --mode fixed-pca: one plane for the whole run, its top two principal \
        components through the final weights (as `terrain trajectory`); the surface stays put \
        and each frame marks where its checkpoint projects (--x/--y are then coordinates on the \
        plane; by default the grid covers the path, --steps points a side and --margin around \
        it; --ignore as in `terrain trajectory`).

        Writes OUT (HDF5; h5py reads it as it is):
          xcoordinates [nx], ycoordinates [ny]
          train_loss, train_acc, test_loss, test_acc: (frames, ny, nx); frame k is [k]
          frame_checkpoint (strings), frame_epoch, frame_iteration: [frames]
          frame_x, frame_y: [frames], the checkpoint on its plane (0 when riding)
          frame_train_loss, …: [frames], each checkpoint on the same data
          frame_logged_train_loss, …: [frames], logged in training (else NaN)
          path_x, path_y, path_iteration, …: the run's path (fixed-pca)
          attribute terrain.evolve.mode: riding or fixed-pca
        and, for fixed-pca, OUT.directions.h5 (the two components). Like a surface, a run \
        killed at any moment resumes where it stopped when started again with the same options. \
        Draw it with `terrain animate OUT`.
        """)

    @Option(name: .customLong("run"), help: "A run folder written by `terrain train`, or by the Python package's terrain.Recorder (run.json may name the network as an ONNX file).") var runFolder: String
    @Option(help: "riding (a surface around each checkpoint) or fixed-pca (one plane, the minimizer moving across it).") var mode: EvolutionMode = .riding
    @Option(parsing: .unconditional, help: ArgumentHelp("x range (riding default -1:1:21; fixed-pca: on the plane, default: covering the path).", valueName: "min:max:num"))
    var x: AxisRange?
    @Option(parsing: .unconditional, help: ArgumentHelp("y range.", valueName: "min:max:num")) var y: AxisRange?
    @Flag(help: "Cubic spacing: dense near the centre.") var cubic = false
    @Option(help: "Frames: epochs (the initialization and each epoch's end) or all (iteration checkpoints too).") var frames: FrameSelection = .all
    @Option(help: "At most this many frames, evenly spread, first and last kept (0: no limit).") var maxFrames: Int = 0
    @OptionGroup var plane: PCAPlaneOptions
    @OptionGroup var random: RandomDirectionOptions
    @OptionGroup var evaluation: EvaluationOptions
    @OptionGroup var precision: PrecisionOptions
    @Option(help: "Output file (HDF5).") var out: String = "evolve.h5"
    @OptionGroup var output: OverwriteOptions
    @OptionGroup var progress: ProgressOptions
    @OptionGroup var compute: ComputeOptions

    /// The options as the library's request.
    var request: EvolveRequest {
        get throws {
            let spacing: Axis.Spacing = cubic ? .cubic : .linear
            return EvolveRequest(runFolder: runFolder, data: try precision.apply(to: evaluation.evaluationData()), architecture: evaluation.model, mode: mode,
                                 x: try x?.axis(spacing: spacing), y: try y?.axis(spacing: spacing),
                                 spacing: spacing, frames: frames, maxFrames: maxFrames, steps: plane.steps, margin: plane.margin, ignore: plane.ignore,
                                 directions: random.directions, output: out, overwrite: output.overwrite)
        }
    }

    func validate() throws {
        guard maxFrames >= 0 else { throw ValidationError("--max-frames must be 0 (no limit) or positive, got \(maxFrames)") }
        try OptionCheck.outputs(files: [out, (out.hasSuffix(".h5") ? String(out.dropLast(3)) : out) + ".directions.h5"])
        do { try request.validate() } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        try compute.apply()
        try failing {
            let start = Date()
            let result = try request.run(progress: progress.progress)
            let stack = try SurfaceStack(file: result, path: out)
            for frame in stack.frames { print("  " + frame.label) }
            print(String(format: "written to %@ in %.1f s (%d frames; draw them with `terrain animate %@`)",
                         out, Date().timeIntervalSince(start), stack.count, out))
        }
    }
}
