import TerrainTensor
import Foundation
import TerrainIO
import TerrainLandscape
import TerrainObjectives

/// The PCA of a run's checkpoints: the optimizer's path on the plane of its top two principal
/// components (rows θᵢ − θ_final), and the loss surface on that plane (`terrain trajectory`).
///
/// Writes `output` (the surface with the projected path as path_x, path_y, path_iteration,
/// path_lr_drop), `directionOutput` (the components and explained variance) and
/// `projectionOutput` (proj_xcoord, proj_ycoord as the reference's plot_trajectory writes).
public struct TrajectoryRequest: DirectionFileBesideOutput {
    /// A run folder written by `terrain train` (with checkpoints along the way), or by the Python
    /// package's `Recorder` (its network then the ONNX file run.json names: `RunHistory.onnx`).
    public var runFolder: String
    public var data: EvaluationData
    /// A state_dict architecture for the run's checkpoints (nil: Terrain checkpoints).
    public var architecture: String?
    public var type: TensorSet
    /// biasbn: biases and BN parameters stay out of the PCA.
    public var ignore: OneDimensionalTensors
    /// Grid points per axis of the surface (0: no surface, only the path).
    public var steps: Int
    /// Margin around the path, as a fraction of its extent.
    public var margin: Double
    public var output: String
    public var overwrite: Bool

    public init(runFolder: String, data: EvaluationData = EvaluationData(), architecture: String? = nil, type: TensorSet = .weights,
                ignore: OneDimensionalTensors = .leftOut, steps: Int = 21, margin: Double = 0.15, output: String = "trajectory.h5",
                overwrite: Bool = false) {
        self.runFolder = runFolder
        self.data = data
        self.architecture = architecture
        self.type = type
        self.ignore = ignore
        self.steps = steps
        self.margin = margin
        self.output = output
        self.overwrite = overwrite
    }

    public var projectionOutput: String { LandscapeJob.stem(of: output) + ".projection.h5" }

    /// Checks what needs no loading: the steps, the margin and the grid's size.
    public func validate() throws {
        guard steps == 0 || steps >= 2 else { throw RequestError("--steps must be 0 or at least 2") }
        if steps > 0 {
            do {
                try TrajectoryPCA.checkCovering(points: steps, margin: margin)
                // The grid's size depends on the steps alone: refused here, before the direction
                // and projection files are written.
                let axis = [Double](repeating: 0, count: steps)
                try SurfaceGrid(x: axis, y: axis).checkSize(fields: SurfaceQuantity.quantities(for: data.sets).count)
            } catch let error as LandscapeError { throw RequestError("\(error)") }
        }
    }

    /// Computes the PCA, writes the plane's files and (unless `steps` is 0) the surface on the
    /// plane; returns the surface, nil without one.
    @discardableResult
    public func run(progress: RequestProgress = .standard()) throws -> SurfaceFile? {
        guard Distributed.world.size == 1 else {
            throw RequestError("trajectory runs in one process; under mpirun, compute its plane with `terrain surface --directions OUT.directions.h5` after a `--steps 0` run")
        }
        try validate()
        let history = try RunHistory(folder: runFolder)
        let final = history.finalModel(architecture: architecture)
        let loaded = try final.load(on: data, progress: progress)
        let objective = loaded.objective
        let groups = objective.groups
        let center = try history.finalParameters(model: final, objective: objective)
        progress.note("trajectory: \(history.entries.count) checkpoints of \(runFolder)")
        let thetas = try history.entries.map { try RunHistory.parameters(of: $0.path, groups: groups) }
        let pca = try TrajectoryPCA(checkpoints: thetas, final: center, groups: groups, type: type,
                                    oneDimensional: ignore)
        let ratios = pca.explainedVarianceRatio
        progress.note(String(format: "1st PC: %.1f %%, 2nd PC: %.1f %% of the variance", 100 * ratios[0], 100 * ratios[1]))
        let path = history.pathDatasets(pca.path)
        let counters = try final.batchCounters()
        let (run, type, ignore, directionPath, projectionPath) = (self.runFolder, self.type, self.ignore, directionOutput, projectionOutput)
        /// The direction file (with the PCA's numbers) and the projected path: written once the
        /// surface's request is accepted, so a refused run changes neither.
        func writePlaneFiles() throws {
            try PCADirectionFile.write(pca, groups: groups, type: type, counters: counters, run: run, ignore: ignore, to: directionPath)
            let projection = try HDF5File(path: projectionPath, mode: .create)
            try projection.write(path["path_x"]!, shape: [thetas.count], to: "proj_xcoord")
            try projection.write(path["path_y"]!, shape: [thetas.count], to: "proj_ycoord")
            for (k, v) in path where k != "path_x" && k != "path_y" { try projection.write(v, shape: [v.count], to: k) }
            projection.close()
        }
        guard steps > 0 else {
            try writePlaneFiles()
            progress.note("path written to \(projectionPath)")
            return nil
        }
        let (xAxis, yAxis) = try pca.coveringAxes(points: steps, margin: margin)
        let grid = SurfaceGrid(x: xAxis.coordinates, y: yAxis.coordinates)
        var metadata = SurfaceMetadata()
        metadata.run = runFolder
        metadata.kind = "pca-trajectory"
        metadata.pc1Explained = ratios[0]
        metadata.pc2Explained = ratios[1]
        return try LandscapeJob(
            objective: objective, spread: data.spread, center: center, directions: pca.axes, directionType: type, grid: grid,
            sets: data.sets, dataDescription: loaded.dataDescription, out: output, directionPath: directionPath,
            directionOutput: .custom(writePlaneFiles), metadata: metadata, extraDatasets: path,
            announcement: "surface on the PCA plane: \(grid.pointCount) points, x \(xAxis.text), y \(yAxis.text)"
        ).run(progress: progress, overwrite: overwrite)
    }
}
