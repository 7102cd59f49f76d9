import ArgumentParser
import Foundation
import TerrainIO
import TerrainLandscape
import TerrainObjectives

struct Trajectory: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "PCA of a run's checkpoints: the optimizer's path on the plane of its top two principal components, and the loss surface on that plane.",
        discussion: """
        Rows are θᵢ − θ_final; the plane is spanned by the top two principal components. Writes \
        OUT (the surface on the plane, with the projected path as path_x, path_y, path_iteration, \
        path_lr_drop), OUT.directions.h5 (the components and explained variance) and \
        OUT.projection.h5 (proj_xcoord, proj_ycoord as the reference's plot_trajectory writes).
        """)

    @Option(name: .customLong("run"), help: "A run folder written by `terrain train` (with checkpoints along the way).") var runFolder: String
    @Option(help: "weights (trainable) or states (also BN statistics).") var dirType: DirectionType = .weights
    @Option(help: "biasbn: leave biases and BN parameters out of the PCA; none: include them.") var ignore: String = "biasbn"
    @Option(help: "Grid points per axis of the surface (0: no surface, only the path).") var steps: Int = 21
    @Option(help: "Margin around the path, as a fraction of its extent.") var margin: Double = 0.15
    @OptionGroup var evaluation: EvaluationOptions
    @Option(help: "Output file (HDF5).") var out: String = "trajectory.h5"
    @Flag(help: "Replace an existing output of a different request.") var overwrite = false
    @Flag(help: "No progress bar.") var quiet = false
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard steps == 0 || steps >= 2 else { throw ValidationError("--steps must be 0 or at least 2") }
        let stem = out.hasSuffix(".h5") ? String(out.dropLast(3)) : out
        try OptionCheck.outputs(files: [out, stem + ".directions.h5", stem + ".projection.h5"])
        if steps > 0 {
            do {
                try TrajectoryPCA.checkCovering(points: steps, margin: margin)
                // The grid's size depends on --steps alone: refused here, before the direction
                // and projection files are written.
                let axis = [Double](repeating: 0, count: steps)
                try SurfaceGrid(x: axis, y: axis).checkSize(fields: SurfaceQuantity.quantities(for: try evaluation.sets()).count)
            } catch let error as LandscapeError { throw ValidationError("\(error)") }
        }
    }

    func run() throws {
        try compute.apply()
        try failing {
            guard Distributed.world.size == 1 else {
                throw ValidationError("trajectory runs in one process; under mpirun, compute its plane with `terrain surface --directions OUT.directions.h5` after a `--steps 0` run")
            }
            guard ["biasbn", "none"].contains(ignore) else { throw ValidationError("--ignore takes biasbn or none") }
            guard steps == 0 || steps >= 2 else { throw ValidationError("--steps must be 0 or at least 2") }
            let history = try RunHistory(folder: runFolder)
            let (objective, _, dataDescription) = try evaluation.objective(checkpoint: history.finalPath)
            let groups = objective.groups
            let final = objective.parameters()
            print("trajectory: \(history.entries.count) checkpoints of \(runFolder)")
            let thetas = try history.entries.map { try RunHistory.parameters(of: $0.path, groups: groups) }
            let pca = try TrajectoryPCA(checkpoints: thetas, final: final, groups: groups, type: dirType,
                                        ignoreOneDimensional: ignore == "biasbn")
            let ratios = pca.explainedVarianceRatio
            print(String(format: "1st PC: %.1f %%, 2nd PC: %.1f %% of the variance", 100 * ratios[0], 100 * ratios[1]))

            let stem = out.hasSuffix(".h5") ? String(out.dropLast(3)) : out
            let directionPath = stem + ".directions.h5"
            let path = history.pathDatasets(pca.path)
            /// The direction file (with the PCA's numbers) and the projected path: written once
            /// the surface's request is accepted, so a refused run changes neither.
            // The counters are no parameters: they do not enter the PCA, and their entries
            // (present so that the reference's set_states accepts the file) are 0.
            let counters = try evaluation.batchCounters(of: history.finalPath).mapValues { _ in [0.0, 0.0] }
            func writePlaneFiles() throws {
                try DirectionFile.write(pca.axes, groups: groups, type: dirType, counters: counters,
                                        attributes: ["terrain.run": runFolder, "terrain.ignore": ignore], to: directionPath)
                let dirFile = try HDF5File(path: directionPath, mode: .readWrite)
                try dirFile.write(pca.explainedVarianceRatio, shape: [2], to: "explained_variance_ratio_")
                try dirFile.write(pca.singularValues, shape: [2], to: "singular_values_")
                try dirFile.write(pca.explainedVariance, shape: [2], to: "explained_variance_")
                dirFile.close()
                let projection = try HDF5File(path: stem + ".projection.h5", mode: .create)
                try projection.write(path["path_x"]!, shape: [thetas.count], to: "proj_xcoord")
                try projection.write(path["path_y"]!, shape: [thetas.count], to: "proj_ycoord")
                for (k, v) in path where k != "path_x" && k != "path_y" { try projection.write(v, shape: [v.count], to: k) }
                projection.close()
            }
            guard steps > 0 else {
                try writePlaneFiles()
                print("path written to \(stem).projection.h5")
                return
            }

            let (xAxis, yAxis) = try pca.coveringAxes(points: steps, margin: margin)
            let grid = SurfaceGrid(x: xAxis.coordinates, y: yAxis.coordinates)
            try LandscapeJob(
                objective: objective, threadUse: evaluation.spread, center: final, directions: pca.axes, directionType: dirType, grid: grid,
                sets: try evaluation.sets(), dataDescription: dataDescription, out: out, directionPath: directionPath,
                directionAttributes: nil, writeDirections: writePlaneFiles,
                textAttributes: ["terrain.run": runFolder, "terrain.kind": "pca-trajectory"],
                numberAttributes: ["terrain.pc1_explained": ratios[0], "terrain.pc2_explained": ratios[1]], extraDatasets: path,
                announcement: "surface on the PCA plane: \(grid.pointCount) points, x \(xAxis.text), y \(yAxis.text)"
            ).run(quiet: quiet, overwrite: overwrite)
        }
    }
}

struct Plane: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Loss on the plane through three checkpoints: θ = θA + α·(θB − θA) + β·(θC − θA).")

    @Argument(help: "Checkpoint A (the origin), or an .onnx model (B and C then too).") var a: String
    @Argument(help: "Checkpoint B (α = 1).") var b: String
    @Argument(help: "Checkpoint C (β = 1).") var c: String
    @Option(parsing: .unconditional, help: "α range min:max:num.") var x: String = "-0.5:1.5:21"
    @Option(parsing: .unconditional, help: "β range min:max:num.") var y: String = "-0.5:1.5:21"
    @Option(help: "states (BN running statistics move too) or weights.") var dirType: DirectionType = .states
    @OptionGroup var evaluation: EvaluationOptions
    @Option(help: "Output file (HDF5).") var out: String = "plane.h5"
    @Flag(help: "Replace an existing output of a different request.") var overwrite = false
    @Flag(help: "No progress bar.") var quiet = false
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        try failing {
            let xAxis = try Axis.parse(x), yAxis = try Axis.parse(y)
            let sets = try evaluation.sets()
            let (objective, _, dataDescription) = try evaluation.objective(checkpoint: a)
            let groups = objective.groups
            let thetaA = objective.parameters()
            let thetaB = try evaluation.parameters(of: b, groups: groups), thetaC = try evaluation.parameters(of: c, groups: groups)
            let dirs = [Direction.between(thetaA, thetaB, groups: groups, type: dirType),
                        Direction.between(thetaA, thetaC, groups: groups, type: dirType)]
            try Direction.checkSpan(dirs, names: ["B − A (\(b) − \(a))", "C − A (\(c) − \(a))"])
            let grid = SurfaceGrid(x: xAxis.coordinates, y: yAxis.coordinates)
            let names = ["terrain.a": a, "terrain.b": b, "terrain.c": c]
            try LandscapeJob(
                objective: objective, threadUse: evaluation.spread, center: thetaA, directions: dirs, directionType: dirType, grid: grid, sets: sets,
                dataDescription: dataDescription, out: out, directionPath: Surface.directionPath(for: out),
                directionAttributes: names, directionCounters: try evaluation.counterDifferences(from: a, to: [b, c]),
                textAttributes: names,
                numberAttributes: ["terrain.direction_cosine": Direction.cosine(dirs[0], dirs[1])],
                announcement: "plane: \(grid.pointCount) points through \(a), \(b), \(c) on \(dataDescription)"
            ).run(quiet: quiet, overwrite: overwrite)
        }
    }
}
