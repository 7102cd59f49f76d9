import Testing
import Foundation
@testable import TerrainPlot

/// Grids with known contours: circles of z = x² + y², the axes of z = x·y.
private enum Surfaces {
    static func linspace(_ from: Double, _ to: Double, _ count: Int) -> [Double] {
        (0..<count).map { from + (to - from) * Double($0) / Double(count - 1) }
    }

    static func grid(x: [Double], y: [Double], _ f: (Double, Double) -> Double) -> ScalarGrid {
        ScalarGrid(x: x, y: y, values: y.flatMap { yj in x.map { xi in f(xi, yj) } })
    }

    /// z = x² + y² on [-1, 1]², 41 × 41 (h = 0.05).
    static let paraboloid = grid(x: linspace(-1, 1, 41), y: linspace(-1, 1, 41)) { $0 * $0 + $1 * $1 }

    /// Cubic spacing in x ((s + s³)/2 for uniform s: dense at the centre, 0.017 to 0.067 apart),
    /// 61 columns; 33 uniform rows over [-0.8, 0.8]: neither square nor uniform.
    static let unevenParaboloid = grid(
        x: linspace(-1, 1, 61).map { ($0 + $0 * $0 * $0) / 2 },
        y: linspace(-0.8, 0.8, 33)) { $0 * $0 + $1 * $1 }
}

/// Whether two consecutive points of a line (including last to first for a loop) coincide.
private func hasRepeatedNeighbours(_ line: ContourLine) -> Bool {
    let n = line.points.count
    return (0..<n).contains { k in (k + 1 < n || line.isClosed) && line.points[k] == line.points[(k + 1) % n] }
}

private func area(of band: ContourBand) -> Double { band.polygons.reduce(0) { $0 + signedArea($1) } }

@Suite("Contours")
struct ContourTests {
    // MARK: - Marching squares

    /// The paraboloid's contour at r² is one loop, every vertex on the circle of radius r within
    /// the linear interpolation error (z is off by at most h²/4 along an edge of length h, so the
    /// radius by about h²/(8r)); it runs clockwise, keeping the higher values on its left.
    @Test(arguments: [0.3, 0.5, 0.75])
    func paraboloidContourIsOneClosedCircle(radius: Double) throws {
        let lines = MarchingSquares.lines(in: Surfaces.paraboloid, level: radius * radius)
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.isClosed)
        #expect(line.level == radius * radius)
        #expect(line.points.count > 20)
        #expect(line.points.first != line.points.last)      // a loop does not repeat its start
        #expect(!hasRepeatedNeighbours(line))
        let worst = line.points.map { abs(hypot($0.x, $0.y) - radius) }.max()!
        #expect(worst < 2e-3)
        // Clockwise around the disk: the higher values (outside) are on the left.
        // (The inscribed polygon misses about πh²/6 between its chords and the circle.)
        #expect(abs(signedArea(line.points) + Double.pi * radius * radius) < 0.005)
    }

    @Test func unevenGridContourIsOneClosedCircle() throws {
        let radius = 0.6
        let lines = MarchingSquares.lines(in: Surfaces.unevenParaboloid, level: radius * radius)
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.isClosed)
        let worst = line.points.map { abs(hypot($0.x, $0.y) - radius) }.max()!
        #expect(worst < 3e-3)
        // A circle reaching beyond the y range is cut by the border into two open arcs.
        let cut = MarchingSquares.lines(in: Surfaces.unevenParaboloid, level: 0.9 * 0.9)
        #expect(cut.count == 2)
        for arc in cut {
            #expect(!arc.isClosed)
            #expect(abs(abs(arc.points.first!.y) - 0.8) < 1e-12 && abs(abs(arc.points.last!.y) - 0.8) < 1e-12)
        }
    }

    /// z = x·y with no grid node on the axes: level 0 gives two open lines, each lying on the
    /// axes and bending at the origin. The central cell is a saddle whose centre value (0) counts
    /// as above, so the quadrants x·y > 0 stay joined and each line bounds one quadrant where
    /// x·y < 0.
    @Test func saddleZeroLevelFollowsTheAxes() {
        let axis = Surfaces.linspace(-1, 1, 40)
        let saddle = Surfaces.grid(x: axis, y: axis) { $0 * $1 }
        let lines = MarchingSquares.lines(in: saddle, level: 0)
        #expect(lines.count == 2)
        var quadrantSigns: Set<[Double]> = []
        for line in lines {
            #expect(!line.isClosed)
            for p in line.points { #expect(abs(p.x) < 1e-12 || abs(p.y) < 1e-12) }
            for end in [line.points.first!, line.points.last!] {
                #expect(abs(abs(end.x) - 1) < 1e-12 || abs(abs(end.y) - 1) < 1e-12)
            }
            // Both ends on the border, one on each axis: the line turns at the origin.
            let far = line.points.filter { max(abs($0.x), abs($0.y)) > 0.1 }
            let sx = far.map(\.x).max(by: { abs($0) < abs($1) })!.sign == .minus ? -1.0 : 1.0
            let sy = far.map(\.y).max(by: { abs($0) < abs($1) })!.sign == .minus ? -1.0 : 1.0
            #expect(sx * sy < 0)            // a quadrant where x·y < 0
            quadrantSigns.insert([sx, sy])
        }
        #expect(quadrantSigns == [[1, -1], [-1, 1]])
    }

    /// One saddle cell by hand, corners (0,0)=a, (1,0)=b, (1,1)=a, (0,1)=b with a > 0 > b. The
    /// edge crossings at level 0 are fixed; the centre's sign decides which pairs are joined.
    @Test func saddleCellIsSettledByTheCentreValue() {
        func segments(_ a: Double, _ b: Double) -> [[PlotPoint]] {
            let cell = ScalarGrid(x: [0, 1], y: [0, 1], values: [a, b, b, a])
            return MarchingSquares.lines(in: cell, level: 0).map { line in
                #expect(!line.isClosed && line.points.count == 2)
                return line.points
            }
        }
        func close(_ p: PlotPoint, _ q: PlotPoint) -> Bool { abs(p.x - q.x) < 1e-12 && abs(p.y - q.y) < 1e-12 }
        func contains(_ found: [[PlotPoint]], _ expected: [PlotPoint]) -> Bool {
            found.contains { close($0[0], expected[0]) && close($0[1], expected[1]) }
        }

        // Centre (2 + 2 − 1 − 1)/4 = 0.5 ≥ 0: the high corners (0,0) and (1,1) are joined through
        // the middle; the segments cut off the low corners (1,0) and (0,1).
        let high = segments(2, -1)
        #expect(high.count == 2)
        // Crossings: bottom (2/3, 0), right (1, 1/3), top (1/3, 1), left (0, 2/3). Oriented with
        // the high side on the left.
        #expect(contains(high, [PlotPoint(2.0 / 3, 0), PlotPoint(1, 1.0 / 3)]))
        #expect(contains(high, [PlotPoint(1.0 / 3, 1), PlotPoint(0, 2.0 / 3)]))

        // Centre (1 + 1 − 2 − 2)/4 = −0.5 < 0: the low corners are joined; the segments cut off
        // the high corners (0,0) and (1,1).
        let low = segments(1, -2)
        #expect(low.count == 2)
        // Crossings: bottom (1/3, 0), right (1, 2/3), top (2/3, 1), left (0, 1/3).
        #expect(contains(low, [PlotPoint(1.0 / 3, 0), PlotPoint(0, 1.0 / 3)]))
        #expect(contains(low, [PlotPoint(2.0 / 3, 1), PlotPoint(1, 2.0 / 3)]))
    }

    /// Values exactly at the level count as above: no zero-length segments, no repeated points,
    /// and an isolated node equal to the level (a peak touching it) draws nothing.
    @Test func valuesOnTheLevelGiveNoDegenerateSegments() throws {
        // z = x + y on integer nodes: the level-0 line runs through the diagonal's nodes, where
        // pairs of crossed edges meet (segments of length zero, dropped).
        let integers = (-10...10).map(Double.init)
        let plane = Surfaces.grid(x: integers, y: integers) { $0 + $1 }
        let lines = MarchingSquares.lines(in: plane, level: 0)
        #expect(lines.count == 1)
        let diagonal = try #require(lines.first)
        #expect(!diagonal.isClosed && !hasRepeatedNeighbours(diagonal))
        #expect(diagonal.points == integers.map { PlotPoint($0, -$0) })     // higher side on the left

        let axis = Surfaces.linspace(-1, 1, 21)
        let cone = Surfaces.grid(x: axis, y: axis) { max(abs($0), abs($1)) }      // nodes at 0.5 exactly
        let square = MarchingSquares.lines(in: cone, level: 0.5)
        #expect(square.count == 1 && square[0].isClosed && !hasRepeatedNeighbours(square[0]))
        let peak = Surfaces.grid(x: axis, y: axis) { -hypot($0, $1) }
        #expect(MarchingSquares.lines(in: peak, level: 0).isEmpty)
    }

    /// A block of missing values (and one diverged value): no contour point or segment lies
    /// inside the cells that touch them; the circle through the block becomes one open line whose
    /// ends lie on the block's border; circles elsewhere stay closed.
    @Test func contoursStopAtMissingAndDivergedValues() throws {
        var grid = Surfaces.paraboloid
        for j in 15...22 { for i in 25...30 { grid.values[j * 41 + i] = .nan } }
        grid.values[22 * 41 + 28] = .infinity
        // Cells touching the block: columns 24...30, rows 14...22, i.e. this open rectangle.
        let (x0, x1, y0, y1) = (grid.x[24], grid.x[31], grid.y[14], grid.y[23])
        func strictlyInside(_ p: PlotPoint) -> Bool {
            p.x > x0 + 1e-12 && p.x < x1 - 1e-12 && p.y > y0 + 1e-12 && p.y < y1 - 1e-12
        }
        let levels = [0.0225, 0.25, 0.5]
        let lines = MarchingSquares.lines(in: grid, levels: levels)
        for line in lines {
            for (k, p) in line.points.enumerated() {
                #expect(!strictlyInside(p))
                if k + 1 < line.points.count {
                    let q = line.points[k + 1]
                    #expect(!strictlyInside(PlotPoint((p.x + q.x) / 2, (p.y + q.y) / 2)))
                }
            }
        }
        let small = lines.filter { $0.level == 0.0225 }      // r = 0.15, away from the block
        #expect(small.count == 1 && small[0].isClosed)
        let broken = lines.filter { $0.level == 0.25 }       // r = 0.5 runs through the block
        #expect(broken.count == 1)
        let arc = try #require(broken.first)
        #expect(!arc.isClosed)
        for end in [arc.points.first!, arc.points.last!] {
            let onBorder = (abs(end.x - x0) < 1e-12 || abs(end.x - x1) < 1e-12 || abs(end.y - y0) < 1e-12 || abs(end.y - y1) < 1e-12)
            #expect(onBorder)
            #expect(abs(hypot(end.x, end.y) - 0.5) < 2e-3)
        }
    }

    @Test func degenerateGridsGiveNoLines() {
        #expect(MarchingSquares.lines(in: ScalarGrid(x: [0], y: [0, 1], values: [0, 1]), level: 0.5).isEmpty)
        #expect(MarchingSquares.lines(in: Surfaces.paraboloid, level: .nan).isEmpty)
        #expect(MarchingSquares.lines(in: Surfaces.paraboloid, level: 5).isEmpty)
    }

    // MARK: - Levels

    @Test func steppedLevelsAreNumpyArange() throws {
        let levels = try ContourLevels.stepped(from: 0.1, to: 10, step: 0.5)
        #expect(levels.count == 20)
        #expect(levels.first == 0.1 && levels.last == 9.6)
        #expect(levels == [0.1, 0.6, 1.1, 1.6, 2.1, 2.6, 3.1, 3.6, 4.1, 4.6, 5.1, 5.6, 6.1, 6.6, 7.1, 7.6, 8.1, 8.6, 9.1, 9.6])
        // numpy.arange(-1, 1, 0.1), bit for bit (numpy steps by (start + step) − start).
        let numpy: [Double] = [
            -0x1.0000000000000p+0, -0x1.ccccccccccccdp-1, -0x1.999999999999ap-1, -0x1.6666666666667p-1,
            -0x1.3333333333334p-1, -0x1.0000000000001p-1, -0x1.999999999999cp-2, -0x1.3333333333336p-2,
            -0x1.99999999999a0p-3, -0x1.99999999999a8p-4, -0x1.0000000000000p-52, 0x1.9999999999980p-4,
            0x1.9999999999990p-3, 0x1.3333333333330p-2, 0x1.9999999999994p-2, 0x1.ffffffffffff8p-2,
            0x1.3333333333330p-1, 0x1.6666666666664p-1, 0x1.9999999999996p-1, 0x1.cccccccccccc8p-1,
        ]
        #expect(try ContourLevels.stepped(from: -1, to: 1, step: 0.1) == numpy)
        #expect(try ContourLevels.stepped(from: 1, to: 3, step: 1) == [1, 2])      // the end is excluded
        #expect(try ContourLevels.stepped(from: 1, to: 1, step: 1).isEmpty)
        #expect(throws: PlotError.self) { try ContourLevels.stepped(from: 0, to: 1, step: 0) }
        #expect(throws: PlotError.self) { try ContourLevels.stepped(from: 0, to: 1, step: -0.1) }
        #expect(throws: PlotError.self) { try ContourLevels.stepped(from: 0, to: .infinity, step: 0.1) }
        #expect(throws: PlotError.self) { try ContourLevels.stepped(from: 0, to: 1, step: 1e-9) }
    }

    @Test func logSpacedLevelsAreGeometricWithExactEnds() throws {
        let levels = try ContourLevels.logSpaced(from: 1e-3, to: 10, count: 5)
        #expect(levels.count == 5)
        #expect(levels.first == 1e-3 && levels.last == 10)
        for (level, expected) in zip(levels, [1e-3, 1e-2, 1e-1, 1, 10]) {
            #expect(abs(level / expected - 1) < 1e-12)
        }
        #expect(throws: PlotError.self) { try ContourLevels.logSpaced(from: 0, to: 1, count: 5) }
        #expect(throws: PlotError.self) { try ContourLevels.logSpaced(from: 2, to: 1, count: 5) }
        #expect(throws: PlotError.self) { try ContourLevels.logSpaced(from: 1, to: 2, count: 1) }
    }

    @Test func automaticLevelsLieInsideTheValues() {
        // Values 0...2: nice levels 0.25, 0.5, …, 1.75 (0 and 2 are the extremes, not contours).
        let linear = ContourLevels.automatic(for: Surfaces.paraboloid, count: 10, logarithmic: false)
        #expect(linear == [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75])

        // Logarithmic: positive values only (0.0025...2), dense near the minimum.
        let log = ContourLevels.automatic(for: Surfaces.paraboloid, count: 10, logarithmic: true)
        #expect(log.count == 10)
        #expect(zip(log, log.dropFirst()).allSatisfy { $0 < $1 })
        #expect(log.first! > 0.0025 && log.last! < 2)
        #expect(log.filter { $0 < 0.2 }.count >= 6)
        // Rounded for labels: at most three significant digits here.
        for level in log { #expect(ContourLevels.roundedToSignificantDigits(level, 3) == level) }

        // Missing, diverged and flat grids.
        var holes = Surfaces.paraboloid
        holes.values[0] = .nan; holes.values[1] = .infinity
        #expect(ContourLevels.automatic(for: holes, logarithmic: false) == linear)
        let flat = ScalarGrid(x: [0, 1], y: [0, 1], values: [3, 3, 3, .nan])
        #expect(ContourLevels.automatic(for: flat, logarithmic: false).isEmpty)
        let negative = ScalarGrid(x: [0, 1], y: [0, 1], values: [-3, -2, -1, 0])
        #expect(ContourLevels.automatic(for: negative, logarithmic: true).isEmpty)
    }

    // MARK: - Nice scales

    @Test func niceTicks() {
        // At most maximumCount ticks, with the smallest nice step that fits.
        #expect(NiceScale.ticks(from: 0, to: 1, maximumCount: 5) == [0, 0.25, 0.5, 0.75, 1])
        #expect(NiceScale.ticks(from: 0, to: 1, maximumCount: 6) == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(NiceScale.step(from: 0, to: 1, maximumCount: 5) == 0.25)
        // Exact decimals, not accumulated sums: 0.3, not 0.30000000000000004.
        let tenths = NiceScale.ticks(from: 0, to: 1, maximumCount: 11)
        #expect(tenths == [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1])
        #expect(NiceScale.ticks(from: -0.35, to: 0.35, maximumCount: 8) == [-0.3, -0.2, -0.1, 0, 0.1, 0.2, 0.3])
        #expect(NiceScale.ticks(from: 1, to: 0, maximumCount: 6) == [0, 0.2, 0.4, 0.6, 0.8, 1])   // reversed
        #expect(NiceScale.ticks(from: 0.7, to: 0.7, maximumCount: 5) == [0.7])
        #expect(NiceScale.ticks(from: 0.3, to: 0.7, maximumCount: 1) == [0.5])
        #expect(NiceScale.ticks(from: 130, to: 1020, maximumCount: 6) == [200, 400, 600, 800, 1000])
        #expect(NiceScale.ticks(from: 2e-6, to: 9e-6, maximumCount: 4) == [2e-6, 4e-6, 6e-6, 8e-6])
        #expect(NiceScale.ticks(from: 0, to: .nan, maximumCount: 5).isEmpty)
        #expect(NiceScale.ticks(from: 0, to: 1, maximumCount: 0).isEmpty)
        #expect(NiceScale.ticks(from: 0, to: .leastNonzeroMagnitude, maximumCount: 5).isEmpty)
        #expect(NiceScale.step(from: 3, to: 3, maximumCount: 5) == 1)         // as for [0, 3]
        for count in 1...12 {
            let ticks = NiceScale.ticks(from: -3.7, to: 12.1, maximumCount: count)
            #expect(!ticks.isEmpty && ticks.count <= count)
            #expect(ticks.allSatisfy { $0 >= -3.7 && $0 <= 12.1 })
        }
    }

    @Test func tickLabels() {
        #expect(NiceScale.label(0.1 + 0.2, step: 0.1) == "0.3")
        #expect(NiceScale.label(3 * 0.1, step: 0.1) == "0.3")
        #expect(NiceScale.label(0.5, step: 0.25) == "0.50")
        #expect(NiceScale.label(150, step: 50) == "150")
        #expect(NiceScale.label(2.5, step: 2.5) == "2.5")
        #expect(NiceScale.label(-0.0, step: 0.1) == "0.0")
        #expect(NiceScale.label(-1e-17, step: 0.2) == "0.0")
        #expect(NiceScale.label(3e-5, step: 1e-5) == "3e-05")
        #expect(NiceScale.label(1.5e-5, step: 5e-6) == "1.5e-05")
        #expect(NiceScale.label(0, step: 1e-5) == "0")
        #expect(NiceScale.label(2.5e6, step: 5e5) == "2.5e+06")
        #expect(NiceScale.label(1e6, step: 2e5) == "1e+06")
        #expect(NiceScale.label(-1.2e7, step: 1e6) == "-1.2e+07")
        #expect(NiceScale.label(0.37, step: 0) == "0.37")
    }

    // MARK: - Filled contours

    /// The paraboloid's band [a, b) is the annulus √a ≤ r < √b, of area π(b − a); the bands tile
    /// the finite cells exactly.
    @Test func paraboloidBandAreasAreAnnuli() {
        let levels = [0.04, 0.16, 0.36, 0.64, 0.81]
        let bands = FilledContours.bands(in: Surfaces.paraboloid, levels: levels)
        #expect(bands.count == levels.count + 1)
        #expect(bands.first!.lower == -.infinity && bands.last!.upper == .infinity)
        for (k, band) in bands.enumerated() {
            #expect(band.lower == (k == 0 ? -.infinity : levels[k - 1]))
            #expect(band.upper == (k == levels.count ? .infinity : levels[k]))
        }
        for band in bands.dropFirst().dropLast() {
            let expected = Double.pi * (band.upper - band.lower)
            #expect(abs(area(of: band) - expected) < 0.01 * expected, "band [\(band.lower), \(band.upper))")
        }
        // [0.04, 0.64) together.
        let joined = area(of: bands[1]) + area(of: bands[2]) + area(of: bands[3])
        #expect(abs(joined - Double.pi * 0.6) < 0.01 * Double.pi * 0.6)
        let total = bands.reduce(0) { $0 + area(of: $1) }
        #expect(abs(total - 4) < 1e-12)
    }

    /// Every polygon is a cell's piece cut by the contour segments of at most two levels (3 to 8
    /// vertices: a hexagon where a band cuts off two opposite corners, an octagon in a saddle cut
    /// at both levels), convex, counter-clockwise, and its values lie in its band (the exact
    /// value at the centroid, within interpolation error).
    @Test func bandPolygonsHoldTheirValues() {
        let grid = Surfaces.unevenParaboloid
        let levels = try! ContourLevels.stepped(from: 0.05, to: 1.3, step: 0.1)
        for band in FilledContours.bands(in: grid, levels: levels) {
            for polygon in band.polygons {
                #expect((3...8).contains(polygon.count))
                #expect(signedArea(polygon) > 0)
                // Convex: every turn is to the left (or straight, within rounding).
                let n = polygon.count
                for k in 0..<n {
                    let a = polygon[k], b = polygon[(k + 1) % n], c = polygon[(k + 2) % n]
                    #expect((b.x - a.x) * (c.y - b.y) - (b.y - a.y) * (c.x - b.x) > -1e-15)
                }
                let cx = polygon.reduce(0) { $0 + $1.x } / Double(polygon.count)
                let cy = polygon.reduce(0) { $0 + $1.y } / Double(polygon.count)
                let value = cx * cx + cy * cy
                #expect(value >= band.lower - 5e-3 && value < band.upper + 5e-3)
            }
        }
        // Uneven grid: the bands' total is the grid's rectangle.
        let total = FilledContours.bands(in: grid, levels: levels).reduce(0) { $0 + area(of: $1) }
        #expect(abs(total - 2 * 1.6) < 1e-12)
    }

    /// Cells with a missing or diverged corner belong to no band; the rest is still tiled exactly.
    @Test func bandsSkipMissingAndDivergedCells() {
        var grid = Surfaces.paraboloid
        for j in 15...22 { for i in 25...30 { grid.values[j * 41 + i] = .nan } }
        grid.values[5 * 41 + 5] = .infinity
        let bands = FilledContours.bands(in: grid, levels: [0.1, 0.5, 1])
        let total = bands.reduce(0) { $0 + area(of: $1) }
        // NaN block: 7 × 9 cells; the diverged node: 4 cells; h = 0.05.
        let skipped = Double(7 * 9 + 4) * 0.05 * 0.05
        #expect(abs(total - (4 - skipped)) < 1e-12)
        let (x0, x1, y0, y1) = (grid.x[24], grid.x[31], grid.y[14], grid.y[23])
        for band in bands {
            for polygon in band.polygons {
                let cx = polygon.reduce(0) { $0 + $1.x } / Double(polygon.count)
                let cy = polygon.reduce(0) { $0 + $1.y } / Double(polygon.count)
                #expect(!(cx > x0 && cx < x1 && cy > y0 && cy < y1))
            }
        }
        // No levels: one band covering every finite cell.
        let whole = FilledContours.bands(in: grid, levels: [])
        #expect(whole.count == 1 && whole[0].lower == -.infinity && whole[0].upper == .infinity)
        #expect(abs(area(of: whole[0]) - (4 - skipped)) < 1e-12)
    }

    /// A large grid with many levels keeps its polygon count near the cell count: cells away from
    /// the contours are one rectangle each.
    @Test func largeGridPolygonCountStaysNearTheCellCount() throws {
        let axis = Surfaces.linspace(-1, 1, 251)
        let grid = Surfaces.grid(x: axis, y: axis) { x, y in
            log(1 + 10 * (x * x + 0.5 * y * y)) + 0.3 * sin(7 * x) * cos(5 * y)
        }
        let levels = ContourLevels.automatic(for: grid, count: 30, logarithmic: false)
        #expect(levels.count >= 15)
        let bands = FilledContours.bands(in: grid, levels: levels)
        let polygons = bands.reduce(0) { $0 + $1.polygons.count }
        #expect(polygons < 3 * 250 * 250)
        let total = bands.reduce(0) { $0 + area(of: $1) }
        #expect(abs(total - 4) < 1e-10)
        #expect(!MarchingSquares.lines(in: grid, levels: levels).isEmpty)
    }
}
