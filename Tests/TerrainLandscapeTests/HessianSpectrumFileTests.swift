import Testing
import Foundation
import TerrainLandscape
import TerrainIO
import TerrainTensor
import TerrainTestSupport

@Suite("Hessian spectrum file")
struct HessianSpectrumFileTests {
    /// A spectrum as `terrain hessian` makes it: Lanczos on a matrix of known spectrum, the
    /// trace, the density.
    func measured() throws -> HessianSpectrumFile {
        let diagonal: [Double] = [5, 3, 2, 1, 0.5, -0.25]
        let n = diagonal.count
        var rows = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n { rows[i][i] = diagonal[i] }
        let matrix = try DenseSymmetricMatrix(rows: rows)
        let lanczos = try Lanczos.extremeEigenpairs(of: matrix, top: 2, bottom: 1, seed: 7)
        let trace = try HutchinsonTrace.estimate(of: matrix, maxProbes: 20, seed: 8)
        let curve = try SpectralDensity.estimate(of: matrix, steps: 6, seed: 9).density(gridPoints: 50)
        var file = HessianSpectrumFile(
            eigenvalues: lanczos.eigenvalues, residuals: lanczos.residuals, topCount: lanczos.topCount,
            bottomCount: lanczos.bottomCount, converged: lanczos.converged, checkpoint: "runs/a/final.safetensors",
            data: "digits train 200 test 200 subset 200 seed 0", set: .train, samples: 200, parameters: .leftOut,
            dimension: n, seed: 0xFFFF_FFFF_FFFF_FFF0, iterations: lanczos.iterations, version: "0.1.0")
        file.trace = trace.estimate
        file.traceStandardError = trace.standardError
        file.traceProbes = trace.probes
        file.densityX = curve.x
        file.density = curve.density
        file.densityProbes = 1
        file.densitySteps = 6
        return file
    }

    @Test func roundTripKeepsEveryDatasetAndAttribute() throws {
        let file = try measured()
        #expect(file.eigenvalues.count == 3)
        #expect(abs(file.eigenvalues[0] - 5) < 1e-9 && abs(file.eigenvalues[2] + 0.25) < 1e-9)
        #expect(abs(file.ratio! - 0.05) < 1e-9)
        let path = try temporaryPath("full.h5", label: "hessian")
        defer { unlink(path) }
        try file.write(to: path)
        let back = try HessianSpectrumFile.read(from: path)
        #expect(back == file)
        #expect(back.seed == 0xFFFF_FFFF_FFFF_FFF0)
        // Written atomically: nothing is left beside the file.
        let folder = (path as NSString).deletingLastPathComponent, name = (path as NSString).lastPathComponent
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(".\(name)") }
        #expect(leftovers.isEmpty)
    }

    @Test func roundTripWithoutTraceOrDensity() throws {
        var file = try measured()
        file.trace = nil; file.traceStandardError = nil; file.traceProbes = nil
        file.densityX = nil; file.density = nil; file.densityProbes = nil; file.densitySteps = nil
        file.seed = 42
        let path = try temporaryPath("lean.h5", label: "hessian")
        defer { unlink(path) }
        try file.write(to: path)
        #expect(try HessianSpectrumFile.read(from: path) == file)
    }

    @Test func traceOnlyHasNoEigenvalues() throws {
        var file = try measured()
        file.eigenvalues = []; file.residuals = []; file.topCount = 0; file.bottomCount = 0; file.iterations = 0
        let path = try temporaryPath("trace.h5", label: "hessian")
        defer { unlink(path) }
        try file.write(to: path)
        let back = try HessianSpectrumFile.read(from: path)
        #expect(back == file)
        #expect(back.ratio == nil && back.largest == nil)
    }

    @Test func refusesMismatchedListsAndOtherFiles() throws {
        var file = try measured()
        file.residuals.removeLast()
        let path = try temporaryPath("bad.h5", label: "hessian")
        defer { unlink(path) }
        #expect(throws: LandscapeError.self) { try file.write(to: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
        // A surface file is not a spectrum file.
        let surface = SurfaceFile(grid: SurfaceGrid(x: [0, 1], y: []), values: [.trainLoss: [1, 2]], directionFile: "d.h5")
        try surface.write(to: path)
        #expect(throws: LandscapeError.self) { try HessianSpectrumFile.read(from: path) }
        let missing = try temporaryPath("missing.h5", label: "hessian")
        #expect(throws: LandscapeError.self) { try HessianSpectrumFile.read(from: missing) }
    }

    /// The attributes are named `terrain.…` and the weight matrices are `matrices`, the spelling
    /// of `--parameters`.
    @Test func attributesTakeTheTerrainPrefix() throws {
        let file = try measured()
        let path = try temporaryPath("names.h5", label: "hessian")
        defer { unlink(path) }
        try file.write(to: path)
        let h5 = try HDF5File(path: path, mode: .readOnly)
        defer { h5.close() }
        let names = try h5.attributeNames()
        #expect(names.allSatisfy { $0.hasPrefix("terrain.") })
        #expect(Set(names).isSuperset(of: ["terrain.checkpoint", "terrain.set", "terrain.top_count", "terrain.scale", "terrain.version"]))
        #expect(try h5.attribute("terrain.parameters") == .string("matrices"))
    }

    /// A file written before the attributes took the prefix (`checkpoint`, …, `parameters` =
    /// `matrices-only`) still reads, with the same values.
    @Test func olderFilesWithoutThePrefixStillRead() throws {
        let file = try measured()
        let path = try temporaryPath("old.h5", label: "hessian")
        defer { unlink(path) }
        let h5 = try HDF5File(path: path, mode: .create)
        try h5.write(file.eigenvalues, shape: [file.eigenvalues.count], to: "eigenvalues")
        try h5.write(file.residuals, shape: [file.residuals.count], to: "residuals")
        try h5.write([file.trace!], shape: [], to: "trace")
        try h5.write([file.traceStandardError!], shape: [], to: "trace_standard_error")
        try h5.write(file.densityX!, shape: [file.densityX!.count], to: "density_x")
        try h5.write(file.density!, shape: [file.density!.count], to: "density")
        try h5.setAttribute("checkpoint", file.checkpoint)
        try h5.setAttribute("data", file.data)
        try h5.setAttribute("set", "train")
        try h5.setAttribute("samples", file.samples)
        try h5.setAttribute("parameters", "matrices-only")
        try h5.setAttribute("dimension", file.dimension)
        try h5.setAttribute("seed", String(file.seed))
        try h5.setAttribute("iterations", file.iterations)
        try h5.setAttribute("top_count", file.topCount)
        try h5.setAttribute("bottom_count", file.bottomCount)
        try h5.setAttribute("converged", file.converged ? 1 : 0)
        try h5.setAttribute("trace_probes", file.traceProbes!)
        try h5.setAttribute("density_probes", file.densityProbes!)
        try h5.setAttribute("density_steps", file.densitySteps!)
        try h5.setAttribute("scale", "mean")
        try h5.setAttribute("version", file.version)
        try h5.flush()
        h5.close()
        let back = try HessianSpectrumFile.read(from: path)
        #expect(back == file)
        #expect(back.parameters == .leftOut)
    }
}
