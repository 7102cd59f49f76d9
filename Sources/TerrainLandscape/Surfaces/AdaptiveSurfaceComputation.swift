import Foundation

/// A 2D loss surface computed at the points an `AdaptiveRefinement` asks for, round after round,
/// and interpolated elsewhere: what `terrain surface --adaptive` runs through `SurfaceRunner`.
///
/// The refinement is guided by the losses the surface holds (train_loss, test_loss: a cell is
/// refined when either is unresolved); accuracies are computed at the same points and filled the
/// same way. Until the plan is finished the file holds NaN at points not computed yet, as any
/// surface in progress; the finished file holds every point, with
///
///     computed_mask  float64 (len(y), len(x)): 1 where computed, 0 where interpolated
///     terrain.adaptive.levels, .tolerance, .points_computed, .points_total   (attributes)
///
/// A sampled surface (`SurfaceSampler`) stores 0 samples and a NaN standard error where a point
/// was interpolated, so `terrain.sampling.samples_evaluated` is the whole saving against the
/// exact full grid.
///
/// Resuming adopts only points the mask (or, in a file in progress, a value) marks as computed,
/// and the plan is replayed from them: its decisions depend only on computed values, so a killed
/// run finishes with the same file as an uninterrupted one.
public final class AdaptiveSurfaceComputation: GridComputation {
    public let surface: SurfaceComputation
    public let plan: AdaptiveRefinement

    /// The dataset marking computed points.
    public static let maskName = "computed_mask"
    public static let attributePrefix = "terrain.adaptive."

    public init(surface: SurfaceComputation, levels: Int, tolerance: Double, contourLevels: RefinementLevels) throws {
        guard surface.quantities.contains(where: Self.guides) else {
            throw LandscapeError.invalidRequest("adaptive refinement follows a loss: evaluate on train or test")
        }
        self.surface = surface
        plan = try AdaptiveRefinement(grid: surface.grid, levels: levels, tolerance: tolerance, contourLevels: contourLevels)
    }

    /// What a request's fingerprint must add for an adaptive run: another plan fills other points.
    public static func requestTag(levels: Int, tolerance: Double, contourLevels: RefinementLevels) -> String {
        " adaptive levels \(levels) tolerance \(tolerance) contours \(contourLevels.name)"
    }

    static func guides(_ q: SurfaceQuantity) -> Bool { q == .trainLoss || q == .testLoss }

    public var grid: SurfaceGrid { surface.grid }
    public var fieldCount: Int { surface.fieldCount }
    public var concurrentPoints: Int { surface.concurrentPoints }
    public var refinesInRounds: Bool { true }

    /// Whether a point holds a computed value (the first quantity, a loss, is never NaN once computed).
    func isComputed(_ point: Int) -> Bool { !SurfaceValue.isNotComputed(surface.values[surface.quantities[0]]![point]) }

    /// The points of the plan's current round not computed yet; rounds whose points are all known
    /// (a resumed run) are taken in at once. Empty when the plan is finished.
    public var pendingPoints: [Int] {
        while true {
            let missing = plan.wanted.filter { !isComputed($0) }
            if !missing.isEmpty || plan.isFinished { return missing }
            plan.advance(values: surface.quantities.filter(Self.guides).map { surface.values[$0]! })
        }
    }

    public var computedPointCount: Int { (0..<grid.pointCount).lazy.filter(isComputed).count }

    public func compute(points: [Int]) throws -> [[Double]] { try surface.compute(points: points) }

    public func record(point: Int, _ row: [Double]) { surface.record(point: point, row) }

    /// Adopts the computed points of a file of the same request (never its interpolated ones).
    public func restore(from file: SurfaceFile) {
        let mask = file.extraDatasets[Self.maskName].flatMap { $0.count == grid.pointCount ? $0 : nil }
        for q in surface.quantities {
            guard let stored = file.values[q], stored.count == grid.pointCount else { continue }
            surface.restore(q, mask.map { zip($0, stored).map { $0 == 1 ? $1 : .nan } } ?? stored)
        }
        for name in surface.samplingDatasetNames {
            guard let stored = file.extraDatasets[name], stored.count == grid.pointCount else { continue }
            surface.restoreSampling(name, mask.map { zip($0, stored).map { $0 == 1 ? $1 : .nan } } ?? stored)
        }
    }

    /// The values filled in and the mask once the plan is finished; before that the computed
    /// values (NaN elsewhere) and the mask of those.
    public func store(into file: inout SurfaceFile) {
        let finished = plan.isFinished
        for (q, v) in surface.values { file.values[q] = finished ? plan.interpolate(v) : v }
        let mask = finished ? plan.computedMask : (0..<grid.pointCount).map(isComputed)
        surface.storeSampling(into: &file, interpolated: finished ? mask.map { !$0 } : nil)
        file.extraDatasets[Self.maskName] = mask.map { $0 ? 1 : 0 }
        let computed = mask.lazy.filter { $0 }.count
        file.numberAttributes[Self.attributePrefix + "levels"] = Double(plan.levels)
        file.numberAttributes[Self.attributePrefix + "tolerance"] = plan.tolerance
        file.numberAttributes[Self.attributePrefix + "points_computed"] = Double(computed)
        file.numberAttributes[Self.attributePrefix + "points_total"] = Double(grid.pointCount)
    }

    public func restoreCenter() { surface.restoreCenter() }

    /// "computed 410 of 441 points (7% saved)".
    public static func summary(of file: SurfaceFile) -> String? {
        guard let computed = file.numberAttributes[attributePrefix + "points_computed"],
              let total = file.numberAttributes[attributePrefix + "points_total"], total > 0 else { return nil }
        return String(format: "computed %d of %d points (%.0f%% saved)", Int(computed), Int(total), 100 * (1 - computed / total))
    }
}
