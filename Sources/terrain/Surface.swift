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
        let xRange = try Axis.parse(x, spacing: spacing), yRange = try y.map { try Axis.parse($0, spacing: spacing) }
        let random = random.directions
        let chosen: SurfaceRequest.Directions
        if let xAxis {
            chosen = .parameters(x: xAxis, y: yAxis)
        } else if let directions {
            chosen = .file(directions, type: random.type)
        } else {
            chosen = .random(random)
        }
        let request = SurfaceRequest(model: try evaluation.source(checkpoint: checkpoint, onnx: onnx), data: try evaluation.evaluationData(),
                                     x: xRange, y: yRange, directions: chosen, path: path, adaptive: try adaptiveSettings(),
                                     output: out, overwrite: overwrite)
        try request.validate()
        return request
    }

    func run() throws {
        try compute.apply()
        try failing {
            let result = try request().run(progress: .standard(quiet: quiet))
            if Distributed.world.isWriter { Self.summarize(result, path: out) }
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
            let request = InterpolationRequest(a: evaluation.source(a), b: evaluation.source(b), data: try evaluation.evaluationData(),
                                               axis: try Axis.parse("\(range):\(steps)"), type: dirType, output: out, overwrite: overwrite)
            let result = try request.run(progress: .standard(quiet: quiet))
            Surface.summarize(result, path: out)
        }
    }
}
