/// The basin that holds a surface's centre (α = 0, β = 0: the trained weights for `terrain
/// surface`), measured at several loss levels above its minimum.
///
/// **Which basin.** The centre point c is the grid point nearest (0, 0) (the x and the y
/// coordinate nearest 0, the first on a tie). From c, steepest descent on the grid (each step to
/// the lowest present neighbour, while it is below the current point) ends at a local minimum m:
/// the minimum whose basin holds c. m = c when the centre is itself a minimum.
///
/// **The basin at level L** is the 8-connected component of the sublevel set {valid q : f(q) ≤ L}
/// that contains m (`GridField` says which points are valid). Below the minimum's death
/// (`MinimumPersistence`) that is m's own basin; above it, the component has merged with the
/// basins it met, as sublevel sets do. For each level:
///
/// - **area** = Σ over the component of the point's cell area w_x[i]·w_y[j], the cells tiling the
///   grid's rectangle (`GridField.cellWidths`; exact for `--cubic` axes too). For a smooth f the
///   error is at most about one cell width times the basin's perimeter.
/// - **width along α** = the extent of the sublevel set on the row through m: from m's column
///   outwards to each side while the points stay ≤ L, the crossing of L placed by linear
///   interpolation between the last point inside and the first outside, so its error is O(h²)
///   for a smooth f. Likewise **along β** on m's column.
/// - **open**: the component reaches the grid's edge or an excluded point, so the basin may go on
///   beyond what was computed and its area is a lower bound; a width that stops there (rather than
///   at a crossing) is marked open the same way.
public struct CentreBasin: Sendable, Equatable {
    /// The centre point (nearest (0, 0)) and the minimum its descent reaches.
    public var centre: Int
    public var minimum: Int
    public var minimumValue: Double
    /// Where the minimum's basin merges into a lower one (+∞: it never does).
    public var mergeLevel: Double
    public var levels: [Level]

    /// How a level was asked for.
    public enum LevelSpec: Sendable, Equatable {
        /// f(m) + fraction × (the surface's max − min over valid points).
        case rise(Double)
        /// An absolute value of the quantity.
        case absolute(Double)
    }

    public struct Level: Sendable, Equatable {
        public var spec: LevelSpec
        /// The level L itself.
        public var value: Double
        /// Points in the component (0 when L is below the minimum).
        public var pointCount: Int
        public var area: Double
        public var widthAlpha: Double
        public var widthBeta: Double
        /// The component reaches the grid's edge or an excluded point (area a lower bound).
        public var open: Bool
        public var widthAlphaOpen: Bool
        public var widthBetaOpen: Bool
    }
}

extension SurfaceGrid {
    /// The grid point nearest (α, β) = (0, 0): the x and the y coordinate nearest 0, the first
    /// on a tie (in 1D, the x nearest 0); 0 for an empty grid.
    public var centrePoint: Int {
        func nearestZero(_ c: [Double]) -> Int { c.indices.min { abs(c[$0]) < abs(c[$1]) } ?? 0 }
        return nearestZero(y) * x.count + nearestZero(x)
    }
}

extension GridField {
    /// The grid point nearest (α, β) = (0, 0) (0 for an empty grid).
    public var centrePoint: Int { grid.centrePoint }

    /// Steepest descent on the grid from `p` (valid) to the minimum whose basin holds it.
    public func descend(from p: Int) -> Int {
        var current = p
        while true {
            var next = current
            for k in 0..<8 {
                if let q = neighbour(of: current, at: k), isBelow(q, next) { next = q }
            }
            if next == current { return current }
            current = next
        }
    }

    /// The max − min of the valid values (0 when none or one).
    public var valueRange: Double {
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else { return 0 }
        return high - low
    }

    /// The basin of the centre at each level (see `CentreBasin`), or nil when the centre point
    /// is excluded (NaN or ±∞) and so lies in no basin.
    public func centreBasin(levels specs: [CentreBasin.LevelSpec], persistence: [PersistencePair]? = nil) -> CentreBasin? {
        let centre = centrePoint
        guard centre < values.count, isValid(centre) else { return nil }
        let minimum = descend(from: centre)
        let pairs = persistence ?? minimumPersistence()
        let merge = pairs.first { $0.minimum == minimum }?.death ?? .infinity
        let range = valueRange
        let levels = specs.map { spec -> CentreBasin.Level in
            let value: Double
            switch spec {
            case .rise(let fraction): value = values[minimum] + fraction * range
            case .absolute(let level): value = level
            }
            return measure(from: minimum, at: value, spec: spec)
        }
        return CentreBasin(centre: centre, minimum: minimum, minimumValue: values[minimum], mergeLevel: merge, levels: levels)
    }

    /// The component of {f ≤ level} holding `minimum`, measured.
    func measure(from minimum: Int, at level: Double, spec: CentreBasin.LevelSpec) -> CentreBasin.Level {
        var result = CentreBasin.Level(spec: spec, value: level, pointCount: 0, area: 0, widthAlpha: 0, widthBeta: 0,
                                       open: false, widthAlphaOpen: false, widthBetaOpen: false)
        guard values[minimum] <= level else { return result }
        let wx = Self.cellWidths(grid.x), wy = Self.cellWidths(grid.y)
        for p in sublevelComponent(from: minimum, at: level) {
            result.pointCount += 1
            result.area += wx[p % nx] * wy[p / nx]
            // Fewer than 8 present neighbours: p is on the edge or next to an excluded point.
            if (0..<8).contains(where: { neighbour(of: p, at: $0) == nil }) { result.open = true }
        }
        (result.widthAlpha, result.widthAlphaOpen) = width(through: minimum, at: level, step: 1, count: nx, coordinates: grid.x)
        (result.widthBeta, result.widthBetaOpen) = width(through: minimum, at: level, step: nx, count: ny, coordinates: grid.y)
        return result
    }

    /// The points of the 8-connected component of {valid q : f(q) ≤ level} holding `start`
    /// (none when f(start) > level), in the order a depth-first flood fill reaches them.
    public func sublevelComponent(from start: Int, at level: Double) -> [Int] {
        guard isValid(start), values[start] <= level else { return [] }
        var inside = [Bool](repeating: false, count: values.count)
        var stack = [start], component: [Int] = []
        inside[start] = true
        while let p = stack.popLast() {
            component.append(p)
            for k in 0..<8 {
                if let q = neighbour(of: p, at: k), !inside[q], values[q] <= level { inside[q] = true; stack.append(q) }
            }
        }
        return component
    }

    /// The values with every point of {f ≤ level} outside `start`'s component raised above the
    /// level (to level + 1 + the range), so that the contour of the result at `level` is the
    /// outline of that component alone: the basin's outline a figure draws. A raised point is
    /// never next to the component (it would belong to it), so no crossing of the outline moves.
    public func componentOutlineValues(from start: Int, at level: Double) -> [Double] {
        var inside = [Bool](repeating: false, count: values.count)
        for p in sublevelComponent(from: start, at: level) { inside[p] = true }
        let raised = level + 1 + valueRange
        return values.indices.map { p in values[p] <= level && !inside[p] ? raised : values[p] }
    }

    /// The extent of {f ≤ level} along one grid line through `p` (see `CentreBasin`): `step` is 1
    /// along a row, nx along a column; `count` the line's length.
    func width(through p: Int, at level: Double, step: Int, count: Int, coordinates c: [Double]) -> (Double, open: Bool) {
        let position = step == 1 ? p % nx : p / nx
        func end(direction: Int) -> (Double, open: Bool) {
            var k = position
            while true {
                let next = k + direction
                guard next >= 0, next < count else { return (c[k], true) }
                let (here, there) = (values[p + (k - position) * step], values[p + (next - position) * step])
                guard there.isFinite else { return (c[k], true) }
                if there > level {
                    // f crosses the level between k and next (here ≤ level < there).
                    return (c[k] + (level - here) / (there - here) * (c[next] - c[k]), false)
                }
                k = next
            }
        }
        let (low, lowOpen) = end(direction: -1), (high, highOpen) = end(direction: 1)
        return (abs(high - low), lowOpen || highOpen)
    }
}
