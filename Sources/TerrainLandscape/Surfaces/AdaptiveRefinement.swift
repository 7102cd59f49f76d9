/// Which points of a 2D grid to compute so that its contour picture is that of the full grid, and
/// how to fill in the others: a coarse lattice first, then only the cells whose contours it does
/// not resolve are refined, round after round; the rest is interpolated.
///
/// **Cells.** Along an axis of n points, the lines of stride s = 2^ℓ are the multiples of s below
/// n − 1, and n − 1 itself (so any n works; n = 2^k·m + 1 gives equal cells). A cell of level ℓ
/// is the rectangle between neighbouring lines of stride 2^ℓ; refining it computes the points of
/// stride 2^(ℓ−1) inside it (edge midpoints and centre), which make its up to four children. The
/// first round computes the lattice of the coarsest stride 2^`levels`.
///
/// **Decisions.** After each round every cell whose corners are known and whose fate is open is
/// decided, coarsest first. It is *unresolved*, and refined, when for any guide quantity (the
/// losses):
/// - a corner is not finite and not all four are +∞ (the edge of a diverged region is computed
///   in full; a cell diverged at every corner is taken as diverged inside);
/// - a contour level crosses it as a saddle (diagonal corners on the same side of the level, the
///   two diagonals on opposite sides: the bilinear centre, not the data, would decide the topology);
/// - the curvature test fails: the error of linear interpolation at the middle of the cell's
///   edges, estimated from second divided differences with the nearest known points beyond the
///   cell on the same rows and columns (f[x₀, x₁, x₂]·h²/4 = f″·h²/8 along x, likewise along y,
///   the two added), exceeds `tolerance` × the finest level spacing over the cell's range of
///   values; or no neighbour is known to estimate it with.
/// Several levels between the corners are no reason by themselves: a plane is exact under
/// bilinear interpolation however many contours cross a cell, and where the surface bends the
/// curvature test measures the error against the level spacing.
///
/// **Conforming.** Neighbouring leaf cells differ by at most one level (a 2:1 balanced quadtree):
/// refining a cell refines whatever coarser leaf lies across one of its edges, so that cell is
/// always refined when its neighbour was refined at the finer level. An edge therefore carries at
/// most one computed point besides its corners.
///
/// **Filling.** A point not computed lies in a leaf cell; on the cell's edge it is linear between
/// the nearest computed points of that edge (so the two cells sharing an edge give it the same
/// bits), inside it is the Coons patch of the four edges — bilinear in the corners when no edge
/// holds a midpoint. A plane is reproduced to rounding.
///
/// **Determinism.** Decisions depend on the values of the points this plan asked for and on
/// nothing else (not on other points a resumed run may hold, nor on threads or ranks), and are
/// taken in a fixed order; the contour levels of a round come from the values known then.
public final class AdaptiveRefinement {
    public let grid: SurfaceGrid
    /// The number of halvings from the coarse lattice to the full grid (the coarse stride is 2^levels).
    public let levels: Int
    public let tolerance: Double
    public let contourLevels: RefinementLevels

    /// The fewest cells along each axis the coarse lattice keeps, so that every coarse cell has a
    /// neighbour to estimate curvature with and a basin is not hidden between four corners.
    public static let minimumCoarseCells = 4

    let nx: Int, ny: Int
    /// Per level, the lines along x and y.
    let xLines: [[Int]], yLines: [[Int]]
    /// Per level ≥ 1, per cell (row-major over the level's cells): split into children?
    var refined: [[Bool]]
    /// Per level ≥ 1, per cell: judged already (resolved or refined)?
    var decided: [[Bool]]
    /// Points whose values this plan has taken in.
    var known: [Bool]
    /// The points the current round needs.
    public private(set) var wanted: [Int]
    public private(set) var rounds = 0

    /// `requestedLevels` is reduced so that the coarse lattice keeps `minimumCoarseCells` cells
    /// along each axis (`effectiveLevels`); 0 computes every point.
    public init(grid: SurfaceGrid, levels requestedLevels: Int, tolerance: Double, contourLevels: RefinementLevels) throws {
        guard grid.isTwoDimensional else {
            throw LandscapeError.invalidRequest("adaptive refinement is for 2D surfaces (give --y); a 1D curve is cheap to compute in full")
        }
        guard grid.x.count >= 2, grid.y.count >= 2 else {
            throw LandscapeError.invalidRequest("adaptive refinement needs at least 2 points along each axis; the grid is \(grid.x.count)x\(grid.y.count)")
        }
        guard requestedLevels >= 0, requestedLevels <= 20 else {
            throw LandscapeError.invalidRequest("adaptive levels must be between 0 and 20 (got \(requestedLevels))")
        }
        guard tolerance.isFinite, tolerance > 0 else {
            throw LandscapeError.invalidRequest("the adaptive tolerance must be a positive number of level spacings (got \(tolerance))")
        }
        self.grid = grid
        self.tolerance = tolerance
        self.contourLevels = contourLevels
        let columns = grid.x.count, rows = grid.y.count
        nx = columns
        ny = rows
        let levels = Self.effectiveLevels(requestedLevels, columns: columns, rows: rows)
        self.levels = levels
        xLines = (0...levels).map { Self.lines(count: columns, stride: 1 << $0) }
        yLines = (0...levels).map { Self.lines(count: rows, stride: 1 << $0) }
        refined = zip(xLines, yLines).enumerated().map { level, lines in
            [Bool](repeating: false, count: level == 0 ? 0 : (lines.0.count - 1) * (lines.1.count - 1))
        }
        decided = refined
        known = [Bool](repeating: false, count: grid.pointCount)
        wanted = []
        for j in yLines[levels] { for i in xLines[levels] { wanted.append(j * columns + i) } }
        if levels == 0 { wanted = Array(0..<grid.pointCount) }
    }

    /// The largest number of halvings ≤ `requested` that leaves `minimumCoarseCells` coarse cells
    /// along both axes (0 when the grid is too small for any).
    public static func effectiveLevels(_ requested: Int, columns: Int, rows: Int) -> Int {
        var level = max(requested, 0)
        while level > 0, min(lines(count: columns, stride: 1 << level).count, lines(count: rows, stride: 1 << level).count) - 1 < minimumCoarseCells {
            level -= 1
        }
        return level
    }

    /// The multiples of `stride` below count − 1, then count − 1.
    static func lines(count: Int, stride: Int) -> [Int] {
        Array(Swift.stride(from: 0, to: count - 1, by: stride)) + [count - 1]
    }

    /// Whether the plan has computed every point it needs.
    public var isFinished: Bool { wanted.isEmpty }

    /// Points computed (or to be computed) by this plan: true where the values are data, false
    /// where `interpolate` fills them in.
    public var computedMask: [Bool] { known }

    public var computedCount: Int { known.lazy.filter { $0 }.count }

    /// Takes in the values of the points `wanted` lists (each guide quantity laid out over the
    /// whole grid; only those points and earlier ones are read), decides the cells that can be
    /// decided, and lists the next round's points in `wanted`. Returns false when the plan is
    /// finished.
    @discardableResult
    public func advance(values guides: [[Double]]) -> Bool {
        precondition(!guides.isEmpty && guides.allSatisfy { $0.count == grid.pointCount }, "one value per grid point for each guide quantity")
        for p in wanted { known[p] = true }
        rounds += 1
        let levelSets = guides.map { values -> LevelSet in
            let finite = zip(known, values).compactMap { $0 && $1.isFinite ? $1 : nil }
            return LevelSet(rule: contourLevels, finiteValues: finite)
        }
        if levels > 0 {
            for level in stride(from: levels, through: 1, by: -1) {
                let columns = xLines[level].count - 1
                for cell in refined[level].indices where !decided[level][cell] && !refined[level][cell] && exists(level, cell) {
                    let (i0, i1, j0, j1) = bounds(level, cell % columns, cell / columns)
                    guard known[j0 * nx + i0], known[j0 * nx + i1], known[j1 * nx + i0], known[j1 * nx + i1] else { continue }
                    decided[level][cell] = true
                    let unresolved = zip(guides, levelSets).contains { isUnresolved(i0, i1, j0, j1, values: $0, levels: $1) }
                    if unresolved { refine(level, cell) }
                }
            }
        }
        wanted = []
        var planned = known
        func want(_ p: Int) { if !planned[p] { planned[p] = true; wanted.append(p) } }
        for level in stride(from: levels, through: 1, by: -1) {
            let columns = xLines[level].count - 1
            for cell in refined[level].indices where refined[level][cell] {
                let (i0, i1, j0, j1) = bounds(level, cell % columns, cell / columns)
                for j in yLines[level - 1] where j >= j0 && j <= j1 {
                    for i in xLines[level - 1] where i >= i0 && i <= i1 { want(j * nx + i) }
                }
            }
        }
        wanted.sort()
        return !wanted.isEmpty
    }

    /// The grid indices of a cell's corner lines: columns i0, i1 and rows j0, j1.
    func bounds(_ level: Int, _ cx: Int, _ cy: Int) -> (Int, Int, Int, Int) {
        (xLines[level][cx], xLines[level][cx + 1], yLines[level][cy], yLines[level][cy + 1])
    }

    /// A cell exists when it is coarse or its parent (cx/2, cy/2 one level up) is refined.
    func exists(_ level: Int, _ cell: Int) -> Bool {
        guard level < levels else { return true }
        let columns = xLines[level].count - 1
        return refined[level + 1][parent(level, cell % columns, cell / columns)]
    }

    func parent(_ level: Int, _ cx: Int, _ cy: Int) -> Int {
        (cy / 2) * (xLines[level + 1].count - 1) + cx / 2
    }

    /// Splits a cell, first making sure it exists, then that each edge neighbour exists at its level
    /// (the 2:1 balance: its children will border cells at most one level coarser).
    func refine(_ level: Int, _ cell: Int) {
        guard !refined[level][cell] else { return }
        let columns = xLines[level].count - 1, rows = yLines[level].count - 1
        let cx = cell % columns, cy = cell / columns
        if level < levels, !refined[level + 1][parent(level, cx, cy)] {
            refine(level + 1, parent(level, cx, cy))
        }
        refined[level][cell] = true
        guard level < levels else { return }
        for (ax, ay) in [(cx - 1, cy), (cx + 1, cy), (cx, cy - 1), (cx, cy + 1)] where ax >= 0 && ax < columns && ay >= 0 && ay < rows {
            let up = parent(level, ax, ay)
            if !refined[level + 1][up] { refine(level + 1, up) }
        }
    }

    /// Whether bilinear interpolation cannot be trusted over the cell for one guide quantity.
    func isUnresolved(_ i0: Int, _ i1: Int, _ j0: Int, _ j1: Int, values f: [Double], levels: LevelSet) -> Bool {
        guard i1 - i0 > 1 || j1 - j0 > 1 else { return false }   // nothing inside to fill
        let v00 = f[j0 * nx + i0], v10 = f[j0 * nx + i1], v01 = f[j1 * nx + i0], v11 = f[j1 * nx + i1]
        guard v00.isFinite, v10.isFinite, v01.isFinite, v11.isFinite else {
            // Diverged all round: the inside is taken as diverged too, not computed point by point.
            return ![v00, v10, v01, v11].allSatisfy { $0 == .infinity }
        }
        let low = min(v00, v10, v01, v11), high = max(v00, v10, v01, v11)
        for level in levels.crossing(low: low, high: high) {
            let a00 = v00 >= level, a10 = v10 >= level, a01 = v01 >= level, a11 = v11 >= level
            if a00 == a11, a10 == a01, a00 != a10 { return true }
        }
        var error = 0.0
        if i1 - i0 > 1 {
            guard let e = edgeError(along: grid.x, from: i0, to: i1, lines: [j0, j1], values: f, index: { i, j in j * nx + i })
            else { return true }
            error += e
        }
        if j1 - j0 > 1 {
            guard let e = edgeError(along: grid.y, from: j0, to: j1, lines: [i0, i1], values: f, index: { j, i in j * nx + i })
            else { return true }
            error += e
        }
        return error > tolerance * levels.spacing(low: low, high: high)
    }

    /// The largest estimated error of linear interpolation at the middle of [a, b] along one axis,
    /// over the given lines across it: |f[t₀, t₁, t₂]|·(t_b − t_a)²/4 for the triples formed with
    /// the nearest known finite point on either side of the interval (searched as far as twice
    /// its width). nil when no line has such a neighbour.
    func edgeError(along t: [Double], from a: Int, to b: Int, lines: [Int], values f: [Double],
                   index: (_ along: Int, _ across: Int) -> Int) -> Double? {
        let width = b - a, h = t[b] - t[a]
        var worst: Double?
        for line in lines {
            let fa = f[index(a, line)], fb = f[index(b, line)]
            let slope = (fb - fa) / h
            var outward: [Int] = []
            if let p = stride(from: a - 1, through: max(a - 2 * width, 0), by: -1).first(where: { known[index($0, line)] && f[index($0, line)].isFinite }) {
                outward.append(p)
            }
            if let q = stride(from: b + 1, through: min(b + 2 * width, t.count - 1), by: 1).first(where: { known[index($0, line)] && f[index($0, line)].isFinite }) {
                outward.append(q)
            }
            for p in outward {
                let fp = f[index(p, line)]
                // Second divided difference over (p, a, b) or (a, b, p), whichever side p is on.
                let divided = p < a ? (slope - (fa - fp) / (t[a] - t[p])) / (t[b] - t[p])
                                    : ((fp - fb) / (t[p] - t[b]) - slope) / (t[p] - t[a])
                worst = max(worst ?? 0, abs(divided) * h * h / 4)
            }
        }
        return worst
    }

    /// `values` (one quantity over the whole grid) with every point this plan did not compute
    /// filled in from its leaf cell; computed points are returned untouched.
    public func interpolate(_ values: [Double]) -> [Double] {
        precondition(values.count == grid.pointCount)
        var filled = values
        for level in stride(from: levels, through: 1, by: -1) {
            let columns = xLines[level].count - 1
            for cell in refined[level].indices where !refined[level][cell] && exists(level, cell) {
                let (i0, i1, j0, j1) = bounds(level, cell % columns, cell / columns)
                fill(i0, i1, j0, j1, values: values, into: &filled)
            }
        }
        return filled
    }

    /// Fills one leaf cell's unknown points: edges piecewise linear through their known points,
    /// the inside by the Coons patch of the edges.
    func fill(_ i0: Int, _ i1: Int, _ j0: Int, _ j1: Int, values f: [Double], into out: inout [Double]) {
        let x = grid.x, y = grid.y
        /// The value at step k of a grid line whose step m lies at coordinate t[m] and grid index
        /// index(m): f itself where known, else linear in t between the nearest known steps on
        /// either side (the rectangle's edges are known, so both exist).
        func alongLine(_ k: Int, _ t: [Double], _ index: (Int) -> Int) -> Double {
            if known[index(k)] { return f[index(k)] }
            var l = k, r = k
            while !known[index(l)] { l -= 1 }
            while !known[index(r)] { r += 1 }
            let u = (t[k] - t[l]) / (t[r] - t[l])
            return (1 - u) * f[index(l)] + u * f[index(r)]
        }
        /// Linear between the nearest known points of row j within [i0, i1].
        func row(_ j: Int, _ i: Int) -> Double { alongLine(i, x) { j * nx + $0 } }
        /// Linear between the nearest known points of column i within [j0, j1].
        func column(_ i: Int, _ j: Int) -> Double { alongLine(j, y) { $0 * nx + i } }
        let f00 = f[j0 * nx + i0], f10 = f[j0 * nx + i1], f01 = f[j1 * nx + i0], f11 = f[j1 * nx + i1]
        for j in j0...j1 {
            for i in i0...i1 where !known[j * nx + i] {
                if j == j0 || j == j1 { out[j * nx + i] = row(j, i); continue }
                if i == i0 || i == i1 { out[j * nx + i] = column(i, j); continue }
                let u = (x[i] - x[i0]) / (x[i1] - x[i0]), v = (y[j] - y[j0]) / (y[j1] - y[j0])
                let edges = (1 - v) * row(j0, i) + v * row(j1, i) + (1 - u) * column(i0, j) + u * column(i1, j)
                let corners = (1 - u) * (1 - v) * f00 + u * (1 - v) * f10 + (1 - u) * v * f01 + u * v * f11
                let value = edges - corners
                // ∞ − ∞ beside diverged corners: the point is taken as diverged (+∞), as they are.
                out[j * nx + i] = value.isNaN && [f00, f10, f01, f11].contains(.infinity) ? .infinity : value
            }
        }
    }
}
