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

        --data-tolerance T estimates each point's loss on a growing prefix of one seeded random \
        order of the data (--data-seed; the same order for every point, so neighbouring points \
        share their samples) until the standard error of the mean is at most T: a loss (0.001), or \
        a percentage of the contour spacing of the figures' levels at the point's value (1%). A \
        pilot lattice (rows and columns 0, 8, 16, … and the last; closer on grids under 33 points a \
        side; --data-pilot-stride) is evaluated on the whole data first: it gives the \
        levels, and each point's estimate takes out what its cell's corners, sample by sample, \
        predict (a control variate). The file stores train_loss_stderr and train_loss_samples (test_* likewise) beside the \
        losses; the summary says how many per-sample losses were computed against the exact grid. \
        The pilot's points are journaled as they finish (S.h5.pilot.journal): a resumed run \
        reads them back instead of evaluating them again.

        --repeats K computes the slice along K direction pairs (member k drawn from --seed + 2k, \
        so member 0 is the plain run), --subset-repeats K on K data subsets of --subset N samples \
        (member k from --subset-seed + 2k) along the same directions; the file holds member 0 as \
        its surface and every member with their mean and standard deviation per point in the \
        group repeats/ (figures of a 1D file draw the band, `terrain analyze` reports each \
        number's spread over the members). Resumable and threaded like one surface.

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
    @OptionGroup var precision: PrecisionOptions
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
    @Option(help: ArgumentHelp("Compute the slice along K independently drawn direction pairs (seeds --seed + 2k) and store their mean and standard deviation per point.",
                               valueName: "K"))
    var repeats: Int?
    @Option(help: ArgumentHelp("Compute the slice on K data subsets of --subset samples (seeds --subset-seed + 2k) along the same directions, with their mean and standard deviation.",
                               valueName: "K"))
    var subsetRepeats: Int?
    @Option(help: ArgumentHelp("Estimate each point's loss on a growing prefix of a seeded order of the data until its standard error is at most T: a loss (0.001) or a percentage of the figures' contour spacing at the point's value (1%).",
                               valueName: "T"))
    var dataTolerance: String?
    @Option(help: ArgumentHelp("With --data-tolerance: the seed of the samples' order (default 0).", valueName: "seed"))
    var dataSeed: UInt64?
    @Option(help: ArgumentHelp("With --data-tolerance: the first prefix in samples (default 1024; it grows in blocks of 256).", valueName: "N"))
    var dataMinSamples: Int?
    @Option(help: ArgumentHelp("With --data-tolerance: every S-th grid line (and the last) is evaluated exactly on the whole set first; their per-sample losses are the other points' control variates (default: a quarter of the axis, from 2 to 8).", valueName: "S"))
    var dataPilotStride: Int?
    @OptionGroup var compute: ComputeOptions

    /// The ensemble asked for, if any.
    func repeatsRequested() throws -> SurfaceRequest.Repeats? {
        switch (repeats, subsetRepeats) {
        case (nil, nil): return nil
        case (let k?, nil): return SurfaceRequest.Repeats(kind: .directions, members: k)
        case (nil, let k?): return SurfaceRequest.Repeats(kind: .subsets, members: k)
        case (_?, _?): throw ValidationError("--repeats and --subset-repeats vary different things: give one of them")
        }
    }

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

    /// The data sampling asked for, if any: `--data-tolerance 0.001` (a loss) or `1%` (of the
    /// contour spacing).
    func samplingSettings() throws -> DataSampling? {
        guard let dataTolerance else {
            guard dataSeed == nil, dataMinSamples == nil, dataPilotStride == nil else {
                throw ValidationError("--data-seed, --data-min-samples and --data-pilot-stride go with --data-tolerance")
            }
            return nil
        }
        let text = dataTolerance.trimmingCharacters(in: .whitespaces)
        let relative = text.hasSuffix("%")
        guard let value = Double(relative ? String(text.dropLast()) : text), value.isFinite, value > 0 else {
            throw ValidationError("--data-tolerance takes a positive loss (0.001) or percentage of the contour spacing (1%), got '\(dataTolerance)'")
        }
        let minimum = dataMinSamples ?? 1024
        if dataMinSamples != nil { try OptionCheck.count(minimum, "--data-min-samples", in: 2...Int.max) }
        let seed = dataSeed ?? 0
        if let dataPilotStride { try OptionCheck.count(dataPilotStride, "--data-pilot-stride", in: 1...Int.max) }
        return relative ? .relativeToFigureLevels(fraction: value / 100, seed: seed, minimumSamples: minimum, pilotStride: dataPilotStride)
            : DataSampling(tolerance: .absolute(value), seed: seed, minimumSamples: minimum, pilotStride: dataPilotStride)
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
        let request = SurfaceRequest(model: try model.source(evaluation), data: try precision.apply(to: evaluation.evaluationData()),
                                     x: xRange, y: yRange, directions: chosen, path: path, adaptive: try adaptiveSettings(),
                                     output: out, overwrite: output.overwrite, repeats: try repeatsRequested(),
                                     sampling: try samplingSettings())
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

    /// How much the members differ: per quantity, the standard deviation over the members
    /// averaged over the grid's points (where it is defined), and at the centre.
    static func summarize(_ repeats: SurfaceRepeats) {
        let statistics = repeats.statistics
        let centre = repeats.grid.pointCount > 0 ? repeats.grid.centrePoint : nil
        print("\(repeats.members.count) members (\(repeats.kind.rawValue), seeds \(repeats.seeds.map(String.init).joined(separator: ", ")))")
        for q in repeats.quantities {
            guard let s = statistics[q] else { continue }
            let defined = s.standardDeviation.filter(\.isFinite)
            let excluded = s.count.filter { $0.isFinite && Int($0) < repeats.members.count }.count
            var line = "\(q.rawValue) across members: mean std " + (defined.isEmpty ? "nan" : String(format: "%.5g", defined.reduce(0, +) / Double(defined.count)))
                + String(format: ", largest %.5g", defined.max() ?? .nan)
            if let centre { line += String(format: "; at the centre %.5g ± %.5g", s.mean[centre], s.standardDeviation[centre]) }
            if excluded > 0 { line += "; \(excluded) point\(excluded == 1 ? "" : "s") with a diverged or NaN member left out of its mean" }
            print(line)
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
        for set in EvaluationSet.allCases {
            guard let errors = file.extraDatasets["\(set.rawValue)_loss_stderr"]?.filter({ $0.isFinite }), !errors.isEmpty,
                  let samples = file.extraDatasets["\(set.rawValue)_loss_samples"]?.filter({ $0.isFinite && $0 > 0 }), !samples.isEmpty else { continue }
            print(String(format: "%@_loss: standard error at most %.3g; %.0f to %.0f samples a point", set.rawValue, errors.max()!,
                         samples.min()!, samples.max()!))
        }
        if let repeats = file.repeats { summarize(repeats) }
        print("written to \(path) (directions: \(file.directionFile))")
    }
}
