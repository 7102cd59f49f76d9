import ArgumentParser
import Foundation
import TerrainLandscape
import TerrainTensor

struct HessianMap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hessian-map",
        abstract: "The convexity map of a surface: λmax and λmin of the Hessian at every grid point (max_eig, min_eig).",
        discussion: """
        At each point θ + α·δ + β·η of an existing surface (same grid, same directions, read from \
        its direction file), runs Lanczos on exact Hessian-vector products for the largest and the \
        smallest eigenvalue, and stores them as max_eig and min_eig in the surface file (its loss \
        datasets are kept), or in --out. `terrain plot` then draws |λmin/λmax| and λmin/λmax.

        Resumable like `terrain surface`: a killed run started again with the same options computes \
        only the missing points. Each point's Lanczos start is seeded from --seed and the point, so \
        any thread count and --spread give the same numbers.
        """)

    @Option(help: "The surface file (HDF5) whose grid and directions are used.") var surface: String
    @Option(help: "The checkpoint at the centre (default: the surface's terrain.checkpoint attribute).") var checkpoint: String?
    @Option(help: "An ONNX model at the centre instead (default: the surface's terrain.onnx attribute).") var onnx: String?
    @Option(help: "Hessian over all trainable parameters (all) or the weight matrices only (matrices, as the reference).")
    var parameters: OneDimensionalTensors = .included
    @Option(help: "Lanczos iterations (Hessian-vector products) per point, at most.") var iterations: Int = 20
    @Option(help: "Lanczos tolerance: residuals relative to the largest |Ritz value|.") var tolerance: Double = 1e-3
    @Option(help: "Seed of the Lanczos start vectors (each point's is derived from it).") var seed: UInt64 = 1
    @OptionGroup var evaluation: EvaluationOptions
    @Option(help: "Write into this file (a copy of the surface with the map) instead of the surface file.") var out: String?
    @Flag(help: "Replace a map of a different request.") var overwrite = false
    @Flag(help: "No progress bar.") var quiet = false
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        try OptionCheck.count(iterations, "--iterations", in: 1...OptionCheck.maximumIterations)
        try OptionCheck.outputs(files: [out ?? surface])
        try OptionCheck.number(tolerance, "--tolerance", in: 0...1)
    }

    func run() throws {
        try compute.apply()
        try failing {
            guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1") }
            guard tolerance.isFinite, tolerance >= 0 else { throw ValidationError("--tolerance must be a finite number ≥ 0") }
            let sets = try evaluation.sets()
            guard sets.count == 1 else { throw ValidationError("hessian-map takes the Hessian of one set: --data train or --data test") }
            let base = try SurfaceFile.read(from: surface)
            let named = checkpoint == nil && onnx == nil ? nil : try ModelSource(checkpoint: checkpoint, onnx: onnx)
            guard let source = named ?? ModelSource.recorded(in: base.textAttributes) else {
                throw ValidationError("\(surface) does not name its model (terrain.checkpoint or terrain.onnx): pass --checkpoint or --onnx")
            }
            let checkpoint = source.path
            let (objective, _, dataDescription) = try evaluation.objective(source)
            let type = base.textAttributes["terrain.dir_type"].flatMap(TensorSet.init(rawValue:)) ?? .weights
            let (directionPath, directions) = try DirectionFile.read(for: base, at: surface, groups: objective.groups, type: type)
            let grid = base.grid
            guard directions.count >= (grid.isTwoDimensional ? 2 : 1) else {
                throw ValidationError("\(directionPath) has no ydirection for the 2D surface \(surface)")
            }
            let center = objective.parameters()
            let map = try CurvatureMapComputation(
                objective: objective, center: center, xDirection: directions[0],
                yDirection: grid.isTwoDimensional ? directions[1] : nil, grid: grid, set: sets[0],
                oneDimensional: parameters, iterations: iterations, tolerance: tolerance, seed: seed)
            if evaluation.spread != .layers { try map.spreadPointsOverThreads() }
            let world = Distributed.world
            let path = out ?? surface
            var options = SurfaceRunner.Options()
            options.baseFile = base
            options.acceptsUnmarkedFile = out == nil
            options.attributePrefix = "terrain.hessian."
            options.progressLabel = "hessian map"
            options.otherRequest = "a Hessian map of a different request (model, directions, grid, data, parameters or Lanczos settings)"
            options.showProgress = !quiet && world.isWriter
            options.communicator = world
            options.textAttributes = ["terrain.hessian.checkpoint": checkpoint, "terrain.hessian.data": dataDescription,
                                      "terrain.hessian.set": sets[0].rawValue, "terrain.hessian.parameters": map.oneDimensional.hessianName,
                                      "terrain.hessian.seed": "\(seed)", "terrain.version": Terrain.version]
            options.numberAttributes = ["terrain.hessian.iterations": Double(iterations), "terrain.hessian.tolerance": tolerance]
            let runner = SurfaceRunner(computation: map, path: path, fingerprint: map.fingerprint(data: dataDescription), options: options)
            let hessian = HessianOperator(objective: objective, set: sets[0], oneDimensional: map.oneDimensional)
            if world.isWriter {
                print("hessian map: \(grid.pointCount) points (\(grid.shape.map(String.init).joined(separator: "x"))) on \(dataDescription); "
                      + "Hessian of dimension \(hessian.dimension) (\(map.oneDimensional.legacyHessianName)), ≤ \(iterations) Lanczos steps per point"
                      + (map.concurrentPoints > 1 ? "; \(map.concurrentPoints) points at once" : "")
                      + (world.size > 1 ? "; \(world.size) ranks" : ""))
            }
            let result = try runner.run(overwrite: overwrite)
            guard world.isWriter else { return }
            if runner.damagedPoints > 0 { print(SurfaceRunner.damageNote(runner.damagedPoints, path: path)) }
            if runner.resumedPoints > 0 { print("resumed: \(runner.resumedPoints) points were already computed") }
            Self.summarize(result, path: path)
        }
    }

    static func summarize(_ file: SurfaceFile, path: String) {
        guard let maxEig = file.extraDatasets["max_eig"], let minEig = file.extraDatasets["min_eig"] else { return }
        let ratio = zip(minEig, maxEig).map { mn, mx in mx != 0 && mx.isFinite && mn.isFinite ? abs(mn / mx) : .nan }
        for (name, values) in [("max_eig", maxEig), ("min_eig", minEig), ("|min_eig/max_eig|", ratio)] {
            let finite = values.filter(\.isFinite)
            guard !finite.isEmpty else { print("\(name): no finite value"); continue }
            print(String(format: "%@: min %.5g  max %.5g", name, finite.min()!, finite.max()!))
        }
        let diverged = maxEig.filter { $0 == .infinity }.count
        if diverged > 0 { print("\(diverged) points diverged (stored as +∞, −∞)") }
        print("written to \(path)")
    }
}

/// `--parameters` of `hessian` and `hessian-map`: which trainable tensors the Hessian covers, in
/// the Hessian's spelling (all, matrices; matrices-only too, as `hessian-map` took it before).
extension OneDimensionalTensors: ExpressibleByArgument {
    public init?(argument: String) { self.init(hessianName: argument) }
    public var defaultValueDescription: String { hessianName }
    public static var allValueStrings: [String] { allCases.map(\.hessianName) }
}
