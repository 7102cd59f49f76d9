/// The part of a grid whose values lie in [lower, upper): polygons in data coordinates.
public struct ContourBand: Sendable, Equatable {
    /// The band's lowest value, included; −∞ for the band below the first level.
    public var lower: Double
    /// The band's highest value, excluded; +∞ for the band above the last level.
    public var upper: Double
    /// Convex polygons (3 to 5 vertices, a cell's rectangle when it lies wholly in the band),
    /// first vertex not repeated, counter-clockwise when x and y increase along the grid. They
    /// tile the band without overlapping; neighbouring polygons are not merged.
    public var polygons: [[PlotPoint]]

    public init(lower: Double, upper: Double, polygons: [[PlotPoint]]) {
        self.lower = lower; self.upper = upper; self.polygons = polygons
    }
}

/// Filled contours: the finite part of a `ScalarGrid` cut into bands between levels.
///
/// **Bands.** For sorted levels l₀ < l₁ < … < lₙ₋₁ there are n + 1 bands, always all of them, in
/// increasing order: (−∞, l₀), [l₀, l₁), …, [lₙ₋₁, +∞). Band k therefore keeps its index (and its
/// colour) whether or not any value falls in it, and together the bands cover every cell whose
/// four corners are finite. A value equal to a level belongs to the band above it, as in
/// `MarchingSquares` (above means v ≥ level).
///
/// **Interpolation.** Each cell is split into four triangles around its centre, whose value is
/// the mean of the four corners (the bilinear interpolant's value there, the same value that
/// settles saddles in `MarchingSquares`). Over each triangle the value is the linear
/// interpolant of its three vertices, so the set lower ≤ v < upper within it is the triangle
/// cut by two parallel lines: a convex polygon of at most five vertices, whose corners are the
/// triangle's vertices inside the band and the points where the band's bounds cross its edges,
/// interpolated linearly along those edges. A crossing on an edge depends only on that edge's two values and the level, so the
/// pieces of neighbouring bands and neighbouring triangles share their boundaries exactly and
/// the areas add up to the cell's area (to rounding). A cell whose corners and centre all lie
/// in one band is emitted as one rectangle, not four triangles, which keeps the polygon count
/// close to the cell count away from the contours.
///
/// **Missing and diverged values.** Cells with a non-finite corner (NaN or ±∞) belong to no band:
/// the drawing code paints them itself.
///
/// The boundaries between bands follow the triangles, so inside a cell they can bend slightly
/// away from the straight segments of `MarchingSquares` (both agree on the cell's edges).
public enum FilledContours {
    /// The bands of `grid` between `levels` (sorted first; non-finite and repeated levels are
    /// dropped). See the type's documentation for what the bands are.
    public static func bands(in grid: ScalarGrid, levels: [Double]) -> [ContourBand] {
        let cuts = Array(Set(levels.filter(\.isFinite))).sorted()
        let lowers = [-Double.infinity] + cuts, uppers = cuts + [Double.infinity]
        var polygons = [[[PlotPoint]]](repeating: [], count: cuts.count + 1)

        let columns = grid.x.count, rows = grid.y.count
        if columns >= 2, rows >= 2 {
            let values = grid.values, xs = grid.x, ys = grid.y
            // The band of a value: the number of levels at or below it (binary search).
            func band(_ value: Double) -> Int {
                var low = 0, high = cuts.count
                while low < high {
                    let middle = (low + high) / 2
                    if cuts[middle] <= value { low = middle + 1 } else { high = middle }
                }
                return low
            }
            for j in 0..<(rows - 1) {
                for i in 0..<(columns - 1) {
                    let v0 = values[j * columns + i], v1 = values[j * columns + i + 1]
                    let v2 = values[(j + 1) * columns + i + 1], v3 = values[(j + 1) * columns + i]
                    guard v0.isFinite, v1.isFinite, v2.isFinite, v3.isFinite else { continue }
                    let centre = (v0 + v1 + v2 + v3) / 4
                    // Counter-clockwise corners, as in MarchingSquares' CellCase.
                    let corners = [
                        Vertex(PlotPoint(xs[i], ys[j]), v0), Vertex(PlotPoint(xs[i + 1], ys[j]), v1),
                        Vertex(PlotPoint(xs[i + 1], ys[j + 1]), v2), Vertex(PlotPoint(xs[i], ys[j + 1]), v3),
                    ]
                    let bands = [band(v0), band(v1), band(v2), band(v3), band(centre)]
                    let lowest = bands.min()!, highest = bands.max()!
                    if lowest == highest {
                        polygons[lowest].append(corners.map(\.point))
                        continue
                    }
                    let cellArea = abs((xs[i + 1] - xs[i]) * (ys[j + 1] - ys[j]))
                    let middle = Vertex(PlotPoint((xs[i] + xs[i + 1]) / 2, (ys[j] + ys[j + 1]) / 2), centre)
                    for k in 0..<4 {
                        let triangle = [corners[k], corners[(k + 1) % 4], middle]
                        let triangleBands = [bands[k], bands[(k + 1) % 4], bands[4]]
                        let first = triangleBands.min()!, last = triangleBands.max()!
                        if first == last {
                            polygons[first].append(triangle.map(\.point))
                            continue
                        }
                        for b in first...last {
                            let points = piece(of: triangle, lower: lowers[b], upper: uppers[b])
                            if let polygon = distinctPolygon(points, cellArea: cellArea) { polygons[b].append(polygon) }
                        }
                    }
                }
            }
        }
        return (0...cuts.count).map { ContourBand(lower: lowers[$0], upper: uppers[$0], polygons: polygons[$0]) }
    }

    /// A polygon vertex with its interpolated value.
    struct Vertex {
        var point: PlotPoint
        var value: Double
        init(_ point: PlotPoint, _ value: Double) { self.point = point; self.value = value }
    }

    /// The part of a triangle where lower ≤ v < upper, as a list of points (possibly with
    /// repeats, see `distinctPolygon`). The linear interpolant makes that part the triangle cut by
    /// two parallel lines, so its vertices are the triangle's vertices inside the band and the
    /// points where the band's bounds cross the triangle's edges, in order around the triangle.
    /// Every crossing is computed on an original edge of the triangle (never on an edge already
    /// cut), so that a boundary shared with a neighbouring band or triangle is the same bits.
    static func piece(of triangle: [Vertex], lower: Double, upper: Double) -> [PlotPoint] {
        var points: [PlotPoint] = []
        points.reserveCapacity(5)
        for k in 0..<3 {
            let a = triangle[k], b = triangle[(k + 1) % 3]
            if lower <= a.value && a.value < upper { points.append(a.point) }
            let crossesLower = (a.value < lower) != (b.value < lower)
            let crossesUpper = (a.value < upper) != (b.value < upper)
            // Walking from a to b, the value passes the lower bound first when it increases.
            if a.value < b.value {
                if crossesLower { points.append(crossing(a, b, lower)) }
                if crossesUpper { points.append(crossing(a, b, upper)) }
            } else {
                if crossesUpper { points.append(crossing(a, b, upper)) }
                if crossesLower { points.append(crossing(a, b, lower)) }
            }
        }
        return points
    }

    /// The point where the value is `level` on the segment a–b. It is computed from the lower
    /// end so that the same edge walked either way (by two triangles or two bands) gives the
    /// same bits: the shared boundaries match exactly.
    static func crossing(_ a: Vertex, _ b: Vertex, _ level: Double) -> PlotPoint {
        let (from, to) = a.value <= b.value ? (a, b) : (b, a)
        let t = min(max((level - from.value) / (to.value - from.value), 0), 1)
        if t == 0 { return from.point }
        if t == 1 { return to.point }
        return PlotPoint(from.point.x + t * (to.point.x - from.point.x), from.point.y + t * (to.point.y - from.point.y))
    }

    /// The polygon's points with consecutive repeats removed (a band touching a triangle only at a
    /// vertex or along an edge clips to a degenerate polygon); nil when fewer than three remain
    /// or when the polygon is a sliver of no area: below 10⁻¹² of its cell's, where rounding
    /// alone decides its orientation. Dropping one changes the bands' total by less than that.
    static func distinctPolygon(_ candidates: [PlotPoint], cellArea: Double) -> [PlotPoint]? {
        var points: [PlotPoint] = []
        points.reserveCapacity(candidates.count)
        for point in candidates where points.last != point { points.append(point) }
        while points.count > 1, points.last == points.first { points.removeLast() }
        guard points.count >= 3 else { return nil }
        // Twice the area as a fan of triangles from the first point (shoelace relative to it, so
        // that a grid far from the origin does not lose the area to cancellation).
        let origin = points[0]
        var twiceArea = 0.0
        for k in 1..<(points.count - 1) {
            let p = points[k], q = points[k + 1]
            twiceArea += (p.x - origin.x) * (q.y - origin.y) - (q.x - origin.x) * (p.y - origin.y)
        }
        return abs(twiceArea) <= 2e-12 * cellArea ? nil : points
    }
}
