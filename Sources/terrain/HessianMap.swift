import TerrainTensor
import ArgumentParser
import Foundation
import TerrainLandscape
import TerrainRequests

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

        The map's loss is its surface's: a surface computed with `terrain surface --precision \
        bf16` keeps its bf16 losses (and their measured error) here. The curvature itself is \
        always computed in fp32 with Double sums, so hessian-map has no --precision.
        """)

    @Option(help: "The surface file (HDF5) whose grid and directions are used.") var surface: String
    @OptionGroup var model: ModelOptions
    @Option(help: "Hessian over all trainable parameters (all) or the weight matrices only (matrices, as the reference).")
    var parameters = HessianTensors(.included)
    @Option(help: "Lanczos iterations (Hessian-vector products) per point, at most.") var maxIterations: Int?
    @Option(name: .customLong("iterations"), help: .hidden) var oldIterations: Int?
    @Option(help: "Lanczos tolerance: residuals relative to the largest |Ritz value|.") var tolerance: Double = 1e-3
    @Option(help: "Seed of the Lanczos start vectors (each point's is derived from it).") var seed: UInt64 = 1
    @Option(help: "Most memory for the results of the passes that depend on the weights alone, kept across a point's Lanczos steps and shared by the threads (e.g. 512M, 2G; 0: keep none, every product alone). Default: a quarter of the available memory.")
    var memory: ByteCount?
    @OptionGroup var evaluation: EvaluationOptions
    @Option(help: "Write into this file (a copy of the surface with the map) instead of the surface file.") var out: String?
    @OptionGroup var output: OverwriteOptions
    @OptionGroup var progress: ProgressOptions
    @OptionGroup var compute: ComputeOptions

    /// `--max-iterations`, once `--iterations`.
    var iterations: RenamedOption<Int> {
        RenamedOption(old: oldIterations, oldName: "--iterations", new: maxIterations, newName: "--max-iterations", defaultValue: 20)
    }

    func validate() throws {
        try iterations.check()
        try OptionCheck.count(iterations.value, "--max-iterations", in: 1...OptionCheck.maximumIterations)
        try OptionCheck.outputs(files: [out ?? surface])
        try OptionCheck.number(tolerance, "--tolerance", in: 0...1)
    }

    func run() throws {
        try compute.apply()
        try failing {
            let named = model.isGiven ? try model.source(evaluation) : nil
            let request = CurvatureMapRequest(surface: surface, model: named, architecture: evaluation.model, data: try evaluation.evaluationData(),
                                              parameters: parameters.tensors, iterations: iterations.value, tolerance: tolerance, seed: seed,
                                              memory: memory?.bytes, output: out, overwrite: output.overwrite)
            let result = try request.run(progress: progress.progress)
            if Distributed.world.isWriter { Self.summarize(result, path: request.outputPath) }
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

/// `--parameters` of `hessian` and `hessian-map`: `all` or `matrices` (`matrices-only`, the old
/// spelling, is still read, and not shown).
extension HessianTensors: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public var defaultValueDescription: String { tensors.hessianName }
    public static var allValueStrings: [String] { OneDimensionalTensors.allCases.map(\.hessianName) }
}
