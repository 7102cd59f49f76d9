import TerrainTensor
import TerrainLandscape

/// The convexity map of a surface (`terrain hessian-map`): λmax and λmin of the Hessian at every
/// grid point of an existing surface (same grid, same directions, read from its direction file),
/// by Lanczos on exact Hessian-vector products, stored as max_eig and min_eig in the surface
/// file (its loss datasets kept) or in `output`. Resumable; each point's Lanczos start is seeded
/// from `seed` and the point, so any thread count gives the same numbers.
public struct CurvatureMapRequest {
    /// The surface file whose grid and directions are used.
    public var surface: String
    /// The model at the centre (nil: the one the surface names).
    public var model: ModelSource?
    /// A state_dict architecture for a model read from the surface's attributes.
    public var architecture: String?
    /// One set.
    public var data: EvaluationData
    public var parameters: OneDimensionalTensors
    /// Lanczos iterations (Hessian-vector products) per point, at most.
    public var iterations: Int
    /// Residuals relative to the largest |Ritz value|.
    public var tolerance: Double
    public var seed: UInt64
    /// The most bytes of θ-only results the Hessian-vector products keep at one point, shared by
    /// the threads (`ModelObjective.curvatureStateBudget`); nil: `MemoryBudget.defaultBytes`;
    /// 0: keep nothing, every product alone, as before `--memory` existed.
    public var memory: Int?
    /// nil: into the surface file itself.
    public var output: String?
    public var overwrite: Bool

    public init(surface: String, model: ModelSource? = nil, architecture: String? = nil, data: EvaluationData = EvaluationData(),
                parameters: OneDimensionalTensors = .included, iterations: Int = 20, tolerance: Double = 1e-3, seed: UInt64 = 1,
                memory: Int? = nil, output: String? = nil, overwrite: Bool = false) {
        self.surface = surface
        self.model = model
        self.architecture = architecture
        self.data = data
        self.parameters = parameters
        self.iterations = iterations
        self.tolerance = tolerance
        self.seed = seed
        self.memory = memory
        self.output = output
        self.overwrite = overwrite
    }

    /// The file written: `output`, or the surface.
    public var outputPath: String { output ?? surface }

    public func validate() throws {
        guard iterations >= 1 else { throw RequestError("--iterations must be at least 1") }
        guard tolerance.isFinite, tolerance >= 0 else { throw RequestError("--tolerance must be a finite number ≥ 0") }
        if let memory, memory < 0 { throw RequestError("--memory must be 0 or more bytes, not \(memory)") }
    }

    @discardableResult
    public func run(progress: RequestProgress = .standard()) throws -> SurfaceFile {
        try validate()
        let set = try data.singleSet("hessian-map takes the Hessian of one set: --data train or --data test")
        let base = try SurfaceFile.read(from: surface)
        guard let source = model ?? ModelSource.recorded(in: base.textAttributes)?.with(architecture: architecture) else {
            throw RequestError("\(surface) does not name its model (terrain.checkpoint or terrain.onnx): pass --checkpoint or --onnx")
        }
        let loaded = try source.load(on: data, progress: progress)
        let objective = try loaded.requireNetwork(for: "a curvature map")
        let type = base.textAttributes["terrain.dir_type"].flatMap(TensorSet.init(rawValue:)) ?? .weights
        let (directionPath, directions) = try DirectionFile.read(for: base, at: surface, groups: objective.groups, type: type)
        let grid = base.grid
        guard directions.count >= (grid.isTwoDimensional ? 2 : 1) else {
            throw RequestError("\(directionPath) has no ydirection for the 2D surface \(surface)")
        }
        let map = try CurvatureMapComputation(
            objective: objective, center: objective.parameters(), xDirection: directions[0],
            yDirection: grid.isTwoDimensional ? directions[1] : nil, grid: grid, set: set,
            oneDimensional: parameters, iterations: iterations, tolerance: tolerance, seed: seed)
        // Each thread's replica keeps its own point's results: the budget is shared among them.
        let threads = data.spread.spreadsPoints ? max(1, Parallel.threadCount) : 1
        objective.curvatureStateBudget = (memory ?? MemoryBudget.defaultBytes) / threads
        if data.spread.spreadsPoints { try map.spreadPointsOverThreads() }
        let world = Distributed.world
        var metadata = CurvatureMapMetadata()
        metadata.checkpoint = source.label
        metadata.data = loaded.dataDescription
        metadata.set = set
        metadata.parameters = HessianTensors(map.oneDimensional)
        metadata.seed = seed
        metadata.version = TerrainVersion.current
        metadata.iterations = Double(iterations)
        metadata.tolerance = tolerance
        var options = SurfaceRunner.Options()
        options.baseFile = base
        options.acceptsUnmarkedFile = output == nil
        options.attributePrefix = "terrain.hessian."
        options.progressLabel = "hessian map"
        options.otherRequest = "a Hessian map of a different request (model, directions, grid, data, parameters, Lanczos settings or --memory 0)"
        // With no memory for θ-only results the compiled products run another program (the
        // value and tangent passes fused), whose numbers differ in the last bits: not mixed in one
        // map. Every other budget runs the same program, whatever it keeps.
        let products = objective.curvatureStateBudget == 0 ? "; products one at a time (--memory 0)" : ""
        let runner = SurfaceRunner.forRequest(computation: map, path: outputPath,
                                              fingerprint: map.fingerprint(data: loaded.dataDescription + products),
                                              options: options, attributes: try FileAttributes(encoding: metadata), progress: progress)
        let hessian = HessianOperator(objective: objective, set: set, oneDimensional: map.oneDimensional)
        progress.note("hessian map: \(grid.pointCount) point\(grid.pointCount == 1 ? "" : "s") (\(grid.shape.map(String.init).joined(separator: "x"))) on \(loaded.dataDescription); "
                      + "Hessian of dimension \(hessian.dimension) (\(map.oneDimensional.legacyHessianName)), ≤ \(iterations) Lanczos steps per point"
                      + (map.concurrentPoints > 1 ? "; \(map.concurrentPoints) points at once" : "")
                      + (world.size > 1 ? "; \(world.size) ranks" : ""))
        let result = try runner.run(overwrite: overwrite)
        runner.reportNotes(path: outputPath, progress: progress)
        return result
    }
}

/// What a curvature map adds to its surface file's attributes (`terrain.hessian.*`, beside the
/// runner's `terrain.hessian.request`, `.seconds` and `.resumed_points`).
public struct CurvatureMapMetadata: Codable, Equatable, Sendable {
    public var checkpoint: String?
    public var data: String?
    public var set: EvaluationSet?
    public var parameters: HessianTensors?
    public var seed: UInt64?
    public var version: String?
    public var iterations: Double?
    public var tolerance: Double?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case checkpoint = "terrain.hessian.checkpoint", data = "terrain.hessian.data", set = "terrain.hessian.set"
        case parameters = "terrain.hessian.parameters", seed = "terrain.hessian.seed", version = "terrain.version"
        case iterations = "terrain.hessian.iterations", tolerance = "terrain.hessian.tolerance"
    }
}
