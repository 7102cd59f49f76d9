import ArgumentParser
import Foundation
import TerrainNN
import TerrainTraining
import TerrainLandscape
import TerrainPlot
import TerrainReport
import TerrainONNX
import TerrainIO

struct Hessian: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The spectrum of a checkpoint's Hessian: extreme eigenvalues, trace, density.",
        discussion: """
        Exact Hessian-vector products (Pearlmutter's R-operator) of the per-sample mean loss over \
        the evaluation set, in evaluation mode (BN uses running statistics). The top and bottom \
        eigenvalues come from one Lanczos run (residuals printed); --trace adds Hutchinson's \
        estimate with Rademacher probes, --density the spectral density by stochastic Lanczos \
        quadrature (PyHessian's), drawn as H_density.png. The reference sums per-batch products: \
        multiply eigenvalues and trace by the number of batches to compare.

        --eigenvectors D.h5 writes the top two eigenvectors as a direction file (xdirection, \
        ydirection), so `terrain surface --checkpoint C --directions D.h5` draws the loss along them.
        """)

    /// The parameters the Hessian covers.
    enum Parameters: String, ExpressibleByArgument, CaseIterable {
        case all, matrices
        var selection: HessianOperator.Selection { self == .all ? .all : .matricesOnly }
    }

    @Option(help: "The checkpoint.") var checkpoint: String?
    @Option(help: "An ONNX model instead (exported by torch.onnx.export); its data: --data FILE.npz.") var onnx: String?
    @Option(help: "How many of the largest eigenvalues.") var top: Int = 5
    @Option(help: "How many of the smallest eigenvalues.") var bottom: Int = 1
    @Flag(help: "Estimate the trace (Hutchinson, Rademacher probes).") var trace = false
    @Flag(help: "Estimate the spectral density (stochastic Lanczos quadrature) and draw it.") var density = false
    @Option(help: "all (every trainable tensor) or matrices (tensors with ≥ 2 dimensions, as the reference).")
    var parameters: Parameters = .all
    @Option(help: "Lanczos steps for the eigenvalues, and per density probe.") var maxIterations: Int = 100
    @Option(help: "Relative tolerance of the eigenpairs' residuals and of the trace's standard error (the trace stops when its relative standard error is below it).") var tolerance: Double = 1e-3
    @Option(help: "Most Rademacher probes for the trace.") var probes: Int = 100
    @Option(help: "Probe vectors of the density.") var densityProbes: Int = 1
    @Option(help: "Seed of the start and probe vectors.") var seed: UInt64 = 0
    @OptionGroup var evaluation: EvaluationOptions
    @Option(help: "Write the results to this HDF5 file.") var out: String?
    @Option(help: "Write the top two eigenvectors as a direction file (HDF5, the reference's layout).") var eigenvectors: String?
    @Option(help: "Also compute the convexity map (λmax, λmin at every point) of this surface file, as `terrain hessian-map --surface`.")
    var map: String?
    @Option(help: "Lanczos steps per point of the --map.") var mapIterations: Int = 20
    @Flag(help: "No progress on standard error.") var quiet = false
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard top >= 0 else { throw ValidationError("--top must be 0 or more, not \(top)") }
        guard bottom >= 0 else { throw ValidationError("--bottom must be 0 or more, not \(bottom)") }
        try OptionCheck.outputs(files: [out, eigenvectors].compactMap { $0 })
        try OptionCheck.count(top, "--top", in: 0...OptionCheck.maximumIterations)
        try OptionCheck.count(bottom, "--bottom", in: 0...OptionCheck.maximumIterations)
        try OptionCheck.count(maxIterations, "--max-iterations", in: 1...OptionCheck.maximumIterations)
        try OptionCheck.count(probes, "--probes", in: 1...OptionCheck.maximumIterations)
        try OptionCheck.count(densityProbes, "--density-probes", in: 1...OptionCheck.maximumIterations)
        try OptionCheck.count(mapIterations, "--map-iterations", in: 1...OptionCheck.maximumIterations)
        guard top + bottom > 0 || trace || density || eigenvectors != nil || map != nil else {
            throw ValidationError("nothing to compute: ask for --top or --bottom eigenvalues, --trace, --density, --eigenvectors or --map")
        }
        guard maxIterations >= 1 else { throw ValidationError("--max-iterations must be at least 1, not \(maxIterations)") }
        guard tolerance.isFinite, tolerance >= 0 else { throw ValidationError("--tolerance must be a number ≥ 0, not \(tolerance)") }
        guard probes >= 1 else { throw ValidationError("--probes must be at least 1, not \(probes)") }
        guard densityProbes >= 1 else { throw ValidationError("--density-probes must be at least 1, not \(densityProbes)") }
    }

    func run() throws {
        try compute.apply()
        try failing {
            let sets = try evaluation.sets()
            guard sets.count == 1 else { throw ValidationError("--data takes one set for a Hessian (train or test), not '\(evaluation.data)'") }
            let set = sets[0]
            // Folders for the outputs exist before minutes of products are spent.
            for path in [out, eigenvectors].compactMap({ $0 }) {
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
            let source = try ModelSource(checkpoint: checkpoint, onnx: onnx)
            let checkpoint = source.path
            let (objective, _, dataDescription) = try evaluation.objective(source)
            let unsupported = Self.layersWithoutProducts(objective.model, name: "")
            guard unsupported.isEmpty else {
                throw LandscapeError.invalidRequest("the model's layers \(unsupported.joined(separator: ", ")) cannot compute Hessian-vector products")
            }
            let samples = set == .train ? objective.data.train.count : objective.data.test.count
            guard samples > 0 else { throw LandscapeError.invalidRequest("the \(set.rawValue) set is empty") }
            let batches = (samples + objective.batchSize - 1) / objective.batchSize
            let selection = parameters.selection
            let op = HessianOperator(objective: objective, set: set, selection: selection)
            guard op.dimension > 0 else {
                throw LandscapeError.invalidRequest("the model has no \(selection == .all ? "trainable" : "matrix") parameters: there is no Hessian to measure")
            }
            let counted = CountingOperator(op)

            print("Hessian of the mean loss over \(samples) samples (the reference sums per-batch products: multiply by the number of batches to compare)")
            print("checkpoint: \(checkpoint)")
            print("data: \(dataDescription); the \(set.rawValue) set in \(batches) batch\(batches == 1 ? "" : "es") of ≤ \(objective.batchSize)")
            print("parameters: \(parameters == .all ? "all trainable tensors" : "tensors with ≥ 2 dimensions"): "
                  + "\(op.dimension) scalars in \(op.selectedGroups.count) tensors; evaluation mode (BN running statistics)")

            // Lanczos: the extreme eigenpairs (the top two vectors for --eigenvectors).
            let wantTop = eigenvectors != nil ? max(top, 2) : top
            var lanczos: LanczosResult?
            if wantTop + bottom > 0 {
                let progress = HVPProgress(label: "lanczos", total: min(maxIterations, op.dimension), counter: counted, quiet: quiet)
                lanczos = try Lanczos.extremeEigenpairs(of: counted, top: wantTop, bottom: bottom, maxIterations: maxIterations,
                                                        tolerance: tolerance, seed: seed, wantVectors: eigenvectors != nil,
                                                        progress: progress.update)
                progress.finish()
            }
            var traceResult: HutchinsonTrace.Result?
            if trace {
                let progress = HVPProgress(label: "trace", total: probes, counter: counted, quiet: quiet)
                traceResult = try HutchinsonTrace.estimate(of: counted, maxProbes: probes, tolerance: tolerance,
                                                           seed: seed &+ 1, progress: progress.update)
                progress.finish()
            }
            var densityCurve: (x: [Double], density: [Double])?
            var densityResult: SpectralDensity?
            if density {
                let steps = min(maxIterations, op.dimension)
                let progress = HVPProgress(label: "density", total: densityProbes * steps, counter: counted, quiet: quiet)
                let slq = try SpectralDensity.estimate(of: counted, probes: densityProbes, steps: maxIterations,
                                                       seed: seed &+ 2, progress: progress.update)
                progress.finish()
                densityResult = slq
                densityCurve = try slq.density(gridPoints: 10_000)
            }

            var file = HessianSpectrumFile(
                eigenvalues: lanczos?.eigenvalues ?? [], residuals: lanczos?.residuals ?? [],
                topCount: lanczos?.topCount ?? 0, bottomCount: lanczos?.bottomCount ?? 0, converged: lanczos?.converged ?? true,
                checkpoint: checkpoint, data: dataDescription, set: set, samples: samples, parameters: selection,
                dimension: op.dimension, seed: seed, iterations: lanczos?.iterations ?? 0, version: Terrain.version)
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

            print(String(format: "%d Hessian-vector products in %.1f s (%.2f per second)", counted.count, counted.seconds,
                         counted.seconds > 0 ? Double(counted.count) / counted.seconds : 0))
            if let lanczos {
                print("")
                print("Lanczos: \(lanczos.iterations) steps, " + (lanczos.converged
                      ? String(format: "converged (residuals ≤ %.0e·max|θ|)", tolerance)
                      : String(format: "NOT converged to %.0e (raise --max-iterations)", tolerance)))
                print("  eigenvalue           value       residual")
                for (i, (value, residual)) in zip(lanczos.eigenvalues, lanczos.residuals).enumerated() {
                    let label: String
                    if i < lanczos.topCount {
                        label = "λ\(i + 1)"
                    } else {
                        let fromEnd = lanczos.eigenvalues.count - 1 - i
                        label = fromEnd == 0 ? "λmin" : "λmin+\(fromEnd)"
                    }
                    print(Self.padded("  " + label, 14) + String(format: "%15.6e  %12.3e", value, residual))
                }
                if let ratio = file.ratio, let a = file.largest, let b = file.smallest {
                    print(String(format: "|λmin/λmax| = %.4e  (λmax %.6e, λmin %.6e%@)", ratio, a, b,
                                 b < 0 ? ": negative curvature" : ""))
                }
            }
            if let traceResult {
                print("")
                // The stopping rule is on the standard error, so the line says how far it got.
                let relative = traceResult.relativeStandardError
                let stop = traceResult.stoppedEarly
                    ? String(format: "relative standard error %.1e, below the tolerance %.0e", relative, tolerance)
                    : String(format: "relative standard error %.1e%@", relative,
                             tolerance > 0 && !(relative < tolerance) ? String(format: ", above the tolerance %.0e (raise --probes)", tolerance) : "")
                print(String(format: "trace: %.6e ± %.2e (Hutchinson, %d Rademacher probe%@; %@)", traceResult.estimate,
                             traceResult.standardError, traceResult.probes, traceResult.probes == 1 ? "" : "s", stop))
            }
            if let densityResult, let densityCurve {
                let (lower, upper) = densityResult.bounds
                print("")
                print(String(format: "density: stochastic Lanczos quadrature, %d probe%@ × %d steps; nodes in [%.4e, %.4e]; σ² = %.2e; %d grid points",
                             densityProbes, densityProbes == 1 ? "" : "s", min(maxIterations, op.dimension), lower, upper,
                             densityResult.defaultSigmaSquared, densityCurve.x.count))
                let base = Self.figureBase(out: out, checkpoint: checkpoint)
                guard let named = try SpectrumFigures.density(of: file, name: base) else {
                    throw LandscapeError.invalidRequest("the density is empty")
                }
                let paths = try named.figure.write(to: named.name, formats: [.png])
                print("density figure: \(paths.joined(separator: ", "))")
            }
            if let eigenvectors, let lanczos, let vectors = lanczos.eigenvectors {
                let directions = vectors.prefix(min(2, lanczos.topCount)).map { Direction(values: op.expand($0)) }
                try DirectionFile.write(Array(directions), groups: objective.groups, type: .weights,
                                        attributes: [source.attributeKey: checkpoint, "terrain.data": dataDescription,
                                                     "terrain.hessian_eigenvalues": lanczos.top.map { String($0) }.joined(separator: ","),
                                                     "terrain.parameters": selection.rawValue, "terrain.version": Terrain.version],
                                        to: eigenvectors)
                print("top \(directions.count) eigenvector\(directions.count == 1 ? "" : "s") (unit length) written to \(eigenvectors) "
                      + "as xdirection\(directions.count > 1 ? "/ydirection" : ""): terrain surface --\(source == .onnx(checkpoint) ? "onnx" : "checkpoint") \(checkpoint) --directions \(eigenvectors)")
            }
            if let out {
                try file.write(to: out)
                print("written to \(out)")
            }
            if let map {
                // The same Hessian at every point of a surface: `terrain hessian-map` with these options.
                print("\nconvexity map of \(map)")
                var arguments = ["--surface", map, source == .onnx(checkpoint) ? "--onnx" : "--checkpoint", checkpoint, "--parameters", parameters.rawValue,
                                 "--iterations", "\(mapIterations)", "--tolerance", "\(tolerance)", "--seed", "\(seed)",
                                 "--data", evaluation.data, "--batch-size", "\(evaluation.batchSize)",
                                 "--subset-seed", "\(evaluation.subsetSeed)", "--spread", evaluation.spread.rawValue]
                if let dataset = evaluation.dataset { arguments += ["--dataset", dataset] }
                if let subset = evaluation.subset { arguments += ["--subset", "\(subset)"] }
                if let model = evaluation.model { arguments += ["--model", model] }
                if evaluation.normalize { arguments.append("--normalize") }
                if quiet { arguments.append("--quiet") }
                try HessianMap.parse(arguments).run()
            }
        }
    }

    /// Where the density figure goes: beside --out (H.h5 → H_density.png), or beside the
    /// checkpoint (C.safetensors → C_hessian_density.png).
    static func figureBase(out: String?, checkpoint: String) -> String {
        if let out { return out.hasSuffix(".h5") ? String(out.dropLast(3)) : out }
        var c = checkpoint
        for suffix in [".safetensors", ".onnx"] where c.hasSuffix(suffix) { c = String(c.dropLast(suffix.count)) }
        return c + "_hessian"
    }

    static func padded(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
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
        return supported ? [] : ["\(name.isEmpty ? "(model)" : name) (\(type(of: module)))"]
    }
}

/// A `SymmetricOperator` that counts and times its products (for the progress line and summary).
final class CountingOperator<Base: SymmetricOperator>: SymmetricOperator {
    let base: Base
    private(set) var count = 0
    private(set) var seconds = 0.0
    init(_ base: Base) { self.base = base }
    var dimension: Int { base.dimension }
    func apply(_ v: [Double]) throws -> [Double] {
        let start = Date()
        defer { count += 1; seconds += Date().timeIntervalSince(start) }
        return try base.apply(v)
    }
}

/// Progress of one phase on standard error: products done, products per second, ETA.
final class HVPProgress<Base: SymmetricOperator> {
    private let bar: ProgressBar
    private let counter: CountingOperator<Base>
    private let startCount: Int
    private let start = Date()

    init(label: String, total: Int, counter: CountingOperator<Base>, quiet: Bool) {
        bar = ProgressBar(total: total, label: "hessian: \(label) HVP")
        bar.enabled = !quiet
        self.counter = counter
        startCount = counter.count
    }

    func update(_ done: Int) {
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(counter.count - startCount) / elapsed : 0
        bar.update(done, String(format: "%.2f HVP/s  %d HVPs in all", rate, counter.count))
    }

    func finish() { bar.finish() }
}
