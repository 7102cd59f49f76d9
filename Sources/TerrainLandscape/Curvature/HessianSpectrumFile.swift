import Foundation
import TerrainIO
import TerrainTensor

/// What `terrain hessian` measured about a checkpoint's Hessian, as an HDF5 file that h5py reads:
///
///     eigenvalues            float64 [k]   descending: the top ones, then the bottom ones
///     residuals              float64 [k]   ‖Hy − λy‖ of each pair, in the same order
///     trace                  float64 []    Hutchinson's estimate (with --trace)
///     trace_standard_error   float64 []    its standard error (with --trace)
///     density_x, density     float64 [m]   the SLQ spectral density on a grid (with --density)
///
/// Root attributes, named `terrain.…` like every Terrain file's: `terrain.checkpoint`,
/// `terrain.data` (the data description), `terrain.set` (train or test), `terrain.samples`,
/// `terrain.parameters` (all or matrices), `terrain.dimension` (scalars the Hessian covers),
/// `terrain.seed`, `terrain.iterations` (Lanczos steps), `terrain.top_count`,
/// `terrain.bottom_count`, `terrain.converged` (0/1), `terrain.trace_probes`,
/// `terrain.density_probes`, `terrain.density_steps`, `terrain.version`, and `terrain.scale` =
/// "mean" (the Hessian of the per-sample mean loss; the reference sums per-batch products, which
/// is this one times the number of batches).
///
/// Files written before the attributes took the prefix (`checkpoint`, …, with `parameters` =
/// `matrices-only` for the weight matrices) are read as well.
///
/// Written atomically (a temporary file beside the target, renamed over it).
public struct HessianSpectrumFile: Sendable, Equatable {
    /// Eigenvalue estimates, descending: the `topCount` largest, then the `bottomCount` smallest.
    public var eigenvalues: [Double]
    /// Residual norms of the eigenpairs, in the order of `eigenvalues`.
    public var residuals: [Double]
    public var topCount: Int
    public var bottomCount: Int
    public var converged: Bool
    public var trace: Double?
    public var traceStandardError: Double?
    public var traceProbes: Int?
    public var densityX: [Double]?
    public var density: [Double]?
    public var densityProbes: Int?
    public var densitySteps: Int?

    public var checkpoint: String
    public var data: String
    public var set: EvaluationSet
    public var samples: Int
    /// Which trainable tensors the Hessian covers: all (`.included`) or matrices (`.leftOut`).
    public var parameters: OneDimensionalTensors
    public var dimension: Int
    public var seed: UInt64
    public var iterations: Int
    public var version: String

    public init(eigenvalues: [Double], residuals: [Double], topCount: Int, bottomCount: Int, converged: Bool,
                checkpoint: String, data: String, set: EvaluationSet, samples: Int,
                parameters: OneDimensionalTensors, dimension: Int, seed: UInt64, iterations: Int, version: String) {
        self.eigenvalues = eigenvalues; self.residuals = residuals
        self.topCount = topCount; self.bottomCount = bottomCount; self.converged = converged
        self.checkpoint = checkpoint; self.data = data; self.set = set; self.samples = samples
        self.parameters = parameters; self.dimension = dimension; self.seed = seed
        self.iterations = iterations; self.version = version
    }

    /// λmax, the largest eigenvalue found (nil without top eigenvalues).
    public var largest: Double? { topCount > 0 ? eigenvalues.first : nil }
    /// λmin, the smallest eigenvalue found (nil without bottom eigenvalues).
    public var smallest: Double? { bottomCount > 0 ? eigenvalues.last : nil }
    /// |λmin/λmax|, the reference's convexity measure (nil unless both ends were asked for).
    public var ratio: Double? {
        guard let a = largest, let b = smallest, a != 0 else { return nil }
        return abs(b / a)
    }

    public func write(to path: String) throws {
        guard eigenvalues.count == residuals.count else {
            throw LandscapeError.invalidRequest("\(eigenvalues.count) eigenvalues but \(residuals.count) residuals")
        }
        guard (densityX == nil) == (density == nil), densityX?.count ?? 0 == density?.count ?? 0 else {
            throw LandscapeError.invalidRequest("the density needs as many values as grid points")
        }
        try HDF5File.writeAtomically(to: path, what: "the Hessian spectrum") { file in
            // HDF5 keeps no empty dataset here: an empty list is simply absent.
            if !eigenvalues.isEmpty {
                try file.write(eigenvalues, shape: [eigenvalues.count], to: "eigenvalues")
                try file.write(residuals, shape: [residuals.count], to: "residuals")
            }
            if let trace { try file.write([trace], shape: [], to: "trace") }
            if let traceStandardError { try file.write([traceStandardError], shape: [], to: "trace_standard_error") }
            if let densityX, let density, !density.isEmpty {
                try file.write(densityX, shape: [densityX.count], to: "density_x")
                try file.write(density, shape: [density.count], to: "density")
            }
            let p = Self.attributePrefix
            try file.setAttribute(p + "checkpoint", checkpoint)
            try file.setAttribute(p + "data", data)
            try file.setAttribute(p + "set", set.rawValue)
            try file.setAttribute(p + "samples", samples)
            try file.setAttribute(p + "parameters", parameters.hessianName)
            try file.setAttribute(p + "dimension", dimension)
            if seed <= UInt64(Int.max) { try file.setAttribute(p + "seed", Int(seed)) } else { try file.setAttribute(p + "seed", String(seed)) }
            try file.setAttribute(p + "iterations", iterations)
            try file.setAttribute(p + "top_count", topCount)
            try file.setAttribute(p + "bottom_count", bottomCount)
            try file.setAttribute(p + "converged", converged ? 1 : 0)
            if let traceProbes { try file.setAttribute(p + "trace_probes", traceProbes) }
            if let densityProbes { try file.setAttribute(p + "density_probes", densityProbes) }
            if let densitySteps { try file.setAttribute(p + "density_steps", densitySteps) }
            try file.setAttribute(p + "scale", "mean")
            try file.setAttribute(p + "version", version)
        }
    }

    /// The prefix of the file's attribute names.
    public static let attributePrefix = "terrain."

    public static func read(from path: String) throws -> HessianSpectrumFile {
        do {
            let file = try HDF5File(path: path, mode: .readOnly)
            defer { file.close() }
            func vector(_ name: String) throws -> [Double]? {
                file.exists(name) ? try file.readDoubles(name).values : nil
            }
            func scalar(_ name: String) throws -> Double? {
                guard let v = try vector(name) else { return nil }
                guard v.count == 1 else { throw LandscapeError.incompatibleFile(path, "\(name) holds \(v.count) values, not 1") }
                return v[0]
            }
            /// The attribute `terrain.NAME`, or `NAME` in a file written before the prefix.
            func attribute(_ name: String) throws -> HDF5AttributeValue? {
                try file.attribute(Self.attributePrefix + name) ?? file.attribute(name)
            }
            func text(_ name: String) throws -> String {
                guard let s = try attribute(name)?.string else {
                    throw LandscapeError.incompatibleFile(path, "no text attribute '\(name)': not a Hessian spectrum file")
                }
                return s
            }
            func integer(_ name: String) throws -> Int? {
                guard let value = try attribute(name) else { return nil }
                guard let i = value.int else { throw LandscapeError.incompatibleFile(path, "attribute '\(name)' is not an integer") }
                return i
            }
            func required(_ name: String) throws -> Int {
                guard let i = try integer(name) else {
                    throw LandscapeError.incompatibleFile(path, "no attribute '\(name)': not a Hessian spectrum file")
                }
                return i
            }
            let eigenvalues = try vector("eigenvalues") ?? []
            let residuals = try vector("residuals") ?? []
            guard eigenvalues.count == residuals.count else {
                throw LandscapeError.incompatibleFile(path, "\(eigenvalues.count) eigenvalues but \(residuals.count) residuals")
            }
            guard let set = EvaluationSet(rawValue: try text("set")) else {
                throw LandscapeError.incompatibleFile(path, "unknown set '\(try text("set"))'")
            }
            guard let parameters = OneDimensionalTensors(hessianName: try text("parameters")) else {
                throw LandscapeError.incompatibleFile(path, "unknown parameter selection '\(try text("parameters"))'")
            }
            let seed: UInt64
            switch try attribute("seed") {
            case .string(let s)?: guard let v = UInt64(s) else { throw LandscapeError.incompatibleFile(path, "bad seed '\(s)'") }; seed = v
            case let value?: guard let i = value.int, i >= 0 else { throw LandscapeError.incompatibleFile(path, "bad seed") }; seed = UInt64(i)
            case nil: throw LandscapeError.incompatibleFile(path, "no attribute 'seed': not a Hessian spectrum file")
            }
            let topCount = try required("top_count"), bottomCount = try required("bottom_count")
            guard topCount >= 0, bottomCount >= 0, topCount + bottomCount >= eigenvalues.count,
                  topCount <= eigenvalues.count, bottomCount <= eigenvalues.count else {
                throw LandscapeError.incompatibleFile(path, "top_count \(topCount) and bottom_count \(bottomCount) do not fit \(eigenvalues.count) eigenvalues")
            }
            var result = HessianSpectrumFile(
                eigenvalues: eigenvalues, residuals: residuals, topCount: topCount, bottomCount: bottomCount,
                converged: try required("converged") != 0, checkpoint: try text("checkpoint"), data: try text("data"), set: set,
                samples: try required("samples"), parameters: parameters, dimension: try required("dimension"), seed: seed,
                iterations: try required("iterations"), version: try text("version"))
            result.trace = try scalar("trace")
            result.traceStandardError = try scalar("trace_standard_error")
            result.traceProbes = try integer("trace_probes")
            result.densityX = try vector("density_x")
            result.density = try vector("density")
            guard result.densityX?.count == result.density?.count else {
                throw LandscapeError.incompatibleFile(path, "density_x and density differ in length")
            }
            result.densityProbes = try integer("density_probes")
            result.densitySteps = try integer("density_steps")
            return result
        } catch let error as LandscapeError {
            throw error
        } catch {
            throw LandscapeError.incompatibleFile(path, "cannot read the Hessian spectrum: \(error)")
        }
    }
}
