import TerrainTensor
import Foundation
import TerrainIO
import TerrainLandscape
import TerrainObjectives

/// Landscapes through training (`terrain evolve`): one file holding a surface per checkpoint of
/// a run, riding along with the minimizer (the same two random directions, drawn once,
/// normalized to each checkpoint's weights: frame k is `SurfaceRequest` at checkpoint k) or on
/// one fixed PCA plane through the final weights (each frame marks where its checkpoint projects).
///
/// Writes `output` (frames × ny × nx per quantity, and per perplexity for token data; frame_* and
/// path_* datasets, attribute `terrain.evolve.mode`) and, for the fixed plane, `directionOutput`. Resumable like a surface.
public struct EvolveRequest: DirectionFileBesideOutput {
    /// A run folder written by `terrain train`, or by the Python package's `Recorder` (its network
    /// then the ONNX file run.json names: `RunHistory.onnx`).
    public var runFolder: String
    public var data: EvaluationData
    /// A state_dict architecture for the run's checkpoints (nil: Terrain checkpoints).
    public var architecture: String?
    public var mode: EvolutionMode
    /// The grid's axes (both or neither). Riding: nil is −1…1 with 21 points; fixed-pca:
    /// coordinates on the plane, nil covers the path with `margin` and `steps` points a side.
    public var x: Axis?
    public var y: Axis?
    /// The spacing of the default axes, and the one recorded.
    public var spacing: Axis.Spacing
    /// Epochs (the initialization and each epoch's end) or all checkpoints.
    public var frames: FrameSelection
    /// At most this many frames, evenly spread, first and last kept (nil: no limit).
    public var maxFrames: Int?
    public var steps: Int
    public var margin: Double
    /// fixed-pca: biasbn leaves biases and BN parameters out of the PCA.
    public var ignore: OneDimensionalTensors
    /// The riding directions (and, for fixed-pca, the direction type).
    public var directions: RandomDirections
    public var output: String
    public var overwrite: Bool

    public init(runFolder: String, data: EvaluationData = EvaluationData(), architecture: String? = nil, mode: EvolutionMode = .riding,
                x: Axis? = nil, y: Axis? = nil, spacing: Axis.Spacing = .linear, frames: FrameSelection = .all, maxFrames: Int? = nil,
                steps: Int = 21, margin: Double = 0.15, ignore: OneDimensionalTensors = .leftOut, directions: RandomDirections = RandomDirections(),
                output: String = "evolve.h5", overwrite: Bool = false) {
        self.runFolder = runFolder
        self.data = data
        self.architecture = architecture
        self.mode = mode
        self.x = x
        self.y = y
        self.spacing = spacing
        self.frames = frames
        self.maxFrames = maxFrames
        self.steps = steps
        self.margin = margin
        self.ignore = ignore
        self.directions = directions
        self.output = output
        self.overwrite = overwrite
    }

    /// Checks what needs no loading.
    public func validate() throws {
        if let maxFrames, maxFrames < 0 { throw RequestError("--max-frames must be 0 (no limit) or positive, got \(maxFrames)") }
        do { try TrajectoryPCA.checkCovering(points: steps, margin: margin) } catch { throw RequestError("\(error)") }
        guard (x == nil) == (y == nil) else { throw RequestError("--x and --y go together") }
    }

    @discardableResult
    public func run(progress: RequestProgress = .standard()) throws -> SurfaceFile {
        guard Distributed.world.size == 1 else { throw RequestError("evolve runs in one process; run it without mpirun") }
        try validate()
        let recipe = directions.recipe
        let history = try RunHistory(folder: runFolder)
        let chosen = history.frames(frames, limit: maxFrames == 0 ? nil : maxFrames)
        guard !chosen.isEmpty else {
            throw RequestError("\(runFolder) has no \(frames == .epochs ? "epoch " : "")checkpoints listed in run.json")
        }
        let final = history.finalModel(architecture: architecture)
        let loaded = try final.load(on: data, progress: progress)
        let objective = loaded.objective
        let groups = objective.groups
        try FileManager.default.createDirectory(at: URL(fileURLWithPath: output).deletingLastPathComponent(),
                                                withIntermediateDirectories: true)

        let computation: SurfaceStackComputation
        var metadata = SurfaceMetadata()
        metadata.run = runFolder
        metadata.kind = "evolve"
        metadata.spacing = spacing
        metadata.frameSelection = frames
        metadata.frames = Double(chosen.count)
        var options = SurfaceRunner.Options()
        switch mode {
        case .riding:
            let grid = SurfaceGrid(x: (x ?? Axis(minimum: -1, maximum: 1, count: 21, spacing: spacing)).coordinates,
                                   y: (y ?? Axis(minimum: -1, maximum: 1, count: 21, spacing: spacing)).coordinates)
            computation = try LandscapeEvolution.riding(objective: objective, frames: chosen, recipe: recipe, grid: grid, sets: data.sets)
            directions.record(count: 2, in: &metadata)
        case .fixedPCA:
            guard steps >= 2 else { throw RequestError("--steps must be at least 2") }
            let center = try history.finalParameters(model: final, objective: objective)
            let thetas = try history.entries.map { try RunHistory.parameters(of: $0.path, groups: groups) }
            let pca = try TrajectoryPCA(checkpoints: thetas, final: center, groups: groups, type: recipe.type,
                                        oneDimensional: ignore)
            let covering = try pca.coveringAxes(points: steps, margin: margin)
            let grid = SurfaceGrid(x: (x ?? covering.x).coordinates, y: (y ?? covering.y).coordinates)
            // The frames are some of the run's checkpoints (one per iteration): their points of the path.
            let row = Dictionary(uniqueKeysWithValues: history.entries.enumerated().map { ($1.iteration, $0) })
            let positions = chosen.compactMap { row[$0.iteration].map { pca.path[$0] } }
            computation = try LandscapeEvolution.fixedPlane(objective: objective, center: center, axes: pca.axes, frames: chosen,
                                                            positions: positions, grid: grid, sets: data.sets)
            options.directionFile = directionOutput
            let (path, type, run, ignore) = (directionOutput, recipe.type, self.runFolder, self.ignore)
            let counters = try final.batchCounters()
            options.writeRequestFiles = {
                try PCADirectionFile.write(pca, groups: groups, type: type, counters: counters, run: run, ignore: ignore, to: path)
            }
            metadata.directionsDigest = DirectionFile.digest(pca.axes, groups: groups, type: type)
            options.extraDatasets = history.pathDatasets(pca.path)
            metadata.pc1Explained = pca.explainedVarianceRatio[0]
            metadata.pc2Explained = pca.explainedVarianceRatio[1]
            metadata.ignore = ignore
            progress.note(String(format: "plane: 1st PC %.1f %%, 2nd PC %.1f %% of the variance of %d checkpoints",
                                 100 * pca.explainedVarianceRatio[0], 100 * pca.explainedVarianceRatio[1], thetas.count))
        }
        if data.spread.spreadsPoints { try computation.spreadPointsOverThreads() }
        let grid = computation.grid
        metadata.data = loaded.dataDescription
        metadata.precision = loaded.precision == .fp32 ? nil : loaded.precision
        metadata.version = TerrainVersion.current
        metadata.directionType = recipe.type
        options.progressLabel = "evolve"
        options.storesPerplexity = SurfaceRunner.storesPerplexity(for: objective)
        let runner = SurfaceRunner.forRequest(computation: computation, path: output,
                                              fingerprint: computation.fingerprint(data: loaded.fingerprintData), options: options,
                                              attributes: try FileAttributes(encoding: metadata), progress: progress)
        progress.note("evolve (\(mode.rawValue)): \(chosen.count) frames of \(runFolder), \(computation.layers.count) surface"
                      + "\(computation.layers.count == 1 ? "" : "s") of \(grid.shape.map(String.init).joined(separator: "x")): "
                      + "\(computation.pointCount) points on \(loaded.dataDescription)"
                      + (loaded.precision == .fp32 ? "" : "; \(loaded.precision.rawValue) products"))
        var result = try runner.run(overwrite: overwrite)
        runner.reportNotes(path: output, progress: progress)
        // A stack checks its first surface (the first frame's, riding; the one plane, fixed PCA).
        if let first = computation.layers.first {
            try PrecisionCheck.record(network: loaded.network, surface: first, in: &result, path: output, progress: progress)
        }
        return result
    }
}
