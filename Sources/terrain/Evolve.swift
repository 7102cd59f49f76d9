import ArgumentParser
import Foundation
import TerrainIO
import TerrainLandscape
import TerrainObjectives

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
        plane; by default the grid covers the path with --margin).

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

    @Option(name: .customLong("run"), help: "A run folder written by `terrain train`.") var runFolder: String
    @Option(help: "riding (a surface around each checkpoint) or fixed-pca (one plane, the minimizer moving across it).") var mode: EvolutionMode = .riding
    @Option(parsing: .unconditional, help: "x range min:max:num (riding default -1:1:21; fixed-pca: on the plane, default: covering the path).") var x: String?
    @Option(parsing: .unconditional, help: "y range min:max:num.") var y: String?
    @Flag(help: "Cubic spacing: dense near the centre.") var cubic = false
    @Option(help: "Frames: epochs (the initialization and each epoch's end) or all (iteration checkpoints too).") var frames: FrameSelection = .all
    @Option(help: "At most this many frames, evenly spread, first and last kept (0: no limit).") var maxFrames: Int = 0
    @Option(help: "fixed-pca without --x/--y: grid points per axis.") var steps: Int = 21
    @Option(help: "fixed-pca without --x/--y: margin around the path, as a fraction of its extent.") var margin: Double = 0.15
    @Option(help: "fixed-pca: biasbn leaves biases and BN parameters out of the PCA; none includes them.") var ignore: String = "biasbn"
    @OptionGroup var random: RandomDirectionOptions
    @OptionGroup var evaluation: EvaluationOptions
    @Option(help: "Output file (HDF5).") var out: String = "evolve.h5"
    @Flag(help: "Replace an existing output of a different request.") var overwrite = false
    @Flag(help: "No progress bar.") var quiet = false
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard maxFrames >= 0 else { throw ValidationError("--max-frames must be 0 (no limit) or positive, got \(maxFrames)") }
        try OptionCheck.outputs(files: [out, (out.hasSuffix(".h5") ? String(out.dropLast(3)) : out) + ".directions.h5"])
        do { try TrajectoryPCA.checkCovering(points: steps, margin: margin) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        try compute.apply()
        try failing {
            guard Distributed.world.size == 1 else {
                throw ValidationError("evolve runs in one process; run it without mpirun")
            }
            guard maxFrames >= 0 else { throw ValidationError("--max-frames must be 0 (no limit) or positive") }
            guard ["biasbn", "none"].contains(ignore) else { throw ValidationError("--ignore takes biasbn or none") }
            guard (x == nil) == (y == nil) else { throw ValidationError("--x and --y go together") }
            let spacing: Axis.Spacing = cubic ? .cubic : .linear
            let sets = try evaluation.sets()
            let recipe = try random.recipe()
            let history = try RunHistory(folder: runFolder)
            let chosen = history.frames(frames, limit: maxFrames == 0 ? nil : maxFrames)
            guard !chosen.isEmpty else {
                throw ValidationError("\(runFolder) has no \(frames == .epochs ? "epoch " : "")checkpoints listed in run.json")
            }
            let (objective, _, dataDescription) = try evaluation.objective(checkpoint: history.finalPath)
            let groups = objective.groups
            let stem = out.hasSuffix(".h5") ? String(out.dropLast(3)) : out
            try FileManager.default.createDirectory(at: URL(fileURLWithPath: out).deletingLastPathComponent(),
                                                    withIntermediateDirectories: true)

            let computation: SurfaceStackComputation
            var text = ["terrain.run": runFolder, "terrain.kind": "evolve", "terrain.spacing": spacing.rawValue,
                        "terrain.frame_selection": frames.rawValue]
            var numbers: [String: Double] = ["terrain.frames": Double(chosen.count)]
            var extra: [String: [Double]] = [:]
            var directionPath = ""
            /// The fixed plane's direction file, written once the request is accepted.
            var writeDirections: (() throws -> Void)?
            switch mode {
            case .riding:
                let grid = SurfaceGrid(x: try Axis.parse(x ?? "-1:1:21", spacing: spacing).coordinates,
                                       y: try Axis.parse(y ?? "-1:1:21", spacing: spacing).coordinates)
                computation = try LandscapeEvolution.riding(objective: objective, frames: chosen, recipe: recipe, grid: grid, sets: sets)
                text.merge(random.attributes(count: 2)) { $1 }
            case .fixedPCA:
                guard steps >= 2 else { throw ValidationError("--steps must be at least 2") }
                let final = objective.parameters()
                let thetas = try history.entries.map { try RunHistory.parameters(of: $0.path, groups: groups) }
                let pca = try TrajectoryPCA(checkpoints: thetas, final: final, groups: groups, type: recipe.type,
                                            ignoreOneDimensional: ignore == "biasbn")
                let covering = try pca.coveringAxes(points: steps, margin: margin)
                let xAxis = try x.map { try Axis.parse($0, spacing: spacing) } ?? covering.x
                let yAxis = try y.map { try Axis.parse($0, spacing: spacing) } ?? covering.y
                let grid = SurfaceGrid(x: xAxis.coordinates, y: yAxis.coordinates)
                // The frames are some of the run's checkpoints (one per iteration): their points of the path.
                let row = Dictionary(uniqueKeysWithValues: history.entries.enumerated().map { ($1.iteration, $0) })
                let positions = chosen.compactMap { row[$0.iteration].map { pca.path[$0] } }
                computation = try LandscapeEvolution.fixedPlane(objective: objective, center: final, axes: pca.axes, frames: chosen,
                                                                positions: positions, grid: grid, sets: sets)
                directionPath = stem + ".directions.h5"
                let path = directionPath, type = recipe.type
                // The counters do not enter the PCA; their entries (for set_states) are 0.
                let counters = try evaluation.batchCounters(of: history.finalPath).mapValues { _ in [0.0, 0.0] }
                writeDirections = {
                    try DirectionFile.write(pca.axes, groups: groups, type: type, counters: counters,
                                            attributes: ["terrain.run": runFolder, "terrain.ignore": ignore], to: path)
                    let directions = try HDF5File(path: path, mode: .readWrite)
                    try directions.write(pca.explainedVarianceRatio, shape: [2], to: "explained_variance_ratio_")
                    try directions.write(pca.singularValues, shape: [2], to: "singular_values_")
                    try directions.write(pca.explainedVariance, shape: [2], to: "explained_variance_")
                    directions.close()
                }
                text[DirectionFile.digestAttribute] = DirectionFile.digest(pca.axes, groups: groups, type: type)
                extra = history.pathDatasets(pca.path)
                numbers["terrain.pc1_explained"] = pca.explainedVarianceRatio[0]
                numbers["terrain.pc2_explained"] = pca.explainedVarianceRatio[1]
                text["terrain.ignore"] = ignore
                print(String(format: "plane: 1st PC %.1f %%, 2nd PC %.1f %% of the variance of %d checkpoints",
                             100 * pca.explainedVarianceRatio[0], 100 * pca.explainedVarianceRatio[1], thetas.count))
            }
            if evaluation.spread != .layers { try computation.spreadPointsOverThreads() }
            let grid = computation.grid
            let runner = SurfaceRunner(computation: computation, path: out, fingerprint: computation.fingerprint(data: dataDescription))
            runner.directionFile = directionPath
            runner.writeRequestFiles = writeDirections
            runner.showProgress = !quiet
            runner.progressLabel = "evolve"
            runner.textAttributes = text.merging(["terrain.data": dataDescription, "terrain.version": Terrain.version,
                                                  "terrain.dir_type": recipe.type.rawValue]) { $1 }
            runner.numberAttributes = numbers
            runner.extraDatasets = extra
            print("evolve (\(mode.rawValue)): \(chosen.count) frames of \(runFolder), \(computation.layers.count) surface"
                  + "\(computation.layers.count == 1 ? "" : "s") of \(grid.shape.map(String.init).joined(separator: "x")): "
                  + "\(computation.pointCount) points on \(dataDescription)")
            let start = Date()
            let result = try runner.run(overwrite: overwrite)
            if runner.damagedPoints > 0 { print(SurfaceRunner.damageNote(runner.damagedPoints, path: out)) }
            if runner.resumedPoints > 0 { print("resumed: \(runner.resumedPoints) points were already computed") }
            let stack = try SurfaceStack(file: result, path: out)
            for frame in stack.frames { print("  " + frame.label) }
            print(String(format: "written to %@ in %.1f s (%d frames; draw them with `terrain animate %@`)",
                         out, Date().timeIntervalSince(start), stack.count, out))
        }
    }
}
