import ArgumentParser
import Foundation
import TerrainLandscape
import TerrainReport
import TerrainObjectives

struct Surface: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Loss (and accuracy) on a 1D or 2D grid around a checkpoint, along random filter-normalized directions.",
        discussion: """
        Computes L(θ + α·δ + β·η) for α on --x and β on --y (ranges min:max:num, as -1:1:51), \
        with Gaussian directions normalized per filter by default (Li et al. 2018). Writes the \
        surface (HDF5, the reference's layout) and its directions (S.directions.h5).

        A run killed at any moment resumes where it stopped when started again with the same \
        options. Grid points are spread over the threads (--spread); any thread count gives the \
        same numbers.

        Built with the trait MPI, `mpirun -n N terrain surface …` splits the grid over N ranks \
        (rank 0 alone writes the files); with N ranks on few cores pass --threads 1.

        --adaptive (2D) computes a coarse lattice (stride 2^--adaptive-levels), then, round after \
        round, only the cells whose contours (the figures' levels) it leaves unresolved; the \
        other points are interpolated and marked 0 in the dataset computed_mask. Resumable \
        like any surface; one process only.

        The model is a checkpoint (--checkpoint; a PyTorch state_dict with --model ARCH) or an \
        ONNX model exported by PyTorch (--onnx M.onnx --data D.npz, arrays x and y).
        """)

    @Option(help: "The checkpoint at the centre.") var checkpoint: String?
    @Option(help: "An ONNX model at the centre instead (exported by torch.onnx.export); its data: --data FILE.npz.") var onnx: String?
    @Option(parsing: .unconditional, help: "x range min:max:num.") var x: String = "-1:1:51"
    @Option(parsing: .unconditional, help: "y range min:max:num (omit for a 1D curve).") var y: String?
    @Flag(help: "Cubic spacing: dense near the centre.") var cubic = false
    @OptionGroup var random: RandomDirectionOptions
    @Option(help: "Read the directions from this HDF5 file instead of drawing them.") var directions: String?
    @Option(help: "x along one named parameter instead (NAME or NAME:ELEMENT, e.g. fc.weight), unnormalized.") var xAxis: String?
    @Option(help: "y along one named parameter (e.g. fc.bias).") var yAxis: String?
    @Option(help: "A run folder whose checkpoints are projected onto the surface's plane (path_x, path_y).") var path: String?
    @OptionGroup var evaluation: EvaluationOptions
    @Option(help: "Output surface file (HDF5).") var out: String = "surface.h5"
    @Flag(help: "Replace an existing output of a different request.") var overwrite = false
    @Flag(help: "No progress bar.") var quiet = false
    @Flag(help: "2D: compute a coarse grid, then only the cells whose contours are unresolved; interpolate the rest.") var adaptive = false
    @Option(help: ArgumentHelp("With --adaptive: refine a cell when interpolation may be off by more than this many contour level spacings (default 0.25).",
                               valueName: "spacings"))
    var adaptiveTolerance: Double?
    @Option(help: ArgumentHelp("With --adaptive: halvings from the coarse grid to the full one, the coarse stride being 2^N (default 3; fewer when the coarse grid would have under 4 cells a side).",
                               valueName: "N"))
    var adaptiveLevels: Int?
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        try OptionCheck.outputs(files: [out, directions ?? Self.directionPath(for: out)])
    }

    /// The adaptive refinement asked for, if any: levels, tolerance, and the figures' contour levels.
    func adaptiveRequest(twoDimensional: Bool) throws -> AdaptiveRequest? {
        guard adaptive else {
            guard adaptiveTolerance == nil, adaptiveLevels == nil else {
                throw ValidationError("--adaptive-tolerance and --adaptive-levels go with --adaptive")
            }
            return nil
        }
        guard twoDimensional else { throw ValidationError("--adaptive refines 2D surfaces: give --y too (a 1D curve is cheap to compute in full)") }
        guard Distributed.world.size == 1 else {
            throw ValidationError("--adaptive runs in one process (each round's points depend on the last round's values): run it without mpirun")
        }
        let tolerance = adaptiveTolerance ?? 0.25, levels = adaptiveLevels ?? 3
        guard tolerance.isFinite, tolerance > 0 else { throw ValidationError("--adaptive-tolerance must be a positive number (got \(tolerance))") }
        guard (0...20).contains(levels) else { throw ValidationError("--adaptive-levels must be between 0 and 20 (got \(levels))") }
        return AdaptiveRequest(levels: levels, tolerance: tolerance, contourLevels: FigureLevels.refinement())
    }

    func run() throws {
        try compute.apply()
        try failing {
            let spacing: Axis.Spacing = cubic ? .cubic : .linear
            let xRange = try Axis.parse(x, spacing: spacing), yAxisRange = try y.map { try Axis.parse($0, spacing: spacing) }
            let adaptiveRequest = try adaptiveRequest(twoDimensional: yAxisRange != nil)
            let recipe = try random.recipe()
            let dirType = recipe.type
            let sets = try evaluation.sets()
            let source = try ModelSource(checkpoint: checkpoint, onnx: onnx)
            let (objective, _, dataDescription) = try evaluation.objective(source)
            let theta = objective.parameters()
            let groups = objective.groups
            let directionPath = directions ?? Self.directionPath(for: out)
            var dirs: [Direction]
            if let xAxis {
                // Exact coordinates along named parameters: for models small enough to draw as they are.
                dirs = try [xAxis, yAxis].prefix(yAxisRange == nil ? 1 : 2).map { spec in
                    guard let spec else { throw ValidationError("--x-axis needs --y-axis for a 2D surface") }
                    let parts = spec.split(separator: ":")
                    guard parts.count <= 2, let element = parts.count == 2 ? Int(parts[1]) : 0 else {
                        throw ValidationError("an axis is NAME or NAME:ELEMENT, got '\(spec)'")
                    }
                    return try Direction.axis(String(parts[0]), element: element, groups: groups)
                }
            } else if let directions {
                dirs = try DirectionFile.read(from: directions, groups: groups, type: dirType)
                guard dirs.count >= (yAxisRange == nil ? 1 : 2) else { throw ValidationError("\(directions) has no ydirection for a 2D surface") }
                dirs = Array(dirs.prefix(yAxisRange == nil ? 1 : 2))
            } else {
                // Every rank draws the same directions from the seed; only rank 0 writes them.
                dirs = recipe.directions(count: yAxisRange == nil ? 1 : 2, for: theta, groups: groups)
            }
            // Zero or parallel directions (the same --x-axis twice, a direction file of zeros)
            // would give a constant surface, or a plane that is only a line.
            try Direction.checkSpan(dirs, names: ["x", "y"].map { "of the \($0) axis" })
            let grid = SurfaceGrid(x: xRange.coordinates, y: yAxisRange?.coordinates ?? [])
            var text = [source.attributeKey: source.path, "terrain.spacing": spacing.rawValue]
            var directionAttributes: [String: String]? = nil
            if let xAxis {
                text["terrain.axes"] = [xAxis, yAxis ?? ""].joined(separator: ",")
                directionAttributes = ["terrain.axes": text["terrain.axes"]!]
            } else if directions == nil {
                text.merge(random.attributes(count: dirs.count)) { $1 }
                directionAttributes = text
            }
            var extra: [String: [Double]] = [:]
            if let path {
                let history = try RunHistory(folder: path)
                let thetas = try history.entries.map { try RunHistory.parameters(of: $0.path, groups: groups) }
                extra = history.pathDatasets(try PathProjection.project(thetas, center: theta, x: dirs[0], y: dirs.count > 1 ? dirs[1] : nil))
            }
            let cosine = dirs.count > 1 ? Direction.cosine(dirs[0], dirs[1]) : 1
            // Random `states` directions carry each batch-norm counter as the reference draws
            // it: a copy of the counter, or 0 where that axis ignores biases and BN.
            var counters: [String: [Double]] = [:]
            if xAxis == nil, directions == nil, dirType == .states {
                counters = try evaluation.batchCounters(of: source.path).mapValues { value in
                    dirs.indices.map { recipe.ignoresBiasAndNorm[$0] ? 0 : value }
                }
            }
            try LandscapeJob(
                objective: objective, threadUse: evaluation.spread, center: theta, directions: dirs, directionType: xAxis == nil ? dirType : .states,
                grid: grid, sets: sets, dataDescription: dataDescription, out: out, directionPath: directionPath,
                directionAttributes: directionAttributes, directionCounters: counters, textAttributes: text,
                numberAttributes: ["terrain.direction_cosine": cosine], extraDatasets: extra, adaptive: adaptiveRequest,
                announcement: "surface: \(grid.pointCount) points (\(grid.shape.map(String.init).joined(separator: "x"))) on \(dataDescription); "
                    + "\(objective.groups.filter(dirType.covers).count) tensors move"
                    + (dirs.count > 1 ? String(format: "; cosine between the directions %.2e", cosine) : "")
            ).run(quiet: quiet, overwrite: overwrite)
        }
    }

    static func directionPath(for out: String) -> String {
        (out.hasSuffix(".h5") ? String(out.dropLast(3)) : out) + ".directions.h5"
    }

    static func summarize(_ file: SurfaceFile, path: String) {
        for q in SurfaceQuantity.allCases {
            let invalid = file.values[q]?.filter(SurfaceValue.isInvalid).count ?? 0
            if invalid > 0 { print("\(q.rawValue): \(invalid) point\(invalid == 1 ? "" : "s") NaN (stored as NaN, drawn as invalid)") }
            guard let v = file.values[q]?.filter({ $0.isFinite }), !v.isEmpty else { continue }
            print(String(format: "%@: min %.5g  max %.5g", q.rawValue, v.min()!, v.max()!))
        }
        print("written to \(path) (directions: \(file.directionFile))")
    }
}

struct Interpolate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Loss along the line θ(α) = (1 − α)·θA + α·θB between two checkpoints (α = 0: A, α = 1: B).")

    @Argument(help: "Checkpoint A (α = 0), or an .onnx model.") var a: String
    @Argument(help: "Checkpoint B (α = 1), or an .onnx model of the same graph.") var b: String
    @Option(help: "Number of points.") var steps: Int = 101
    @Option(parsing: .unconditional, help: "α range min:max (extrapolation allowed, e.g. -0.5:1.5).") var range: String = "0:1"
    @Option(help: "states (BN running statistics interpolate too) or weights.") var dirType: DirectionType = .states
    @OptionGroup var evaluation: EvaluationOptions
    @Option(help: "Output file (HDF5).") var out: String = "interpolation.h5"
    @Flag(help: "Replace an existing output of a different request.") var overwrite = false
    @Flag(help: "No progress bar.") var quiet = false
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        try failing {
            let axis = try Axis.parse("\(range):\(steps)")
            let sets = try evaluation.sets()
            let (objective, architectureA, dataDescription) = try evaluation.objective(checkpoint: a)
            let (objectiveB, architectureB, _) = try evaluation.objective(checkpoint: b)
            guard architectureA == architectureB, objective.groups == objectiveB.groups else {
                throw ValidationError("\(a) and \(b) are different models (\(architectureA) and \(architectureB)); interpolation needs the same architecture")
            }
            let thetaA = objective.parameters(), thetaB = objectiveB.parameters()
            let direction = Direction.between(thetaA, thetaB, groups: objective.groups, type: dirType)
            try Direction.checkSpan([direction], names: ["B − A (\(b) − \(a))"])
            let grid = SurfaceGrid(x: axis.coordinates)
            try LandscapeJob(
                objective: objective, threadUse: evaluation.spread, center: thetaA, directions: [direction], directionType: dirType, grid: grid, sets: sets,
                dataDescription: dataDescription, out: out, directionPath: Surface.directionPath(for: out),
                directionAttributes: ["terrain.from": a, "terrain.to": b],
                directionCounters: try evaluation.counterDifferences(from: a, to: [b]),
                textAttributes: ["terrain.from": a, "terrain.to": b], numberAttributes: ["terrain.distance": direction.norm],
                announcement: String(format: "interpolate: %d points, ‖θB − θA‖ = %.4g, on %@", grid.pointCount, direction.norm, dataDescription)
            ).run(quiet: quiet, overwrite: overwrite)
        }
    }
}
