import TerrainTensor
import ArgumentParser
import Foundation
import TerrainLandscape
import TerrainRequests

struct Trajectory: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "PCA of a run's checkpoints: the optimizer's path on the plane of its top two principal components, and the loss surface on that plane.",
        discussion: """
        Rows are θᵢ − θ_final; the plane is spanned by the top two principal components. Writes \
        OUT (the surface on the plane, with the projected path as path_x, path_y, path_iteration, \
        path_lr_drop), OUT.directions.h5 (the components and explained variance) and \
        OUT.projection.h5 (proj_xcoord, proj_ycoord as the reference's plot_trajectory writes).
        """)

    @Option(name: .customLong("run"), help: "A run folder written by `terrain train` (with checkpoints along the way), or by the Python package's terrain.Recorder (run.json may name the network as an ONNX file).") var runFolder: String
    @Option(help: "weights (trainable) or states (also BN statistics).") var dirType: TensorSet = .weights
    @OptionGroup var plane: PCAPlaneOptions
    @OptionGroup var evaluation: EvaluationOptions
    @OptionGroup var precision: PrecisionOptions
    @Option(help: "Output file (HDF5).") var out: String = "trajectory.h5"
    @OptionGroup var output: OverwriteOptions
    @OptionGroup var progress: ProgressOptions
    @OptionGroup var compute: ComputeOptions

    /// The options as the library's request.
    var request: TrajectoryRequest {
        get throws {
            TrajectoryRequest(runFolder: runFolder, data: try precision.apply(to: evaluation.evaluationData()), architecture: evaluation.model, type: dirType,
                              ignore: plane.ignore, steps: plane.steps, margin: plane.margin, output: out, overwrite: output.overwrite)
        }
    }

    func validate() throws {
        let request = try request
        try OptionCheck.outputs(files: [out, request.directionOutput, request.projectionOutput])
        do { try request.validate() } catch let error as RequestError { throw ValidationError(error.description) }
    }

    func run() throws {
        try compute.apply()
        try failing {
            if let result = try request.run(progress: progress.progress) { Surface.summarize(result, path: out) }
        }
    }
}
