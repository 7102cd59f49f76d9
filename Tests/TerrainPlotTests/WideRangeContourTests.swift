import Testing
import Foundation
@testable import TerrainPlot

/// An 11 × 11 loss surface spanning seven decades, 1.7 to 10⁸: the kind a 56-layer network
/// without skip connections gives after two epochs. A smooth, lopsided bowl whose log is
/// (x − 0.1)² + 1.4 (y + 0.1)² + 0.35 xy plus two ripples, rescaled onto [log 1.7, 8].
private enum SevenDecades {
    static let axis: [Double] = (0...10).map { -1 + Double($0) / 5 }
    static func shape(_ x: Double, _ y: Double) -> Double {
        let bowl: Double = (x - 0.1) * (x - 0.1) + 1.4 * (y + 0.1) * (y + 0.1) + 0.35 * x * y
        let ripples: Double = 0.12 * sin(3 * x) * cos(2 * y) + 0.05 * sin(7 * x + 3 * y)
        return bowl + ripples
    }
    static let grid: ScalarGrid = {
        let shapes: [Double] = axis.flatMap { y in axis.map { x in shape(x, y) } }
        let low = shapes.min()!, high = shapes.max()!
        let values: [Double] = shapes.map { 1.7 * pow(1e8 / 1.7, ($0 - low) / (high - low)) }
        return ScalarGrid(x: axis, y: axis, values: values)
    }()
    /// The levels of the filled figure: automatic, log-spaced.
    static let levels = ContourLevels.automatic(for: grid, count: ContourChart.Style.filled.automaticLevelCount, logarithmic: true)
}

/// The directed edges of a band's polygons (counter-clockwise: the band on each edge's left).
private func directedEdges(_ band: ContourBand) -> Set<[PlotPoint]> {
    Set(band.polygons.flatMap { polygon in polygon.indices.map { [polygon[$0], polygon[($0 + 1) % polygon.count]] } })
}

@Suite("Contours on a surface spanning decades")
struct WideRangeContourTests {
    @Test func theSurfaceSpansSevenDecades() {
        let values = SevenDecades.grid.values
        #expect(values.min()! == 1.7 && abs(values.max()! / 1e8 - 1) < 1e-12)
        #expect(SevenDecades.levels.count >= 10)
    }

    /// Every segment of every contour line at level L is an edge, bit for bit, of a polygon of
    /// the band just above L (walked the same way: that band on the line's left) and of one of
    /// the band just below (walked the other way): the lines are the bands' boundaries.
    @Test func everyLineSegmentIsAnEdgeOfTheBandsOnEitherSide() throws {
        let levels = SevenDecades.levels
        let bands = FilledContours.bands(in: SevenDecades.grid, levels: levels, logarithmic: true)
        #expect(bands.count == levels.count + 1)
        let edges = bands.map(directedEdges)
        var segments = 0
        for (m, level) in levels.enumerated() {
            #expect(bands[m].upper == level && bands[m + 1].lower == level)
            let lines = MarchingSquares.lines(in: SevenDecades.grid, level: level, logarithmic: true)
            #expect(!lines.isEmpty, "level \(level)")
            for line in lines {
                let n = line.points.count
                for k in 0..<(line.isClosed ? n : n - 1) {
                    let p = line.points[k], q = line.points[(k + 1) % n]
                    #expect(edges[m + 1].contains([p, q]), "level \(level): segment \(p) → \(q) is not an edge of the band above")
                    #expect(edges[m].contains([q, p]), "level \(level): segment \(q) → \(p) is not an edge of the band below")
                    segments += 1
                }
            }
        }
        #expect(segments > 100)
    }

    /// A line's vertices lie where the level crosses its grid edge in log space:
    /// t = (log L − log v(a)) / (log v(b) − log v(a)), the values on either side of the vertex
    /// on opposite sides of L. (Linear interpolation would put 10⁴ between 10² and 10⁶ at t ≈ 0.01.)
    @Test func linesCrossEdgesWhereTheLogOfTheValuePassesTheLevel() throws {
        let grid = SevenDecades.grid, axis = SevenDecades.axis
        var checked = 0
        for line in MarchingSquares.lines(in: grid, levels: SevenDecades.levels, logarithmic: true) {
            for p in line.points {
                let i = axis.firstIndex(of: p.x), j = axis.firstIndex(of: p.y)
                // On a horizontal edge (y a grid row) or a vertical one (x a grid column).
                let (a, b, t): ((Int, Int), (Int, Int), Double)
                if let j, i == nil, let i0 = axis.lastIndex(where: { $0 < p.x }) {
                    (a, b, t) = ((i0, j), (i0 + 1, j), (p.x - axis[i0]) / (axis[i0 + 1] - axis[i0]))
                } else if let i, j == nil, let j0 = axis.lastIndex(where: { $0 < p.y }) {
                    (a, b, t) = ((i, j0), (i, j0 + 1), (p.y - axis[j0]) / (axis[j0 + 1] - axis[j0]))
                } else {
                    continue    // a vertex on a node: the level equals its value
                }
                let va = grid[a.0, a.1], vb = grid[b.0, b.1]
                #expect((va >= line.level) != (vb >= line.level))
                let expected = (log10(line.level) - log10(va)) / (log10(vb) - log10(va))
                #expect(abs(t - expected) < 1e-12, "level \(line.level) between \(va) and \(vb): t = \(t), log space says \(expected)")
                checked += 1
            }
        }
        #expect(checked > 100)
    }

    /// The bands tile the grid (counter-clockwise pieces whose areas add up to the square), each
    /// grid node that is a polygon's corner lies in that polygon's band, and the merged outline
    /// of all the bands is the grid's border.
    @Test func bandsTileTheGridAndHoldTheirNodes() {
        let grid = SevenDecades.grid, axis = SevenDecades.axis
        let bands = FilledContours.bands(in: grid, levels: SevenDecades.levels, logarithmic: true)
        var total = 0.0
        for band in bands {
            for polygon in band.polygons {
                #expect((3...8).contains(polygon.count))
                #expect(signedArea(polygon) > 0)
                total += signedArea(polygon)
                for p in polygon {
                    guard let i = axis.firstIndex(of: p.x), let j = axis.firstIndex(of: p.y) else { continue }
                    #expect(grid[i, j] >= band.lower && grid[i, j] < band.upper)
                }
            }
        }
        #expect(abs(total - 4) < 1e-12)
        var union = RegionOutline()
        for band in bands { union.add(band.polygons) }
        let rings = union.rings
        #expect(rings.count == 1)
        #expect(abs(signedArea(rings[0]) - 4) < 1e-12)
        #expect(rings[0].allSatisfy { abs($0.x) == 1 || abs($0.y) == 1 })
    }

    /// The outline of the bands at or above each level is the grid's border cut along that
    /// level's lines: its area is the sum of those bands' areas.
    @Test func outlinesAtOrAboveEachLevelKeepTheBandsArea() {
        let bands = FilledContours.bands(in: SevenDecades.grid, levels: SevenDecades.levels, logarithmic: true)
        var region = RegionOutline()
        var area = 0.0
        for band in bands.reversed() {
            region.add(band.polygons)
            area += band.polygons.reduce(0) { $0 + signedArea($1) }
            let outlined = region.rings.reduce(0) { $0 + signedArea($1) }
            #expect(abs(outlined - area) < 1e-12, "at or above \(band.lower)")
        }
    }

    /// The filled figure drawn to PNG: every pixel of the plot is a blend of the colours of the
    /// bands within a pixel of it, darkened at most by the contour lines drawn over them. A light
    /// seam (the white under the bands showing through two anti-aliased edges) is lighter than
    /// every band around it and fails.
    @Test func filledFigureHasNoLightSeams() throws {
        var chart = ContourChart(grid: SevenDecades.grid, style: .filled, levels: SevenDecades.levels, logarithmic: true)
        chart.showsColorbar = false
        let frame = PlotRect(0, 0, 440, 400)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-wide-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Figure(chart, width: frame.width, height: frame.height).render(scale: 1).write(to: folder + "/filled.png")
        let png = try DecodedPNG(path: folder + "/filled.png")

        let bands = FilledContours.bands(in: SevenDecades.grid, levels: SevenDecades.levels, logarithmic: true)
        let colors = bands.map { chart.color(of: $0) }
        // The band polygons of each cell, to find the band of a point quickly.
        let axis = SevenDecades.axis, h = axis[1] - axis[0]
        var pieces = [[(band: Int, polygon: [PlotPoint])]](repeating: [], count: 100)
        for (b, band) in bands.enumerated() {
            for polygon in band.polygons {
                let cx = polygon.reduce(0) { $0 + $1.x } / Double(polygon.count)
                let cy = polygon.reduce(0) { $0 + $1.y } / Double(polygon.count)
                pieces[min(9, Int((cy + 1) / h)) * 10 + min(9, Int((cx + 1) / h))].append((b, polygon))
            }
        }
        func band(at p: PlotPoint) -> Int? {
            let cell = min(9, max(0, Int((p.y + 1) / h))) * 10 + min(9, max(0, Int((p.x + 1) / h)))
            return pieces[cell].first { piece in
                piece.polygon.indices.allSatisfy { k in
                    let a = piece.polygon[k], b = piece.polygon[(k + 1) % piece.polygon.count]
                    return (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x) >= -1e-12
                }
            }?.band
        }
        let area = chart.axes(in: frame).area
        func data(_ px: Double, _ py: Double) -> PlotPoint {
            PlotPoint(-1 + 2 * (px - area.minX) / area.width, 1 - 2 * (py - area.minY) / area.height)
        }
        var checked = 0, light = 0, seams: [String] = []
        for py in (Int(area.minY) + 2)..<(Int(area.maxY) - 2) {
            for px in (Int(area.minX) + 2)..<(Int(area.maxX) - 2) {
                var near: Set<Int> = []
                for dy in [-1.0, 0, 1] { for dx in [-1.0, 0, 1] {
                    if let b = band(at: data(Double(px) + 0.5 + dx, Double(py) + 0.5 + dy)) { near.insert(b) }
                } }
                let allowed = near.map { colors[$0] }
                guard !allowed.isEmpty else { continue }
                let pixel = png[px, py]
                let lighter = pixel.red > allowed.map(\.red).max()! + 0.03 || pixel.green > allowed.map(\.green).max()! + 0.03
                    || pixel.blue > allowed.map(\.blue).max()! + 0.03
                if lighter {
                    light += 1
                    if seams.count < 5 { seams.append("(\(px), \(py)): \(pixel) among bands \(near.sorted())") }
                }
                checked += 1
            }
        }
        #expect(light == 0, "\(light) light pixels, such as \(seams)")
        #expect(checked > 100_000)
    }
}
