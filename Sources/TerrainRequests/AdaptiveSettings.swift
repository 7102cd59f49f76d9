import TerrainLandscape
import TerrainReport

/// `terrain surface --adaptive`: how far to coarsen, how closely to follow the contours, and which.
public struct AdaptiveSettings: Sendable {
    /// Halvings from the coarse grid to the full one (the coarse stride is 2^levels; fewer when
    /// the coarse grid would have under 4 cells a side).
    public var levels: Int
    /// Refine a cell when interpolation may be off by more than this many contour level spacings.
    public var tolerance: Double
    /// The contour levels followed: the figures' own.
    public var contourLevels: RefinementLevels

    public init(levels: Int = 3, tolerance: Double = 0.25, contourLevels: RefinementLevels = FigureLevels.refinement()) {
        self.levels = levels
        self.tolerance = tolerance
        self.contourLevels = contourLevels
    }

    /// Levels in 0…20 and a positive finite tolerance.
    func validate() throws {
        guard tolerance.isFinite, tolerance > 0 else { throw RequestError("--adaptive-tolerance must be a positive number (got \(tolerance))") }
        guard (0...20).contains(levels) else { throw RequestError("--adaptive-levels must be between 0 and 20 (got \(levels))") }
    }
}
