/// One connected piece of a contour: a polyline in data coordinates.
public struct ContourLine: Sendable, Equatable {
    public var level: Double
    /// The vertices in order. Walking along them, values ≥ `level` lie on the left (for x and y
    /// increasing along the grid). A closed line does **not** repeat its first point at the end:
    /// the closing segment from the last point back to the first is implied by `isClosed`.
    public var points: [PlotPoint]
    /// True for a loop; false for a line whose ends lie on the grid's border or on the edge of a
    /// missing or diverged region.
    public var isClosed: Bool

    public init(level: Double, points: [PlotPoint], isClosed: Bool) {
        self.level = level; self.points = points; self.isClosed = isClosed
    }
}

/// Contour lines of a `ScalarGrid` by marching squares.
///
/// Each cell [x(i), x(i+1)] × [y(j), y(j+1)] is classified by which of its four corners are
/// *above* the level, v ≥ level (≥, not >, everywhere, so a value equal to the level is on one
/// side only and no cell reports the same crossing twice). An edge whose ends lie on different
/// sides is crossed at the linearly interpolated point
///
///     t = (level − v(a)) / (v(b) − v(a)),   p = a + t · (b − a),
///
/// in data coordinates, so non-uniform and non-square grids are handled as they are. A cell
/// joins its crossed edges in pairs (one segment, or two in a saddle). With `logarithmic`, v and
/// the level are their log10 throughout (`ContourField`, which also holds the one crossing
/// computation that `FilledContours` shares).
///
/// **Saddles.** When diagonally opposite corners are on the same side (above, below, above,
/// below around the cell) the corners alone cannot say which pairs of edges to join. The value
/// at the cell centre, taken as the mean of the four corners (the bilinear interpolant's value
/// there), decides: the centre's side is the one that stays connected across the cell, and the
/// two segments cut off the corners of the other side.
///
/// **Missing and diverged values.** A cell with a non-finite corner (NaN or ±∞; on a log scale
/// also zero or negative) gives no segment: contours end on the border of such regions and
/// never cross them.
///
/// **Joining.** Every crossing point lies on a grid edge, and an edge is crossed at most once
/// per level, so the edge's index identifies the point exactly; segments are chained through a
/// hash map from edge index to the next edge, never by comparing coordinates, in O(segments).
/// Segments are oriented with the above side on their left, so each crossing has at most one
/// segment leaving and one arriving: chains are either open lines or loops.
public enum MarchingSquares {
    /// The contour lines of `grid` at `level`, open lines first, each group in the order of the
    /// cells where it starts. Lines that collapse to a point (a single grid value exactly equal
    /// to the level with everything around it below) are left out. With `logarithmic`, values and
    /// level are compared and interpolated as their log10 (`ContourField`): the crossings of a
    /// log-spaced level lie where the log scale puts it, and non-positive values are unusable.
    public static func lines(in grid: ScalarGrid, level: Double, logarithmic: Bool = false) -> [ContourLine] {
        lines(in: ContourField(grid, logarithmic: logarithmic), level: level)
    }

    /// The contour lines at each of `levels`, level by level in the given order.
    public static func lines(in grid: ScalarGrid, levels: [Double], logarithmic: Bool = false) -> [ContourLine] {
        let field = ContourField(grid, logarithmic: logarithmic)
        return levels.flatMap { lines(in: field, level: $0) }
    }

    static func lines(in field: ContourField, level: Double) -> [ContourLine] {
        let columns = field.columns, rows = field.rows
        guard columns >= 2, rows >= 2, let coordinate = field.coordinate(ofLevel: level) else { return [] }
        let edges = GridEdges(columns: columns, rows: rows)

        // next[from] = to: a segment from one crossed edge to another.
        var next: [Int: Int] = [:]
        var starts: [Int] = []          // every segment's first edge, in cell order (deterministic)
        var arrivals = Set<Int>()       // edges some segment ends on
        func add(_ from: Int, _ to: Int) {
            next[from] = to
            starts.append(from)
            arrivals.insert(to)
        }

        for j in 0..<(rows - 1) {
            for i in 0..<(columns - 1) {
                guard let corners = field.corners(ofCellAt: i, j) else { continue }
                for (from, to) in CellCase.segments(corners: corners, level: coordinate) {
                    add(edges.index(of: from, cellI: i, cellJ: j), edges.index(of: to, cellI: i, cellJ: j))
                }
            }
        }

        func point(_ edge: Int) -> PlotPoint { field.crossing(on: edge, level: coordinate, edges: edges) }
        var lines: [ContourLine] = []

        // Open lines start where no segment arrives.
        for start in starts where !arrivals.contains(start) && next[start] != nil {
            var points = [point(start)]
            var current = start
            while let following = next.removeValue(forKey: current) {
                appendDistinct(point(following), to: &points)
                current = following
            }
            if points.count >= 2 { lines.append(ContourLine(level: level, points: points, isClosed: false)) }
        }
        // What is left are loops.
        for start in starts where next[start] != nil {
            var points = [point(start)]
            var current = start
            while let following = next.removeValue(forKey: current), following != start {
                appendDistinct(point(following), to: &points)
                current = following
            }
            // Zero-length segments at a corner equal to the level may leave the start repeated.
            if points.count > 1, points.last == points.first { points.removeLast() }
            if points.count >= 3 { lines.append(ContourLine(level: level, points: points, isClosed: true)) }
        }
        return lines
    }

    /// Skips a point equal to the previous one: a corner exactly at the level is where two
    /// crossed edges meet, and the segment between them has length zero.
    private static func appendDistinct(_ point: PlotPoint, to points: inout [PlotPoint]) {
        if points.last != point { points.append(point) }
    }
}

/// The marching-squares table. Corners are numbered counter-clockwise from (i, j): 0 (i, j),
/// 1 (i+1, j), 2 (i+1, j+1), 3 (i, j+1); edge k joins corner k to corner k+1 (mod 4): 0 bottom,
/// 1 right, 2 top, 3 left.
enum CellCase {
    /// The segments of the cell with these corner values (counter-clockwise from (i, j)) at
    /// `level`: the pattern of corners ≥ level, a saddle settled by the mean of the corners. Lines
    /// and bands both ask here, so they join the same crossings.
    static func segments(corners c: [Double], level: Double) -> [(Int, Int)] {
        let pattern = (c[0] >= level ? 1 : 0) | (c[1] >= level ? 2 : 0) | (c[2] >= level ? 4 : 0) | (c[3] >= level ? 8 : 0)
        if pattern == 0 || pattern == 15 { return [] }
        return segments(pattern: pattern, centreAbove: (c[0] + c[1] + c[2] + c[3]) / 4 >= level)
    }

    /// The segments (from edge, to edge) of a cell whose above-corners are the bits of
    /// `pattern`, oriented so that the above side is on the left.
    static func segments(pattern: Int, centreAbove: Bool) -> [(Int, Int)] {
        switch pattern {
        case 5:   // corners 0 and 2 above: a saddle
            return centreAbove
                ? [aroundBelow(1), aroundBelow(3)]      // 0–2 joined through the centre
                : [aroundAbove(0), aroundAbove(2)]      // 1–3 joined through the centre
        case 10:  // corners 1 and 3 above: a saddle
            return centreAbove
                ? [aroundBelow(0), aroundBelow(2)]
                : [aroundAbove(1), aroundAbove(3)]
        default:
            return [single[pattern]]
        }
    }

    /// The segment cutting off corner k when k alone is above: from edge k to edge k−1. Going
    /// from a point on edge k to a point on edge k−1 turns around corner k with it on the left.
    static func aroundAbove(_ k: Int) -> (Int, Int) { (k, (k + 3) % 4) }
    /// The segment cutting off corner k when k alone is below: the same edges, reversed.
    static func aroundBelow(_ k: Int) -> (Int, Int) { ((k + 3) % 4, k) }

    /// The one segment of each non-saddle pattern (patterns 0, 5, 10 and 15 are unused).
    static let single: [(Int, Int)] = (0..<16).map { pattern in
        switch pattern {
        case 1: aroundAbove(0)
        case 2: aroundAbove(1)
        case 4: aroundAbove(2)
        case 8: aroundAbove(3)
        case 14: aroundBelow(0)
        case 13: aroundBelow(1)
        case 11: aroundBelow(2)
        case 7: aroundBelow(3)
        // Two neighbouring corners k, k+1 above: from edge k+1 to edge k−1, above on the left.
        case 3: (1, 3)
        case 6: (2, 0)
        case 12: (3, 1)
        case 9: (0, 2)
        default: (-1, -1)
        }
    }
}

/// Indices of the grid's edges: first the horizontal ones, (i, j)–(i+1, j) at j·(nx−1) + i, then
/// the vertical ones, (i, j)–(i, j+1) at H + j·nx + i with H = (nx−1)·ny. Two cells sharing an
/// edge get the same index for it, which is what lets segments be joined without comparing
/// coordinates.
struct GridEdges {
    let columns: Int, rows: Int
    var horizontalCount: Int { (columns - 1) * rows }

    /// The global index of cell (i, j)'s local edge (0 bottom, 1 right, 2 top, 3 left).
    func index(of localEdge: Int, cellI i: Int, cellJ j: Int) -> Int {
        switch localEdge {
        case 0: j * (columns - 1) + i
        case 2: (j + 1) * (columns - 1) + i
        case 3: horizontalCount + j * columns + i
        default: horizontalCount + j * columns + i + 1
        }
    }

    /// The grid nodes at the ends of an edge, as flat indices into `values`.
    func ends(of edge: Int) -> (Int, Int) {
        if edge < horizontalCount {
            let j = edge / (columns - 1), i = edge % (columns - 1)
            return (j * columns + i, j * columns + i + 1)
        }
        let v = edge - horizontalCount
        return (v, v + columns)
    }
}
