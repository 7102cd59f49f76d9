import Foundation

/// A grid's values in the space where its contours are found: the values themselves, or their
/// base-10 logarithms when the levels are logarithmic. Contour lines (`MarchingSquares`) and
/// filled bands (`FilledContours`) both read the grid through this one type, and both place a
/// crossing with `crossing(on:level:edges:)`, so that every vertex of a line is, bit for bit, a vertex
/// of the boundary between the two bands it separates.
///
/// **Why the space matters.** Along an edge from a = 10² to b = 10⁶, the level 10⁴ lies halfway
/// on a log scale, where the colours and the level spacing say it is, but at
/// t = (10⁴ − 10²) / (10⁶ − 10²) ≈ 0.0099 when interpolated linearly, hard against the low end.
/// On a surface spanning decades, linear interpolation squeezes every level towards the cells'
/// low corners and turns smooth bands into staircases; in log space the crossings fall where a
/// loss surface's (roughly exponential) values actually pass the level.
///
/// **Comparisons.** A value is above a level when its coordinate is ≥ the level's coordinate;
/// lines and bands use that same comparison. A value whose coordinate is not finite (NaN, ±∞, and
/// zero or negative values on a log scale) makes its cells unusable: no line or band enters them.
struct ContourField {
    let x: [Double]
    let y: [Double]
    /// The coordinates of the grid's values, `values[j * x.count + i]` for (x[i], y[j]).
    let values: [Double]
    let logarithmic: Bool

    init(_ grid: ScalarGrid, logarithmic: Bool) {
        x = grid.x; y = grid.y; self.logarithmic = logarithmic
        values = logarithmic ? grid.values.map { log10($0) } : grid.values
    }

    var columns: Int { x.count }
    var rows: Int { y.count }

    /// The coordinate of a level, nil when the level cannot be drawn (not finite, or ≤ 0 on a
    /// log scale).
    func coordinate(ofLevel level: Double) -> Double? {
        let c = logarithmic ? log10(level) : level
        return c.isFinite ? c : nil
    }

    /// The four corner coordinates of cell (i, j), counter-clockwise from (i, j) as in `CellCase`,
    /// or nil when one is not finite.
    func corners(ofCellAt i: Int, _ j: Int) -> [Double]? {
        let corners = [values[j * columns + i], values[j * columns + i + 1],
                       values[(j + 1) * columns + i + 1], values[(j + 1) * columns + i]]
        return corners.allSatisfy(\.isFinite) ? corners : nil
    }

    /// The one crossing computation: where the coordinate `level` crosses grid edge `edge`
    /// (`GridEdges` numbering), by linear interpolation of the coordinates between the edge's
    /// ends a and b (a the lower node index, whichever cell or band asks):
    ///
    ///     t = (level − c(a)) / (c(b) − c(a)),   p = a + t · (b − a)
    ///
    /// in data coordinates, so non-uniform grids are handled as they are. t = 0 and t = 1 return
    /// the node itself exactly, so that zero-length segments are recognized.
    func crossing(on edge: Int, level: Double, edges: GridEdges) -> PlotPoint {
        let (a, b) = edges.ends(of: edge)
        let ca = values[a], cb = values[b]
        // The ends lie on opposite sides, so ca != cb and t is in [0, 1] (rounding is monotone).
        let t = min(max((level - ca) / (cb - ca), 0), 1)
        let pa = PlotPoint(x[a % columns], y[a / columns])
        let pb = PlotPoint(x[b % columns], y[b / columns])
        if t == 0 { return pa }
        if t == 1 { return pb }
        return PlotPoint(pa.x + t * (pb.x - pa.x), pa.y + t * (pb.y - pa.y))
    }
}
