import Foundation
import TerrainLandscape
import TerrainObjectives
import TerrainReport

/// How a bf16 run (`--precision bf16`, `EvaluationPrecision`) measures its own error: a fixed
/// sample of its grid's points is evaluated both in bf16, exactly as the grid evaluates it, and
/// in Float, and the largest loss difference is stored in the file and said in the summary.
///
/// **The points.** The centre (the grid point nearest α = β = 0) and the four corners of a 2D
/// grid, the centre and both ends of a 1D one: where the loss is lowest and where it is highest
/// and moves fastest. A stack of surfaces (`evolve`) checks its first surface (the first frame's,
/// riding; the one plane, fixed PCA). Every set the run evaluates is checked.
///
/// **The error.** For each point p and set, Δ = |L_bf16(p) − L_fp32(p)|; the file gets the
/// largest Δ (`terrain.bf16.max_abs_error`) and the largest Δ / s, where s is the contour
/// spacing around the two values: the smallest gap between neighbouring levels of the loss
/// figure's filled contours (`FigureLevels.refinement()`, over the stored surface's finite
/// losses of that set) from the last level at or below min(L_bf16, L_fp32) to the first at or
/// above their max (`RefinementLevels.spacing`, the definition adaptive refinement's tolerance
/// uses). An error of 0.1 spacings moves a contour line a tenth of the way to its neighbour.
/// A point whose loss is not finite in either precision is listed but left out of both maxima.
enum PrecisionCheck {
    /// The grid points checked, in order and without repeats: the centre, then the corners
    /// (2D: (x₀, y₀), (x_last, y₀), (x₀, y_last), (x_last, y_last)) or the ends (1D).
    static func checkedPoints(of grid: SurfaceGrid) -> [Int] {
        guard grid.pointCount > 0 else { return [] }
        let lastColumn = grid.x.count - 1
        var points = [grid.centrePoint, 0, lastColumn]
        if grid.isTwoDimensional {
            let lastRow = (grid.y.count - 1) * grid.x.count
            points += [lastRow, lastRow + lastColumn]
        }
        var seen = Set<Int>()
        return points.filter { seen.insert($0).inserted }
    }

    /// Evaluates the checked points of `surface` (whose objective is `network`, computing in bf16)
    /// in bf16 and in Float, and compares them; `stored` holds the file's values of the checked
    /// surface (per loss quantity, one per grid point), whose finite losses set the contour levels.
    /// `network` is left in bf16 at the surface's centre.
    static func measure(network: ModelObjective<Float>, surface: SurfaceComputation,
                        stored: [SurfaceQuantity: [Double]]) throws -> PrecisionMetadata {
        precondition(network.precision == .bf16, "the check compares a bf16 run with Float")
        let grid = surface.grid
        let points = checkedPoints(of: grid)
        let plane = ObjectivePlane(center: surface.center, x: surface.xDirection.values, y: surface.yDirection?.values)
        // bf16 as the grid computes it (on the plane, so an MLP's first layer takes the same
        // path), then every point again in Float: the compiled programs are made once per precision.
        // Each precision's evaluations are timed after its first point (which may build its
        // program): how fast bf16 was here is part of what the check says.
        var reduced: [[Double]] = []
        var reducedSeconds = 0.0
        for (k, point) in points.enumerated() {
            let (alpha, beta) = grid.coordinates(of: point)
            network.setParameters(surface.parameters(at: point), on: plane, alpha: alpha, beta: beta)
            let start = Date()
            reduced.append(try surface.sets.map { try network.evaluate($0).loss })
            if k > 0 { reducedSeconds += Date().timeIntervalSince(start) }
        }
        network.precision = .fp32
        defer {
            network.precision = .bf16
            network.setParameters(surface.center)
        }
        var full: [[Double]] = []
        var fullSeconds = 0.0
        for (k, point) in points.enumerated() {
            network.setParameters(surface.parameters(at: point))
            let start = Date()
            full.append(try surface.sets.map { try network.evaluate($0).loss })
            if k > 0 { fullSeconds += Date().timeIntervalSince(start) }
        }
        let levels = FigureLevels.refinement()
        var metadata = PrecisionMetadata()
        metadata.maxAbsoluteError = 0
        metadata.maxErrorInContourSpacings = 0
        var lines: [String] = []
        for (s, set) in surface.sets.enumerated() {
            let quantity: SurfaceQuantity = set == .train ? .trainLoss : .testLoss
            let finite = (stored[quantity] ?? []).filter(\.isFinite)
            for (k, point) in points.enumerated() {
                let (a, b) = (reduced[k][s], full[k][s])
                let (alpha, beta) = grid.coordinates(of: point)
                let place = grid.isTwoDimensional ? "(\(format(alpha)), \(format(beta)))" : "\(format(alpha))"
                lines.append("\(set.rawValue) \(place): bf16 \(format(a)) fp32 \(format(b))")
                guard a.isFinite, b.isFinite else { continue }
                let difference = abs(a - b)
                let spacing = levels.spacing(low: min(a, b), high: max(a, b), finiteValues: finite.isEmpty ? [a, b] : finite)
                metadata.maxAbsoluteError = max(metadata.maxAbsoluteError!, difference)
                metadata.maxErrorInContourSpacings = max(metadata.maxErrorInContourSpacings!, difference == 0 ? 0 : difference / spacing)
            }
        }
        metadata.checkedPoints = points.map { point in
            let (alpha, beta) = grid.coordinates(of: point)
            return grid.isTwoDimensional ? "(\(format(alpha)), \(format(beta)))" : format(alpha)
        }.joined(separator: " ")
        metadata.checkedLosses = lines.joined(separator: "; ")
        if points.count > 1 {
            metadata.checkSecondsBF16 = reducedSeconds
            metadata.checkSecondsFP32 = fullSeconds
        }
        return metadata
    }

    /// Checks a finished bf16 surface and adds what it found to `file`, which is rewritten at
    /// `path` (by the writing rank); the summary line goes to `progress`. Nothing for Float.
    /// A file that holds a check already (a complete surface run again: a run's own file starts
    /// without one) keeps it, and its summary is said again.
    static func record(network: ModelObjective<Float>?, surface: SurfaceComputation, in file: inout SurfaceFile,
                       path: String, progress: RequestProgress) throws {
        guard let network, network.precision == .bf16, Distributed.world.isWriter else { return }
        if let stored = try? FileAttributes(text: file.textAttributes, numbers: file.numberAttributes).decode(PrecisionMetadata.self),
           stored.maxAbsoluteError != nil {
            progress.note(stored.summary)
            return
        }
        let stored = file.values.mapValues { Array($0.prefix(surface.grid.pointCount)) }
        let metadata = try measure(network: network, surface: surface, stored: stored)
        let attributes = try FileAttributes(encoding: metadata)
        file.textAttributes.merge(attributes.text) { $1 }
        file.numberAttributes.merge(attributes.numbers) { $1 }
        try file.write(to: path)
        progress.note(metadata.summary)
    }

    /// Six significant digits, enough to show a bf16 error.
    private static func format(_ value: Double) -> String { value.isNaN ? "nan" : String(format: "%.6g", value) }

    /// Refuses `precision` where this process cannot compute in it (the CPU lacks bf16:
    /// `ModelObjective.unavailability(of:)`), before any model or data is loaded.
    static func checkAvailable(_ precision: EvaluationPrecision) throws {
        if let reason = ModelObjective<Float>.unavailability(of: precision) {
            throw RequestError("--precision \(precision.rawValue) is unavailable: \(reason); run in fp32 (the default)")
        }
    }

    /// Sets `network` to compute in `precision`, or says why it cannot: the CPU lacks bf16, or
    /// the model (named `model`) has no compiled path and would run layer by layer in fp32,
    /// which a bf16 request must not do silently.
    static func apply(_ precision: EvaluationPrecision, to network: ModelObjective<Float>, model: String) throws {
        guard precision != .fp32 else { return }
        try checkAvailable(precision)
        network.precision = precision
        guard network.evaluatesCompiled else {
            let forced = network.evaluationPath == .layerByLayer ? " (TERRAIN_EVALUATION=layers asks for the layers)" : ""
            throw RequestError("--precision \(precision.rawValue) runs on the compiled evaluation, and \(model) is evaluated layer by layer\(forced), "
                               + "which computes in fp32 only: run it in fp32 (the default)")
        }
    }

    /// What `fingerprint`s of a run in `precision` add to the data's description: nothing for
    /// Float (files of earlier versions resume), " precision bf16" otherwise, so that a bf16 run
    /// never resumes a Float file or the other way round.
    static func fingerprintTag(_ precision: EvaluationPrecision) -> String {
        precision == .fp32 ? "" : " precision \(precision.rawValue)"
    }
}

/// What a bf16 run adds to its surface file once it is computed (`PrecisionCheck`), beside
/// `terrain.precision` (`SurfaceMetadata.precision`); a Float run writes none of it.
public struct PrecisionMetadata: Codable, Equatable, Sendable {
    /// The checked grid points' coordinates: "(α, β)" each (1D: α), the centre first.
    public var checkedPoints: String?
    /// Per set and point: "train (α, β): bf16 L fp32 L", joined by "; ".
    public var checkedLosses: String?
    /// max |L_bf16 − L_fp32| over the checked points and sets.
    public var maxAbsoluteError: Double?
    /// max |L_bf16 − L_fp32| / (the figures' contour spacing there).
    public var maxErrorInContourSpacings: Double?
    /// The seconds the checked points after the first took to evaluate in bf16, and in fp32: how
    /// fast bf16 was on this machine (nil for a grid of one point).
    public var checkSecondsBF16: Double?
    public var checkSecondsFP32: Double?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case checkedPoints = "terrain.bf16.checked_points", checkedLosses = "terrain.bf16.checked_losses"
        case maxAbsoluteError = "terrain.bf16.max_abs_error", maxErrorInContourSpacings = "terrain.bf16.max_error_in_contour_spacings"
        case checkSecondsBF16 = "terrain.bf16.check_seconds_bf16", checkSecondsFP32 = "terrain.bf16.check_seconds_fp32"
    }

    /// The summary's line.
    public var summary: String {
        "bf16 error, recomputed in fp32 at \(checkedPoints ?? "no points"): largest loss difference "
            + String(format: "%.3g (%.3g contour spacings)", maxAbsoluteError ?? .nan, maxErrorInContourSpacings ?? .nan)
            + (speed.map { "; " + $0 } ?? "")
    }

    /// "bf16 1.9x as fast as fp32 at those points (0.41 s against 0.78 s)", and where bf16 was the
    /// slower, that fp32 (the default) is the faster choice on this machine.
    public var speed: String? {
        guard let bf16 = checkSecondsBF16, let fp32 = checkSecondsFP32, bf16 > 0, fp32 > 0 else { return nil }
        let ratio = fp32 / bf16
        return String(format: "bf16 %.2fx as fast as fp32 at those points (%.3g s against %.3g s)", ratio, bf16, fp32)
            + (ratio < 1 ? ": slower here, fp32 (the default) is the faster choice on this machine" : "")
    }
}
