import Foundation

/// A 2D surface seen from above: contour lines with inline labels, filled contours, or a heat
/// map, each with a colour bar, optionally with a trajectory drawn over it.
///
/// Levels default to the reference's choice when given (`ContourLevels.stepped`, its
/// vmin/vmax/vlevel) and otherwise to automatic ones, log-spaced when `logarithmic` (dense near
/// the minimum, where a loss surface's structure is). With `logarithmic`, lines and bands are
/// also interpolated in log10 space, where the levels and colours are spaced, and the contour
/// lines of a filled chart lie exactly on its bands' boundaries. Cells with a missing corner (NaN: not
/// computed) are painted grey and cells with a diverged one (+∞) pale red; contours stop at
/// their edges.
public struct ContourChart: Chart {
    public enum Style: String, Sendable, CaseIterable {
        case lines, filled, heatMap = "heatmap"

        /// How many automatic levels this style draws: bands need more than lines to read well.
        public var automaticLevelCount: Int { self == .filled ? 14 : 10 }
    }

    public var grid: ScalarGrid
    public var style: Style
    public var levels: [Double]?
    public var logarithmic: Bool
    public var colorMap: ColorMap
    /// The value range of the colours; nil: the finite values of the grid. Side-by-side figures
    /// pass one scale to every panel.
    public var colorScale: AxisScale?
    public var title: String?
    public var xLabel: String?
    public var yLabel: String?
    public var colorbarLabel: String?
    public var showsColorbar = true
    public var labelsLines = true
    public var paths: [PathOverlay] = []
    /// Critical points and outlines drawn over everything else (`terrain analyze`'s findings).
    public var criticalPoints: CriticalPointOverlay?

    public init(grid: ScalarGrid, style: Style = .lines, levels: [Double]? = nil, logarithmic: Bool = false,
                colorMap: ColorMap = .viridis, title: String? = nil, xLabel: String? = nil, yLabel: String? = nil,
                colorbarLabel: String? = nil) {
        self.grid = grid; self.style = style; self.levels = levels; self.logarithmic = logarithmic
        self.colorMap = colorMap; self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
        self.colorbarLabel = colorbarLabel
    }

    /// The colour scale used: the given one, or one that covers the grid's finite values.
    public var effectiveColorScale: AxisScale {
        if let colorScale { return colorScale }
        var scale = AxisScale.covering(grid.values, logarithmic: logarithmic)
        if style != .heatMap, let levels = effectiveLevels, let first = levels.first, let last = levels.last, last > first {
            scale.minimum = min(scale.minimum, first)
            scale.maximum = max(scale.maximum, last)
        }
        return scale
    }

    /// The contour levels drawn (nil for a heat map).
    public var effectiveLevels: [Double]? {
        guard style != .heatMap else { return nil }
        return levels ?? ContourLevels.automatic(for: grid, count: style.automaticLevelCount, logarithmic: logarithmic)
    }

    public func draw(on canvas: Canvas, in frame: PlotRect) throws {
        guard grid.x.count >= 2, grid.y.count >= 2 else { throw PlotError.invalidData("a 2D chart needs at least 2 points per axis") }
        guard !grid.finiteValues.isEmpty else { throw PlotError.invalidData("the surface has no finite value to draw") }
        let axes = self.axes(in: frame)
        let area = axes.area
        let scale = effectiveColorScale
        let levels = effectiveLevels ?? []
        func color(_ v: Double) -> Color { colorMap.color(at: scale.fraction(of: v)) }

        canvas.fill(rectangle: area, with: style == .lines ? .white : Color.missing)
        canvas.withSavedState {
            canvas.clip(to: area)
            switch style {
            case .heatMap:
                drawHeatMap(on: canvas, axes: axes, color: color)
            case .filled:
                drawUnusableCells(on: canvas, axes: axes)
                drawBands(on: canvas, axes: axes, levels: levels, scale: scale)
                drawLines(on: canvas, axes: axes, levels: levels, color: { _ in Color.black.withAlpha(0.45) }, width: 0.5, labels: false)
            case .lines:
                drawUnusableCells(on: canvas, axes: axes)
                drawLines(on: canvas, axes: axes, levels: levels, color: color, width: 1.1, labels: labelsLines)
            }
            for path in paths { path.draw(on: canvas, axes: axes) }
            criticalPoints?.draw(on: canvas, axes: axes)
        }
        axes.drawFrame(on: canvas, xLabel: xLabel, yLabel: yLabel, title: title)
        drawKeyForUnusablePoints(on: canvas, area: area)
        if showsColorbar {
            let bar = PlotRect(area.maxX + 14, area.minY, 14, area.height)
            Colorbar(colorMap: colorMap, scale: scale, label: colorbarLabel,
                     levels: style == .filled ? levels : nil).draw(on: canvas, in: bar)
        }
    }

    /// The plot area inside `frame` and the data-to-page mapping the chart draws with.
    public func axes(in frame: PlotRect) -> Axes2D {
        let area = frame.inset(left: 62, top: title == nil ? 14 : 30, right: showsColorbar ? Colorbar.width + 14 : 18, bottom: 46)
        return Axes2D(area: area, x: AxisScale(minimum: grid.x.min()!, maximum: grid.x.max()!),
                      y: AxisScale(minimum: grid.y.min()!, maximum: grid.y.max()!))
    }

    /// Node rectangles between the midpoints of neighbouring coordinates, one colour per value.
    private func drawHeatMap(on canvas: Canvas, axes: Axes2D, color: (Double) -> Color) {
        let xEdges = Self.edges(grid.x), yEdges = Self.edges(grid.y)
        canvas.withoutAntialiasing {
            for j in grid.y.indices {
                for i in grid.x.indices {
                    let v = grid[i, j]
                    let c = ScalarGrid.isInvalid(v) ? Color.invalid : v.isNaN ? Color.missing : v == .infinity || v == -.infinity ? Self.divergedColor : color(v)
                    let p0 = axes.point(xEdges[i], yEdges[j + 1]), p1 = axes.point(xEdges[i + 1], yEdges[j])
                    canvas.fill(rectangle: PlotRect(min(p0.x, p1.x), min(p0.y, p1.y), abs(p1.x - p0.x) + 0.6, abs(p1.y - p0.y) + 0.6), with: c)
                }
            }
        }
    }

    public static let divergedColor = Color(hex: 0xf6c9c4)

    /// "■ not computed  ■ NaN  ■ diverged" above the plot's right corner, for what the grid holds.
    private func drawKeyForUnusablePoints(on canvas: Canvas, area: PlotRect) {
        var keys: [(Color, String)] = []
        if grid.values.contains(where: { $0.isNaN && !ScalarGrid.isInvalid($0) }) { keys.append((.missing, "not computed")) }
        if grid.values.contains(where: ScalarGrid.isInvalid) { keys.append((.invalid, "NaN")) }
        if grid.values.contains(where: \.isInfinite) { keys.append((Self.divergedColor, "diverged")) }
        var x = area.maxX
        for (color, text) in keys.reversed() {
            let width = canvas.measure(text, size: 8).width
            x -= width
            canvas.text(text, at: PlotPoint(x, area.minY - 4), size: 8, color: Color(hex: 0x555555))
            x -= 11
            canvas.fill(rectangle: PlotRect(x, area.minY - 11, 8, 8), with: color)
            canvas.stroke(rectangle: PlotRect(x, area.minY - 11, 8, 8), color: Color(hex: 0x888888), width: 0.5)
            x -= 10
        }
    }

    /// Cell boundaries: midpoints between coordinates, the ends half a step out.
    static func edges(_ c: [Double]) -> [Double] {
        guard c.count >= 2 else { return [c[0] - 0.5, c[0] + 0.5] }
        var e = [c[0] - (c[1] - c[0]) / 2]
        for k in 0..<(c.count - 1) { e.append((c[k] + c[k + 1]) / 2) }
        e.append(c[c.count - 1] + (c[c.count - 1] - c[c.count - 2]) / 2)
        return e
    }

    /// The bands, cumulatively: for each band from the lowest up, everything at or above its lower
    /// level (`RegionOutline` of that band and all above it) in the band's colour. Each band is
    /// then painted over the colour of the band below rather than over the background, so where
    /// two bands meet the anti-aliased edge blends their two colours and no light seam shows;
    /// the colours meet exactly on the contour lines drawn over them (the bands' boundaries are
    /// the lines' own segments, `FilledContours`).
    private func drawBands(on canvas: Canvas, axes: Axes2D, levels: [Double], scale: AxisScale) {
        let bands = FilledContours.bands(in: grid, levels: levels, logarithmic: logarithmic)
        var region = RegionOutline()
        var atOrAbove: [[[PlotPoint]]] = []
        for band in bands.reversed() {
            region.add(band.polygons)
            atOrAbove.append(band.polygons.isEmpty ? [] : region.rings)
        }
        for (band, rings) in zip(bands, atOrAbove.reversed()) where !rings.isEmpty {
            canvas.fill(rings: rings.map { $0.map { axes.point($0) } }, with: color(of: band, scale: scale), evenOdd: false)
        }
    }

    /// The colour a filled chart paints `band` with: the colour of its middle (geometric on a
    /// log scale; an open end band's finite edge).
    public func color(of band: ContourBand) -> Color { color(of: band, scale: effectiveColorScale) }

    private func color(of band: ContourBand, scale: AxisScale) -> Color {
        let lo = band.lower.isFinite ? band.lower : band.upper, hi = band.upper.isFinite ? band.upper : band.lower
        let mid = scale.logarithmic ? sqrt(max(lo, 1e-300) * max(hi, 1e-300)) : (lo + hi) / 2
        return colorMap.color(at: scale.fraction(of: mid))
    }

    /// Paints cells with an invalid (NaN-loss) corner dark grey, a missing one grey and those with
    /// a diverged one pale red, and in a filled chart on a log scale those with a zero or negative
    /// corner in the colour map's low end. The rest are left to the white page (lines) or to the bands, whose lowest cumulative
    /// fill covers every usable cell (filled): no rectangle per cell in the file.
    private func drawUnusableCells(on canvas: Canvas, axes: Axes2D) {
        canvas.withoutAntialiasing {
            for j in 0..<(grid.y.count - 1) {
                for i in 0..<(grid.x.count - 1) {
                    let corners = [grid[i, j], grid[i + 1, j], grid[i, j + 1], grid[i + 1, j + 1]]
                    let c: Color
                    if corners.contains(where: ScalarGrid.isInvalid) { c = .invalid }
                    else if corners.contains(where: \.isNaN) { c = .missing }
                    else if corners.contains(where: \.isInfinite) { c = Self.divergedColor }
                    // On a log scale zero and negative values lie below every level: the low end.
                    else if style == .filled && logarithmic && corners.contains(where: { $0 <= 0 }) { c = colorMap.color(at: 0) }
                    // Usable: on the white page (lines) or under the lowest band, which covers it (filled).
                    else { continue }
                    let p0 = axes.point(grid.x[i], grid.y[j + 1]), p1 = axes.point(grid.x[i + 1], grid.y[j])
                    canvas.fill(rectangle: PlotRect(min(p0.x, p1.x), min(p0.y, p1.y), abs(p1.x - p0.x) + 0.6, abs(p1.y - p0.y) + 0.6), with: c)
                }
            }
        }
    }

    /// Contour lines, each level in its colour, with inline labels cut into the lines.
    private func drawLines(on canvas: Canvas, axes: Axes2D, levels: [Double], color: (Double) -> Color, width: Double, labels: Bool) {
        // Labels keep clear of each other and of the paths drawn on top.
        var placed: [PlotRect] = paths.flatMap { path in
            path.points.filter { $0.x.isFinite && $0.y.isFinite }.map { p -> PlotRect in
                let q = axes.point(p)
                return PlotRect(q.x - 4, q.y - 4, 8, 8)
            }
        } + paths.compactMap { $0.labelBox(on: canvas, axes: axes) }
        // Segments between path points: a few samples along each.
        for path in paths where path.points.count >= 2 {
            for (a, b) in zip(path.points, path.points.dropFirst()) where a.x.isFinite && a.y.isFinite && b.x.isFinite && b.y.isFinite {
                let pa = axes.point(a), pb = axes.point(b)
                let n = Int(hypot(pb.x - pa.x, pb.y - pa.y) / 6)
                for k in 0...max(n, 1) {
                    let t = Double(k) / Double(max(n, 1))
                    placed.append(PlotRect(pa.x + t * (pb.x - pa.x) - 3, pa.y + t * (pb.y - pa.y) - 3, 6, 6))
                }
            }
        }
        let step = levels.count >= 2 ? abs(levels[1] - levels[0]) : 1
        for line in MarchingSquares.lines(in: grid, levels: levels, logarithmic: logarithmic) {
            var page = line.points.map { axes.point($0) }
            if line.isClosed, let first = page.first, page.last != first { page.append(first) }
            let c = color(line.level)
            guard labels else { canvas.stroke(page, color: c, width: width); continue }
            let text = logarithmic ? AxisScale.logLabel(line.level) : NiceScale.label(line.level, step: step)
            let size = 8.0
            let textWidth = canvas.measure(text, size: size).width
            if let cut = ContourLabel.place(on: page, width: textWidth + 6, avoiding: placed, within: axes.area) {
                for piece in cut.pieces { canvas.stroke(piece, color: c, width: width) }
                canvas.text(text, at: cut.center, size: size, color: Color(hex: 0x333333), anchor: .center, baseline: .middle, angle: cut.angle)
                placed.append(PlotRect(cut.center.x - textWidth / 2 - 4, cut.center.y - size, textWidth + 8, 2 * size))
            } else {
                canvas.stroke(page, color: c, width: width)
            }
        }
    }
}

/// Where an inline contour label goes: the middle of a long enough stretch of the line, with the
/// line cut open under the text.
enum ContourLabel {
    struct Placement {
        var center: PlotPoint
        /// Reading angle (radians, counter-clockwise), kept within ±90° so text is never upside down.
        var angle: Double
        /// The line without the stretch under the label.
        var pieces: [[PlotPoint]]
    }

    static func place(on line: [PlotPoint], width: Double, avoiding placed: [PlotRect], within area: PlotRect) -> Placement? {
        guard line.count >= 2 else { return nil }
        var arc = [0.0]
        for k in 1..<line.count { arc.append(arc[k - 1] + hypot(line[k].x - line[k - 1].x, line[k].y - line[k - 1].y)) }
        let total = arc[arc.count - 1]
        guard total > 3 * width else { return nil }
        // Try the middle first, then points towards the ends.
        for fraction in [0.5, 0.3, 0.7, 0.15, 0.85] {
            let s = total * fraction
            let a = point(at: s - width / 2, line, arc), b = point(at: s + width / 2, line, arc), m = point(at: s, line, arc)
            let inner = PlotRect(area.minX + width / 2, area.minY + 8, area.width - width, area.height - 16)
            guard inner.width > 0, inner.height > 0, inner.contains(m) else { continue }
            if placed.contains(where: { r in m.x > r.minX - width / 2 && m.x < r.maxX + width / 2 && m.y > r.minY - 8 && m.y < r.maxY + 8 }) { continue }
            var angle = atan2(-(b.y - a.y), b.x - a.x)
            if angle > .pi / 2 { angle -= .pi } else if angle < -.pi / 2 { angle += .pi }
            let before = line.indices.filter { arc[$0] < s - width / 2 }.map { line[$0] } + [a]
            let after = [b] + line.indices.filter { arc[$0] > s + width / 2 }.map { line[$0] }
            return Placement(center: m, angle: angle, pieces: [before, after].filter { $0.count >= 2 })
        }
        return nil
    }

    /// The point at arc length `s` along the polyline.
    static func point(at s: Double, _ line: [PlotPoint], _ arc: [Double]) -> PlotPoint {
        let s = min(max(s, 0), arc[arc.count - 1])
        var k = 1
        while k < arc.count - 1 && arc[k] < s { k += 1 }
        let span = arc[k] - arc[k - 1]
        let t = span > 0 ? (s - arc[k - 1]) / span : 0
        return PlotPoint(line[k - 1].x + t * (line[k].x - line[k - 1].x), line[k - 1].y + t * (line[k].y - line[k - 1].y))
    }
}
