/// The part of a grid whose values lie in [lower, upper): polygons in data coordinates.
public struct ContourBand: Sendable, Equatable {
    /// The band's lowest value, included; −∞ for the band below the first level.
    public var lower: Double
    /// The band's highest value, excluded; +∞ for the band above the last level.
    public var upper: Double
    /// Convex polygons (3 to 8 vertices, a cell's rectangle when it lies wholly in the band),
    /// first vertex not repeated, counter-clockwise when x and y increase along the grid. They
    /// tile the band without overlapping; neighbouring polygons are not merged here
    /// (`RegionOutline` merges them for drawing).
    public var polygons: [[PlotPoint]]

    public init(lower: Double, upper: Double, polygons: [[PlotPoint]]) {
        self.lower = lower; self.upper = upper; self.polygons = polygons
    }
}

/// Filled contours: the finite part of a `ScalarGrid` cut into bands between levels.
///
/// **Bands.** For sorted levels l₀ < l₁ < … < lₙ₋₁ there are n + 1 bands, always all of them, in
/// increasing order: (−∞, l₀), [l₀, l₁), …, [lₙ₋₁, +∞). Band k therefore keeps its index (and its
/// colour) whether or not any value falls in it, and together the bands cover every usable cell.
/// A value equal to a level belongs to the band above it, as in `MarchingSquares` (above means
/// v ≥ level).
///
/// **The lines are the boundaries.** A band's boundary inside a cell is made of the cell's own
/// edges and of the very segments `MarchingSquares` draws for the band's two levels: the same
/// crossing points (`ContourField.crossing`, on the same grid edge, from the same two values and
/// the same level), joined in the same pairs (`CellCase.segments`, saddles settled by the same
/// centre value). So every contour line lies exactly on the boundary between the bands of its
/// level, each of its segments an edge of a polygon on either side. With `logarithmic`, values
/// and levels are compared and interpolated as log10, like the lines.
///
/// **Polygons.** A cell whose four corners lie in one band is that band's rectangle. Otherwise
/// each band's part of the cell is traced counter-clockwise: along the cell's border while the
/// border is in the band, and along a segment of the level being crossed where it leaves the
/// band, to the segment's other end, where the border enters the band again. The segments cut off
/// corners (or split the cell between two edges) and never cross one another, so each piece is
/// convex, with 3 to 8 vertices (8 for a saddle cut at both levels). A crossing on an edge
/// depends only on that edge, so neighbouring cells and bands share their boundaries bit for bit
/// and the areas add up to the usable cells' area (to rounding).
///
/// **Missing and diverged values.** Cells with a non-finite corner (NaN or ±∞; on a log scale
/// also zero or negative values) belong to no band: the drawing code paints them itself.
public enum FilledContours {
    /// The bands of `grid` between `levels` (sorted first; non-finite and repeated levels are
    /// dropped, and on a log scale non-positive ones). See the type's documentation for what the
    /// bands are.
    public static func bands(in grid: ScalarGrid, levels: [Double], logarithmic: Bool = false) -> [ContourBand] {
        let field = ContourField(grid, logarithmic: logarithmic)
        let cuts = Array(Set(levels.filter { field.coordinate(ofLevel: $0) != nil })).sorted()
        // Non-decreasing (log10 is monotone); equal coordinates leave an empty band between them.
        let cutCoordinates = cuts.map { field.coordinate(ofLevel: $0)! }
        let lowers = [-Double.infinity] + cuts, uppers = cuts + [Double.infinity]
        var polygons = [[[PlotPoint]]](repeating: [], count: cuts.count + 1)

        let columns = field.columns, rows = field.rows
        guard columns >= 2, rows >= 2 else {
            return (0...cuts.count).map { ContourBand(lower: lowers[$0], upper: uppers[$0], polygons: []) }
        }
        let edges = GridEdges(columns: columns, rows: rows)
        let xs = field.x, ys = field.y
        // The band of a coordinate: the number of level coordinates at or below it (binary search).
        func band(_ value: Double) -> Int {
            var low = 0, high = cutCoordinates.count
            while low < high {
                let middle = (low + high) / 2
                if cutCoordinates[middle] <= value { low = middle + 1 } else { high = middle }
            }
            return low
        }
        for j in 0..<(rows - 1) {
            for i in 0..<(columns - 1) {
                guard let values = field.corners(ofCellAt: i, j) else { continue }
                let cornerBands = values.map(band)
                let lowest = cornerBands.min()!, highest = cornerBands.max()!
                // Counter-clockwise corners, as in MarchingSquares' CellCase.
                let corners = [PlotPoint(xs[i], ys[j]), PlotPoint(xs[i + 1], ys[j]),
                               PlotPoint(xs[i + 1], ys[j + 1]), PlotPoint(xs[i], ys[j + 1])]
                if lowest == highest {
                    polygons[lowest].append(corners)
                    continue
                }
                let cell = Cell(i: i, j: j, values: values, corners: corners, edges: edges, field: field)
                let cellArea = abs((xs[i + 1] - xs[i]) * (ys[j + 1] - ys[j]))
                for b in lowest...highest {
                    let lower = b > 0 ? cutCoordinates[b - 1] : nil
                    let upper = b < cutCoordinates.count ? cutCoordinates[b] : nil
                    for piece in cell.pieces(lower: lower, upper: upper) {
                        if let polygon = distinctPolygon(piece, cellArea: cellArea) { polygons[b].append(polygon) }
                    }
                }
            }
        }
        return (0...cuts.count).map { ContourBand(lower: lowers[$0], upper: uppers[$0], polygons: polygons[$0]) }
    }

    /// One cell cut between two levels.
    struct Cell {
        let i: Int, j: Int
        /// Corner coordinates and positions, counter-clockwise from (i, j).
        let values: [Double]
        let corners: [PlotPoint]
        let edges: GridEdges
        let field: ContourField

        /// A point on the cell's border, in counter-clockwise order: a corner, or where one of the
        /// two levels crosses an edge (`side` 0: the lower level, 1: the upper), entering the band
        /// (walking on, the border is in the band) or leaving it.
        struct BorderPoint {
            var point: PlotPoint
            var side: Int?          // nil for a corner
            var edge = 0
            var leaves = false
        }

        /// The part of the cell where lower ≤ v < upper (nil: unbounded on that side), as
        /// counter-clockwise point lists (possibly with repeats where a crossing falls on a corner).
        func pieces(lower: Double?, upper: Double?) -> [[PlotPoint]] {
            let levels = [lower, upper]
            var border: [BorderPoint] = []
            for k in 0..<4 {
                let a = values[k], b = values[(k + 1) % 4]
                if (lower.map { a >= $0 } ?? true) && (upper.map { a < $0 } ?? true) {
                    border.append(BorderPoint(point: corners[k], side: nil))
                }
                // Walking up the values the lower level comes first and enters the band; walking
                // down, the upper level comes first and enters it.
                let order = a < b ? [0, 1] : [1, 0]
                for side in order {
                    guard let level = levels[side], (a >= level) != (b >= level) else { continue }
                    let global = edges.index(of: k, cellI: i, cellJ: j)
                    border.append(BorderPoint(point: field.crossing(on: global, level: level, edges: edges),
                                              side: side, edge: k, leaves: (side == 1) == (a < b)))
                }
            }
            // The segment partner of each crossing: MarchingSquares' pairs of edges at that level.
            func partner(of index: Int) -> Int? {
                let crossing = border[index]
                guard let side = crossing.side, let level = levels[side] else { return nil }
                for (from, to) in CellCase.segments(corners: values, level: level) {
                    let other = from == crossing.edge ? to : to == crossing.edge ? from : nil
                    if let other { return border.firstIndex { $0.side == side && $0.edge == other } }
                }
                return nil
            }
            var visited = [Bool](repeating: false, count: border.count)
            var result: [[PlotPoint]] = []
            for start in border.indices where border[start].side != nil && !border[start].leaves && !visited[start] {
                var piece: [PlotPoint] = []
                var index = start
                // Each border point is taken once; the bound only guards against a malformed walk.
                for _ in 0...border.count {
                    visited[index] = true
                    piece.append(border[index].point)
                    if border[index].leaves {
                        guard let across = partner(of: index), across != start else { break }
                        visited[across] = true
                        piece.append(border[across].point)
                        index = across
                    }
                    index = (index + 1) % border.count
                    if index == start || visited[index] { break }
                }
                result.append(piece)
            }
            return result
        }
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
