import TerrainTensor
import Foundation
import TerrainNN
import TerrainONNX
import TerrainLandscape
import TerrainReport

/// The spectrum of a model's Hessian (`terrain hessian`): extreme eigenvalues by Lanczos, the
/// trace by Hutchinson's estimate, the spectral density by stochastic Lanczos quadrature, on
/// exact Hessian-vector products of the per-sample mean loss over one set (evaluation mode).
///
/// Writes `output` (a `HessianSpectrumFile`), `eigenvectors` (the top two eigenvectors as a
/// direction file) and, with `density`, the density figure (`densityFigureBase`_density.png).
public struct HessianRequest {
    public var model: ModelSource
    /// One set (`data.sets` holds exactly one).
    public var data: EvaluationData
    /// How many of the largest and of the smallest eigenvalues.
    public var top: Int
    public var bottom: Int
    public var trace: Bool
    public var density: Bool
    public var parameters: OneDimensionalTensors
    /// Lanczos steps for the eigenvalues, and per density probe.
    public var maxIterations: Int
    /// Relative tolerance of the eigenpairs' residuals and of the trace's standard error.
    public var tolerance: Double
    /// Most Rademacher probes for the trace; probe vectors of the density.
    public var probes: Int
    public var densityProbes: Int
    /// Seed of the start and probe vectors.
    public var seed: UInt64
    /// How many Hessian-vector products the trace's probes and the density's lockstep Lanczos
    /// runs ask for at once (`SymmetricOperator.apply(block:)`): the same estimates as one at a
    /// time (to Float rounding on the compiled path, bit for bit layer by layer), with the passes
    /// that depend on θ only run once per block. 1: one product at a time, as before.
    public var probeBlock: Int
    /// The most bytes of θ-only results kept across the products at this θ
    /// (`ModelObjective.curvatureStateBudget`), so that later products (every Lanczos step, probe
    /// and density step after the first) skip the forward and backward-data passes. nil:
    /// `MemoryBudget.defaultBytes` when `probeBlock` > 1, and nothing kept with `probeBlock` 1
    /// (every product alone, the files as before blocks existed).
    public var memory: Int?
    public var output: String?
    public var eigenvectors: String?

    public init(model: ModelSource, data: EvaluationData = EvaluationData(), top: Int = 5, bottom: Int = 1, trace: Bool = false,
                density: Bool = false, parameters: OneDimensionalTensors = .included, maxIterations: Int = 100, tolerance: Double = 1e-3,
                probes: Int = 100, densityProbes: Int = 1, seed: UInt64 = 0, probeBlock: Int = HessianRequest.defaultProbeBlock,
                memory: Int? = nil, output: String? = nil, eigenvectors: String? = nil) {
        self.model = model
        self.data = data
        self.top = top
        self.bottom = bottom
        self.trace = trace
        self.density = density
        self.parameters = parameters
        self.maxIterations = maxIterations
        self.tolerance = tolerance
        self.probes = probes
        self.densityProbes = densityProbes
        self.seed = seed
        self.probeBlock = probeBlock
        self.memory = memory
        self.output = output
        self.eigenvectors = eigenvectors
    }

    /// What a run found, for the summary.
    public struct Result {
        public var file: HessianSpectrumFile
        public var lanczos: LanczosResult?
        public var trace: HutchinsonTrace.Result?
        public var density: SpectralDensity?
        /// Hessian-vector products and the seconds they took.
        public var products: Int
        public var seconds: Double
        /// The density figure's files.
        public var densityFigures: [String]
        /// How many eigenvectors went into `eigenvectors`.
        public var eigenvectorCount: Int
    }

    /// Where the density figure goes: beside the output (H.h5 → H_density.png), or beside the
    /// model (C.safetensors → C_hessian_density.png).
    public var densityFigureBase: String {
        if let output { return LandscapeJob.stem(of: output) }
        var c = model.label
        for suffix in [".safetensors", ".onnx"] where c.hasSuffix(suffix) { c = String(c.dropLast(suffix.count)) }
        return c + "_hessian"
    }

    /// The most eigenvalues, Lanczos steps or probes a request may ask for (each is a
    /// Hessian-vector product or more, and sizes the Lanczos basis).
    public static let maximumCount = 100_000

    /// The default `probeBlock`: 8 probes per block. ResNet-20 on 500 Fashion-MNIST images, one
    /// thread, CPU seconds of 8 and 16 trace probes: 1.2x the single products' rate with blocks
    /// of 4, 1.3x with 8 (the shared passes are 2 of a product's 8 convolution passes, so sharing
    /// alone can give at most 1.33x). Each probe of a block holds its own tangents of every
    /// activation of a chunk (a few hundred MB per thread for ResNet-20 at 32x32 with 8 probes).
    public static let defaultProbeBlock = 8
    /// The largest `probeBlock`: each probe of a block holds its own tangents of every activation.
    public static let maximumProbeBlock = 64

    /// Counts in range and something to compute.
    public func validate(alsoMapping: Bool = false) throws {
        guard top >= 0 else { throw RequestError("--top must be 0 or more, not \(top)") }
        guard bottom >= 0 else { throw RequestError("--bottom must be 0 or more, not \(bottom)") }
        for (count, name) in [(top, "--top"), (bottom, "--bottom"), (maxIterations, "--max-iterations"), (probes, "--probes"),
                              (densityProbes, "--density-probes")] where count > Self.maximumCount {
            throw RequestError("\(name) must be at most \(Self.maximumCount), got \(count)")
        }
        guard top > 0 || bottom > 0 || trace || density || eigenvectors != nil || alsoMapping else {
            throw RequestError("nothing to compute: ask for --top or --bottom eigenvalues, --trace, --density, --eigenvectors or --map")
        }
        guard maxIterations >= 1 else { throw RequestError("--max-iterations must be at least 1, not \(maxIterations)") }
        guard tolerance.isFinite, tolerance >= 0 else { throw RequestError("--tolerance must be a number ≥ 0, not \(tolerance)") }
        guard probes >= 1 else { throw RequestError("--probes must be at least 1, not \(probes)") }
        guard densityProbes >= 1 else { throw RequestError("--density-probes must be at least 1, not \(densityProbes)") }
        guard (1...Self.maximumProbeBlock).contains(probeBlock) else {
            throw RequestError("--probe-block must be from 1 to \(Self.maximumProbeBlock), not \(probeBlock)")
        }
        if let memory, memory < 0 { throw RequestError("--memory must be 0 or more bytes, not \(memory)") }
    }

    public func run(progress: RequestProgress = .standard()) throws -> Result {
        try validate(alsoMapping: true)
        let set = try data.singleSet("--data takes one set for a Hessian (train or test), not '\(data.sets.map(\.rawValue).joined(separator: ","))'")
        // Folders for the outputs exist before minutes of products are spent.
        for path in [output, eigenvectors].compactMap({ $0 }) {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw LandscapeError.invalidRequest("cannot create the folder \(folder) for \(path): \(error.localizedDescription)")
            }
            guard FileManager.default.isWritableFile(atPath: folder) else {
                throw LandscapeError.invalidRequest("cannot write into \(folder) (for \(path))")
            }
        }
        let loaded = try model.load(on: data, progress: progress)
        let objective = try loaded.requireNetwork(for: "a Hessian")
        let unsupported = Self.layersWithoutProducts(objective.model, name: "")
        guard unsupported.isEmpty else {
            throw LandscapeError.invalidRequest("the model's layers \(unsupported.joined(separator: ", ")) cannot compute Hessian-vector products")
        }
        let samples = set == .train ? objective.data.train.count : objective.data.test.count
        guard samples > 0 else { throw LandscapeError.invalidRequest("the \(set.rawValue) set is empty") }
        let batches = (samples + objective.batchSize - 1) / objective.batchSize
        let op = HessianOperator(objective: objective, set: set, oneDimensional: parameters)
        guard op.dimension > 0 else {
            throw LandscapeError.invalidRequest("the model has no \(parameters == .included ? "trainable" : "matrix") parameters: there is no Hessian to measure")
        }
        objective.curvatureStateBudget = memory ?? (probeBlock > 1 ? MemoryBudget.defaultBytes : 0)
        defer { objective.curvatureStateBudget = 0 }
        let counted = CountingOperator(op)
        let name = model.label
        progress.note("Hessian of the mean loss over \(samples) samples (the reference sums per-batch products: multiply by the number of batches to compare)")
        progress.note("checkpoint: \(name)")
        progress.note("data: \(loaded.dataDescription); the \(set.rawValue) set in \(batches) batch\(batches == 1 ? "" : "es") of ≤ \(objective.batchSize)")
        // Only a model with batch norm has running statistics for evaluation mode to use.
        let mode = objective.groups.contains { !$0.role.isTrainable } ? "evaluation mode (BN running statistics)" : "evaluation mode"
        progress.note("parameters: \(parameters == .included ? "all trainable tensors" : "tensors with ≥ 2 dimensions"): "
                      + "\(op.dimension) scalars in \(op.selectedGroups.count) tensors; \(mode)")

        // Lanczos: the extreme eigenpairs (the top two vectors for the eigenvector file).
        let wantTop = eigenvectors != nil ? max(top, 2) : top
        var lanczos: LanczosResult?
        if wantTop + bottom > 0 {
            let bar = HVPProgress(label: "lanczos", total: min(maxIterations, op.dimension), counter: counted, showsBar: progress.showsBar)
            lanczos = try Lanczos.extremeEigenpairs(of: counted, top: wantTop, bottom: bottom, maxIterations: maxIterations,
                                                    tolerance: tolerance, seed: seed, wantVectors: eigenvectors != nil, progress: bar.update)
            bar.finish()
        }
        var traceResult: HutchinsonTrace.Result?
        if trace {
            let bar = HVPProgress(label: "trace", total: probes, counter: counted, showsBar: progress.showsBar)
            traceResult = try HutchinsonTrace.estimate(of: counted, maxProbes: probes, tolerance: tolerance, seed: seed &+ 1,
                                                       block: probeBlock, progress: bar.update)
            bar.finish()
        }
        var densityCurve: (x: [Double], density: [Double])?
        var densityResult: SpectralDensity?
        if density {
            let steps = min(maxIterations, op.dimension)
            let bar = HVPProgress(label: "density", total: densityProbes * steps, counter: counted, showsBar: progress.showsBar)
            let slq = try SpectralDensity.estimate(of: counted, probes: densityProbes, steps: maxIterations, seed: seed &+ 2,
                                                  block: probeBlock, progress: bar.update)
            bar.finish()
            densityResult = slq
            densityCurve = try slq.density(gridPoints: 10_000)
        }

        var file = HessianSpectrumFile(
            eigenvalues: lanczos?.eigenvalues ?? [], residuals: lanczos?.residuals ?? [],
            topCount: lanczos?.topCount ?? 0, bottomCount: lanczos?.bottomCount ?? 0, converged: lanczos?.converged ?? true,
            checkpoint: name, data: loaded.dataDescription, set: set, samples: samples, parameters: parameters,
            dimension: op.dimension, seed: seed, iterations: lanczos?.iterations ?? 0, version: TerrainVersion.current)
        if let traceResult {
            file.trace = traceResult.estimate
            file.traceStandardError = traceResult.standardError
            file.traceProbes = traceResult.probes
        }
        if let densityCurve {
            file.densityX = densityCurve.x
            file.density = densityCurve.density
            file.densityProbes = densityProbes
            file.densitySteps = maxIterations
        }
        var result = Result(file: file, lanczos: lanczos, trace: traceResult, density: densityResult, products: counted.count,
                            seconds: counted.seconds, densityFigures: [], eigenvectorCount: 0)
        if densityCurve != nil {
            guard let named = try SpectrumFigures.density(of: file, name: densityFigureBase) else {
                throw LandscapeError.invalidRequest("the density is empty")
            }
            result.densityFigures = try named.figure.write(to: named.name, formats: [.png])
        }
        if let eigenvectors, let lanczos, let vectors = lanczos.eigenvectors {
            let directions = vectors.prefix(min(2, lanczos.topCount)).map { Direction(values: op.expand($0)) }
            var metadata = DirectionMetadata()
            metadata.name(model)
            metadata.data = loaded.dataDescription
            metadata.hessianEigenvalues = lanczos.top.map { String($0) }.joined(separator: ",")
            metadata.parameters = HessianTensors(parameters)
            metadata.version = TerrainVersion.current
            try DirectionFile.write(Array(directions), groups: objective.groups, type: .weights, attributes: try metadata.attributes, to: eigenvectors)
            result.eigenvectorCount = directions.count
        }
        if let output { try file.write(to: output) }
        return result
    }

    /// The layers of `module` that have no R-operator (a layer type Terrain does not know), by
    /// name: asked before the first product, so that an unsupported layer is an error, not a trap.
    static func layersWithoutProducts(_ module: Module<Float>, name: String) -> [String] {
        if module is Sequential<Float> || module is Residual<Float> || module is DenseConcat<Float> {
            return module.children.flatMap { layersWithoutProducts($0.module, name: name.isEmpty ? $0.name : name + "." + $0.name) }
        }
        let supported = module is ONNXGraph<Float> || module is Linear<Float> || module is Conv2d<Float> || module is BatchNorm<Float>
            || module is ActivationLayer<Float> || module is MaxPool2d<Float> || module is AvgPool2d<Float>
            || module is GlobalAvgPool<Float> || module is Flatten<Float> || module is Dropout<Float>
            || module is Embedding<Float> || module is PositionEmbedding<Float> || module is LayerNorm<Float>
            || module is FeedForward<Float> || module is PatchEmbedding<Float> || module is SequenceMeanPool<Float>
            || module is MultiHeadSelfAttention<Float> || module is TransformerBlock<Float>
        return supported ? [] : ["\(name.isEmpty ? "(model)" : name) (\(type(of: module)))"]
    }
}
