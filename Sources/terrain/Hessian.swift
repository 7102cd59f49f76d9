import ArgumentParser
import Foundation
import TerrainLandscape
import TerrainRequests

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

    @OptionGroup var model: ModelOptions
    @Option(help: "How many of the largest eigenvalues.") var top: Int = 5
    @Option(help: "How many of the smallest eigenvalues.") var bottom: Int = 1
    @Flag(help: "Estimate the trace (Hutchinson, Rademacher probes).") var trace = false
    @Flag(help: "Estimate the spectral density (stochastic Lanczos quadrature) and draw it.") var density = false
    @Option(help: "all (every trainable tensor) or matrices (tensors with ≥ 2 dimensions, as the reference).")
    var parameters = HessianTensors(.included)
    @Option(help: "Lanczos steps for the eigenvalues, and per density probe.") var maxIterations: Int = 100
    @Option(help: "Relative tolerance of the eigenpairs' residuals and of the trace's standard error (the trace stops when its relative standard error is below it).") var tolerance: Double = 1e-3
    @Option(help: "Most Rademacher probes for the trace.") var probes: Int = 100
    @Option(help: "Probe vectors of the density.") var densityProbes: Int = 1
    @Option(help: "Seed of the start and probe vectors.") var seed: UInt64 = 0
    @Option(help: "Hessian-vector products computed at once by --trace's probes and --density's Lanczos runs, which share the passes that depend on the weights alone (1 to \(HessianRequest.maximumProbeBlock); the same estimates as 1 up to Float rounding).")
    var probeBlock: Int = HessianRequest.defaultProbeBlock
    @Option(help: "Most memory for the results of the passes that depend on the weights alone, kept across the products at these weights (e.g. 512M, 2G; 0: keep none). Default: a quarter of the available memory, with --probe-block above 1.")
    var memory: ByteCount?
    @OptionGroup var evaluation: EvaluationOptions
    @Option(help: "Write the results to this HDF5 file.") var out: String?
    @Option(help: "Write the top two eigenvectors as a direction file (HDF5, the reference's layout).") var eigenvectors: String?
    @Option(help: "Also compute the convexity map (λmax, λmin at every point) of this surface file, as `terrain hessian-map --surface`.")
    var map: String?
    @Option(help: "Lanczos steps per point of the --map, at most (hessian-map's --max-iterations).") var mapMaxIterations: Int?
    @Option(name: .customLong("map-iterations"), help: .hidden) var oldMapIterations: Int?
    @OptionGroup var progress: ProgressOptions
    @OptionGroup var compute: ComputeOptions

    /// `--map-max-iterations`, once `--map-iterations`.
    var mapIterations: RenamedOption<Int> {
        RenamedOption(old: oldMapIterations, oldName: "--map-iterations", new: mapMaxIterations, newName: "--map-max-iterations", defaultValue: 20)
    }

    func validate() throws {
        try mapIterations.check()
        try OptionCheck.outputs(files: [out, eigenvectors].compactMap { $0 })
        try OptionCheck.count(top, "--top", in: 0...OptionCheck.maximumIterations)
        try OptionCheck.count(bottom, "--bottom", in: 0...OptionCheck.maximumIterations)
        try OptionCheck.count(maxIterations, "--max-iterations", in: 1...OptionCheck.maximumIterations)
        try OptionCheck.count(probes, "--probes", in: 1...OptionCheck.maximumIterations)
        try OptionCheck.count(densityProbes, "--density-probes", in: 1...OptionCheck.maximumIterations)
        try OptionCheck.count(probeBlock, "--probe-block", in: 1...HessianRequest.maximumProbeBlock)
        try OptionCheck.count(mapIterations.value, "--map-max-iterations", in: 1...OptionCheck.maximumIterations)
        // Then the request's own checks (tolerance, something to compute), in its words.
        do { try request.validate(alsoMapping: map != nil) } catch let error as RequestError { throw ValidationError(error.description) }
    }

    /// The options as the library's request.
    var request: HessianRequest {
        get throws {
            HessianRequest(model: try model.source(evaluation), data: try evaluation.evaluationData(),
                           top: top, bottom: bottom, trace: trace, density: density, parameters: parameters.tensors,
                           maxIterations: maxIterations, tolerance: tolerance, probes: probes, densityProbes: densityProbes,
                           seed: seed, probeBlock: probeBlock, memory: memory?.bytes, output: out, eigenvectors: eigenvectors)
        }
    }

    func run() throws {
        try compute.apply()
        try failing {
            let request = try request
            let result = try request.run(progress: progress.progress)
            let modelPath = request.model.path ?? ""
            print(String(format: "%d Hessian-vector products in %.1f s (%.2f per second)", result.products, result.seconds,
                         result.seconds > 0 ? Double(result.products) / result.seconds : 0))
            if let lanczos = result.lanczos {
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
                if let ratio = result.file.ratio, let a = result.file.largest, let b = result.file.smallest {
                    print(String(format: "|λmin/λmax| = %.4e  (λmax %.6e, λmin %.6e%@)", ratio, a, b,
                                 b < 0 ? ": negative curvature" : ""))
                }
            }
            if let traceResult = result.trace {
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
            if let densityResult = result.density {
                let (lower, upper) = densityResult.bounds
                print("")
                print(String(format: "density: stochastic Lanczos quadrature, %d probe%@ × %d steps; nodes in [%.4e, %.4e]; σ² = %.2e; %d grid points",
                             densityProbes, densityProbes == 1 ? "" : "s", min(maxIterations, result.file.dimension), lower, upper,
                             densityResult.defaultSigmaSquared, result.file.densityX?.count ?? 0))
                print("density figure: \(result.densityFigures.joined(separator: ", "))")
            }
            if let eigenvectors, result.eigenvectorCount > 0 {
                let count = result.eigenvectorCount
                print("top \(count) eigenvector\(count == 1 ? "" : "s") (unit length) written to \(eigenvectors) "
                      + "as xdirection\(count > 1 ? "/ydirection" : ""): terrain surface --\(request.model.isONNX ? "onnx" : "checkpoint") \(modelPath) --directions \(eigenvectors)")
            }
            if let out { print("written to \(out)") }
            if let map {
                // The same Hessian at every point of a surface: `terrain hessian-map` with these options.
                print("\nconvexity map of \(map)")
                let mapRequest = CurvatureMapRequest(surface: map, model: request.model, data: request.data, parameters: parameters.tensors,
                                                     iterations: mapIterations.value, tolerance: tolerance, seed: seed,
                                                     memory: memory?.bytes)
                let result = try mapRequest.run(progress: progress.progress)
                if Distributed.world.isWriter { HessianMap.summarize(result, path: mapRequest.outputPath) }
            }
        }
    }

    static func padded(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}
