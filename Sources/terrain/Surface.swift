import ArgumentParser
import Foundation
import TerrainLandscape
import TerrainRequests

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

        Under Open MPI, `mpirun -n N terrain surface …` splits the grid over N ranks \
        (rank 0 alone writes the files); with N ranks on few cores pass --threads 1.

        --adaptive (2D) computes a coarse lattice (stride 2^--adaptive-levels), then, round after \
        round, only the cells whose contours (the figures' levels) it leaves unresolved; the \
        other points are interpolated and marked 0 in the dataset computed_mask. Resumable \
        like any surface; one process only.

        The model is a checkpoint (--checkpoint; a PyTorch state_dict with --model ARCH) or an \
        ONNX model exported by PyTorch (--onnx M.onnx --data D.npz, arrays x and y).
        """)

    @OptionGroup var model: ModelOptions
    @Option(parsing: .unconditional, help: ArgumentHelp("x range.", valueName: "min:max:num")) var x = AxisRange("-1:1:51")
    @Option(parsing: .unconditional, help: ArgumentHelp("y range (omit for a 1D curve).", valueName: "min:max:num")) var y: AxisRange?
    @Flag(help: "Cubic spacing: dense near the centre.") var cubic = false
    @OptionGroup var random: RandomDirectionOptions
    @Option(help: "Read the directions from this HDF5 file instead of drawing them.") var directions: String?
    @Option(help: "x along one named parameter instead (NAME or NAME:ELEMENT, e.g. fc.weight), unnormalized.") var xAxis: String?
    @Option(help: "y along one named parameter (e.g. fc.bias).") var yAxis: String?
    @Option(help: "A run folder whose checkpoints are projected onto the surface's plane (path_x, path_y).") var path: String?
    @OptionGroup var evaluation: EvaluationOptions
    @Option(help: "Output surface file (HDF5).") var out: String = "surface.h5"
    @OptionGroup var output: OverwriteOptions
    @OptionGroup var progress: ProgressOptions
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
        // Ranges and adaptive settings are checked here, before any work.
        do { _ = try request() } catch let error as LandscapeError { throw ValidationError("\(error)") }
    }

    /// The adaptive refinement asked for, if any.
    func adaptiveSettings() throws -> AdaptiveSettings? {
        guard adaptive else {
            guard adaptiveTolerance == nil, adaptiveLevels == nil else {
                throw ValidationError("--adaptive-tolerance and --adaptive-levels go with --adaptive")
            }
            return nil
        }
        return AdaptiveSettings(levels: adaptiveLevels ?? 3, tolerance: adaptiveTolerance ?? 0.25)
    }

    /// The options as the library's request.
    func request() throws -> SurfaceRequest {
        let spacing: Axis.Spacing = cubic ? .cubic : .linear
        let xRange = try x.axis(spacing: spacing), yRange = try y?.axis(spacing: spacing)
        let random = random.directions
        let chosen: SurfaceRequest.Directions
        if let xAxis {
            chosen = .parameters(x: xAxis, y: yAxis)
        } else if let directions {
            chosen = .file(directions, type: random.type)
        } else {
            chosen = .random(random)
        }
        let request = SurfaceRequest(model: try model.source(evaluation), data: try evaluation.evaluationData(),
                                     x: xRange, y: yRange, directions: chosen, path: path, adaptive: try adaptiveSettings(),
                                     output: out, overwrite: output.overwrite)
        do { try request.validate() } catch let error as RequestError { throw ValidationError(error.description) }
        return request
    }

    func run() throws {
        try compute.apply()
        try failing {
            let result = try request().run(progress: progress.progress)
            if Distributed.world.isWriter { Self.summarize(result, path: out) }
        }
    }

    static func directionPath(for out: String) -> String {
        (out.hasSuffix(".h5") ? String(out.dropLast(3)) : out) + ".directions.h5"
    }

    /// The range of every quantity (and, for a next-token loss, of its perplexity, exp(loss),
    /// after the quantities: `SurfacePerplexity`), and where the file went.
    static func summarize(_ file: SurfaceFile, path: String) {
        for q in SurfaceQuantity.allCases {
            let invalid = file.values[q]?.filter(SurfaceValue.isInvalid).count ?? 0
            if invalid > 0 { print("\(q.rawValue): \(invalid) point\(invalid == 1 ? "" : "s") NaN (stored as NaN, drawn as invalid)") }
            guard let v = file.values[q]?.filter({ $0.isFinite }), !v.isEmpty else { continue }
            print(String(format: "%@: min %.5g  max %.5g", q.rawValue, v.min()!, v.max()!))
        }
        for (_, name) in SurfacePerplexity.datasets {
            guard let v = file.extraDatasets[name]?.filter({ $0.isFinite }), !v.isEmpty else { continue }
            print(String(format: "%@: min %.5g  max %.5g", name, v.min()!, v.max()!))
        }
        print("written to \(path) (directions: \(file.directionFile))")
    }
}
