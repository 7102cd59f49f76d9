import Testing
import Foundation
import TerrainLandscape
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
            data: "digits train 200 test 200 subset 200 seed 0", set: .train, samples: 200, parameters: .matricesOnly,
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
}
