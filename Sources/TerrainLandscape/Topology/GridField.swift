/// One quantity of a 2D surface as the topology code sees it: values f[j·nx + i] at the points
/// (x[i], y[j]) of a `SurfaceGrid`, the 8-neighbourhood of each point, and a strict total order.
///
/// **Excluded points.** Only finite values take part. A point whose value is NaN (not computed,
/// or computed to NaN; `SurfaceValue`) or ±∞ (diverged) is *absent*: it is no critical point,
/// belongs to no basin and is no neighbour of anything, exactly like a position outside the grid.
/// So a basin ends at an excluded point as it ends at the grid's edge, and a region of valid
/// points cut off by excluded ones is a component of its own.
///
/// **The order.** p is *below* q when (f(p), p) < (f(q), q) lexicographically, the index
/// p = j·nx + i breaking ties (simulation of simplicity). Every comparison in the topology code
/// goes through `isBelow`, so a plateau of equal values is resolved consistently: it holds one
/// minimum (its lowest index), never one per point and never none.
///
/// **The ring.** The 8 neighbours of (i, j) in counter-clockwise order starting east:
/// E, NE, N, NW, W, SW, S, SE (N is +β). Two ring positions *touch* when the grid points are
/// 8-neighbours of each other: consecutive ring positions, and also two consecutive orthogonal
/// ones (E–N, N–W, W–S, S–E, which are diagonal to each other across the skipped diagonal).
public struct GridField: Sendable {
    public let grid: SurfaceGrid
    public let values: [Double]
    public var nx: Int { grid.x.count }
    public var ny: Int { grid.y.count }

    /// `values` has `grid.pointCount` entries, row by row over y; the grid is 2D.
    public init(grid: SurfaceGrid, values: [Double]) {
        precondition(grid.isTwoDimensional && values.count == grid.pointCount, "a 2D grid and one value per point")
        self.grid = grid
        self.values = values
    }

    public func isValid(_ p: Int) -> Bool { values[p].isFinite }

    /// The number of points that take part (finite values).
    public var validCount: Int { values.reduce(0) { $0 + ($1.isFinite ? 1 : 0) } }

    /// The strict total order: (f(p), p) < (f(q), q).
    @inline(__always)
    public func isBelow(_ p: Int, _ q: Int) -> Bool {
        values[p] < values[q] || (values[p] == values[q] && p < q)
    }

    /// Ring offsets (di, dj) in the order E, NE, N, NW, W, SW, S, SE.
    static let ring: [(di: Int, dj: Int)] = [(1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1)]

    /// Whether ring positions a < b touch (see the type's comment): consecutive around the ring,
    /// or two orthogonal positions (even indices) two apart.
    static func ringPositionsTouch(_ a: Int, _ b: Int) -> Bool {
        let gap = (b - a + 8) % 8
        if gap == 1 || gap == 7 { return true }
        return a % 2 == 0 && b % 2 == 0 && (gap == 2 || gap == 6)
    }

    /// The point at ring position `k` around `p`, or nil where it is outside the grid or excluded.
    @inline(__always)
    func neighbour(of p: Int, at k: Int) -> Int? {
        let i = p % nx + Self.ring[k].di, j = p / nx + Self.ring[k].dj
        guard i >= 0, i < nx, j >= 0, j < ny else { return nil }
        let q = j * nx + i
        return isValid(q) ? q : nil
    }

    /// Whether `p` lies on the grid's edge (first or last row or column).
    public func isOnEdge(_ p: Int) -> Bool {
        let i = p % nx, j = p / nx
        return i == 0 || j == 0 || i == nx - 1 || j == ny - 1
    }

    /// (α, β) of point `p`.
    public func coordinates(of p: Int) -> (alpha: Double, beta: Double) { (grid.x[p % nx], grid.y[p / nx]) }

    /// The width of each point's cell along one axis: half the distance to each neighbour,
    /// (c[k+1] − c[k−1])/2 inside and a half step at the two ends, so the cells tile
    /// [c.first, c.last] exactly, for evenly spaced and `--cubic` axes alike. A 1-point axis has
    /// width 0.
    static func cellWidths(_ c: [Double]) -> [Double] {
        guard c.count > 1 else { return [0] }
        return c.indices.map { k in
            let left = k > 0 ? abs(c[k] - c[k - 1]) / 2 : 0
            let right = k + 1 < c.count ? abs(c[k + 1] - c[k]) / 2 : 0
            return left + right
        }
    }
}
