/// One curve of a `LineChart`.
public struct LineSeries: Sendable {
    public enum Axis: Sendable { case left, right }
    public var label: String
    public var x: [Double]
    public var y: [Double]
    public var color: Color
    public var dashed: Bool
    public var axis: Axis

    public init(label: String, x: [Double], y: [Double], color: Color, dashed: Bool = false, axis: Axis = .left) {
        precondition(x.count == y.count, "\(x.count) x values for \(y.count) y values")
        self.label = label; self.x = x; self.y = y; self.color = color; self.dashed = dashed; self.axis = axis
    }
}

/// A shaded band between two curves over the same x values (mean ± one standard deviation of an
/// ensemble), drawn under the curves; where either bound is not finite the band breaks.
public struct LineBand: Sendable {
    public var x: [Double]
    public var lower: [Double]
    public var upper: [Double]
    public var color: Color
    public var axis: LineSeries.Axis

    public init(x: [Double], lower: [Double], upper: [Double], color: Color, axis: LineSeries.Axis = .left) {
        precondition(x.count == lower.count && x.count == upper.count, "a band needs one lower and one upper value per x")
        self.x = x; self.lower = lower; self.upper = upper; self.color = color; self.axis = axis
    }

    /// Index runs where the band can be drawn: x and both bounds finite (and positive on a log axis).
    func runs(logarithmic: Bool) -> [[Int]] {
        var runs: [[Int]] = [], current: [Int] = []
        for i in x.indices {
            if x[i].isFinite && lower[i].isFinite && upper[i].isFinite && (!logarithmic || lower[i] > 0) {
                current.append(i)
            } else if !current.isEmpty {
                runs.append(current); current = []
            }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }
}

/// A vertical dashed line across a line chart's plot area, in a colour of its own (a run's
/// learning-rate drop, in the run's colour when several runs are overlaid).
public struct VerticalMarker: Sendable, Equatable {
    public var x: Double
    public var color: Color

    public init(x: Double, color: Color) {
        self.x = x; self.color = color
    }
}

/// 1D curves: loss on the left axis (optionally logarithmic), accuracy on the right (0–100 %),
/// as the reference draws a 1D surface or an interpolation; any number of curves overlaid.
///
/// Missing values (NaN) break a curve; diverged ones (+∞) break it too and are marked by a red
/// tick on the top edge, so a blow-up is visible instead of silently cut off.
public struct LineChart: Chart {
    public var series: [LineSeries]
    /// Shaded bands drawn under the curves (an ensemble's ±1 standard deviation).
    public var bands: [LineBand] = []
    public var title: String?
    public var xLabel: String?
    public var leftLabel: String?
    public var rightLabel: String?
    public var logarithmic = false
    /// Vertical reference lines (e.g. α = 0 and α = 1 of an interpolation).
    public var markers: [Double] = []
    /// Vertical dashed lines, each in its colour.
    public var coloredMarkers: [VerticalMarker] = []
    /// The legend's entry for `coloredMarkers` (a dashed line), such as "learning-rate drop".
    public var markerLegend: String?
    /// Ticks on the x axis at whole numbers only (epochs).
    public var wholeNumberX = false
    /// Room left on each side of the data's x range, in x units (half an epoch: the first and
    /// last epochs' points, and a drop after the first epoch, are not drawn on the frame).
    public var xPadding = 0.0

    public init(series: [LineSeries], title: String? = nil, xLabel: String? = nil, leftLabel: String? = "loss",
                rightLabel: String? = "accuracy (%)", logarithmic: Bool = false) {
        self.series = series; self.title = title; self.xLabel = xLabel
        self.leftLabel = leftLabel; self.rightLabel = rightLabel; self.logarithmic = logarithmic
    }

    public func draw(on canvas: Canvas, in frame: PlotRect) throws {
        let left = series.filter { $0.axis == .left }, right = series.filter { $0.axis == .right }
        let allX = series.flatMap(\.x).filter(\.isFinite)
        let drawable = series.contains(where: { $0.y.contains { $0.isFinite && (!logarithmic || $0 > 0 || $0.isNaN) } })
        // A curve whose every point diverged (+∞) is still drawn: its axes, the diverged marks
        // and a note, never refused.
        let allDiverged = !drawable && left.contains(where: { $0.y.contains(.infinity) })
        guard !allX.isEmpty, drawable || allDiverged else {
            throw PlotError.invalidData("nothing to draw: no finite values")
        }
        let hasRight = !right.isEmpty
        let (xScale, leftScale, rightScale) = scales()
        let (area, legend) = layout(on: canvas, in: frame)
        let axes = Axes2D(area: area, x: xScale, y: leftScale)
        axes.drawGrid(on: canvas)
        canvas.withSavedState {
            canvas.clip(to: area)
            for m in markers where m >= xScale.minimum && m <= xScale.maximum {
                let px = axes.point(m, leftScale.minimum).x
                canvas.stroke([PlotPoint(px, area.minY), PlotPoint(px, area.maxY)], color: Color(hex: 0x888888), width: 0.8, dash: [2, 3])
            }
            for m in coloredMarkers where m.x >= xScale.minimum && m.x <= xScale.maximum {
                let px = axes.point(m.x, leftScale.minimum).x
                canvas.stroke([PlotPoint(px, area.minY), PlotPoint(px, area.maxY)], color: m.color, width: 1, dash: Self.markerDash)
            }
            for band in bands {
                let view = Axes2D(area: area, x: xScale, y: band.axis == .left ? leftScale : rightScale)
                for run in band.runs(logarithmic: band.axis == .left && logarithmic) where run.count > 1 {
                    let upper = run.map { view.point(band.x[$0], band.upper[$0]) }
                    let lower = run.reversed().map { view.point(band.x[$0], band.lower[$0]) }
                    canvas.fill(upper + lower, with: band.color)
                }
            }
            for s in series {
                let scale = s.axis == .left ? leftScale : rightScale
                let view = Axes2D(area: area, x: xScale, y: scale)
                for run in Self.finiteRuns(s, logarithmic: s.axis == .left && logarithmic) {
                    let points = run.map { view.point(s.x[$0], s.y[$0]) }
                    if points.count == 1 {
                        Self.dot(s, at: points[0], on: canvas)
                    } else {
                        canvas.stroke(points, color: s.color, width: 1.6, dash: s.dashed ? [6, 3] : [])
                    }
                }
                for (i, v) in s.y.enumerated() where v == .infinity && s.x[i].isFinite {
                    let px = view.point(s.x[i], scale.minimum).x
                    canvas.stroke([PlotPoint(px, area.minY), PlotPoint(px, area.minY + 7)], color: Color(hex: 0xd62728), width: 1.5)
                }
            }
        }
        axes.drawFrame(on: canvas, xLabel: xLabel, yLabel: leftLabel, title: title)
        if allDiverged {
            let note = "every point diverged (loss not finite)", size = 11.0
            let width = canvas.measure(note, size: size).width, middle = area.center
            let box = PlotRect(middle.x - width / 2 - 8, middle.y - size, width + 16, 2 * size)
            canvas.fill(rectangle: box, with: Color.white.withAlpha(0.85))
            canvas.stroke(rectangle: box, color: Color(hex: 0x888888), width: 0.5)
            canvas.text(note, at: middle, size: size, color: Color(hex: 0x333333), anchor: .center, baseline: .middle)
        }
        if hasRight { axes.drawVerticalTicks(on: canvas, scale: rightScale, side: .right, label: rightLabel) }
        if let legend { drawLegend(legend, on: canvas) }
    }

    /// Index runs of consecutive drawable values.
    static func finiteRuns(_ s: LineSeries, logarithmic: Bool) -> [[Int]] {
        var runs: [[Int]] = [], current: [Int] = []
        for i in s.x.indices {
            if s.x[i].isFinite && s.y[i].isFinite && (!logarithmic || s.y[i] > 0) {
                current.append(i)
            } else if !current.isEmpty {
                runs.append(current); current = []
            }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }

    static let markerDash = [4.0, 3.0]

    /// The x, left and right axes' scales, from the data alone.
    func scales() -> (x: AxisScale, left: AxisScale, right: AxisScale) {
        let allX = series.flatMap(\.x).filter(\.isFinite)
        // One x value: padded, it sits in the middle; unpadded, it starts an axis one unit wide.
        let (low, high) = (allX.min() ?? 0, allX.max() ?? 1)
        let single = high <= low
        var xScale = AxisScale(minimum: low - (single && xPadding == 0 ? 0 : xPadding),
                               maximum: single ? low + (xPadding > 0 ? xPadding : 1) : high + xPadding)
        xScale.wholeNumberTicks = wholeNumberX
        // The left axis covers the bands too (on a log axis, only their positive lower bounds).
        let bandValues = bands.filter { $0.axis == .left }.flatMap { band in
            band.runs(logarithmic: logarithmic).flatMap { run in run.flatMap { [band.lower[$0], band.upper[$0]] } }
        }
        let leftScale = AxisScale.covering(series.filter { $0.axis == .left }.flatMap(\.y) + bandValues,
                                           logarithmic: logarithmic, padding: 0.05)
        return (xScale, leftScale, AxisScale(minimum: 0, maximum: 100))
    }

    /// A chart's legend: its entries, `columns` to a row, in `box`.
    public struct Legend {
        public var entries: [LineSeries]
        /// The row of the coloured markers' entry, if any.
        public var markerRow: Int?
        public var box: PlotRect
        public var entryWidth: Double
        public var columns: Int
    }

    /// Height of a legend row, and the gap between a row's entries.
    public static let legendLine = Axes2D.fontSize + 5, legendColumnGap = 12.0

    /// The plot area within `frame` and the legend's place. The legend lists the labelled curves
    /// when there are several, and the coloured markers when they have a legend entry (its line
    /// dashed as theirs, grey when their colours differ). It goes in the corner of the plot area
    /// that hides the fewest data points; when every corner hides some (curves in all four, as
    /// when paths from A to B are overlaid), it goes below the plot, in as many columns as fit,
    /// and the plot area shrinks to make room, so that no curve runs under it.
    public func layout(on canvas: Canvas, in frame: PlotRect) -> (area: PlotRect, legend: Legend?) {
        let hasRight = series.contains { $0.axis == .right }
        func plotArea(legendRows: Int) -> PlotRect {
            frame.inset(left: 62, top: title == nil ? 14 : 30, right: hasRight ? 62 : 18,
                        bottom: 46 + (legendRows > 0 ? Double(legendRows) * Self.legendLine + 10 : 0))
        }
        let area = plotArea(legendRows: 0)
        let (xScale, leftScale, rightScale) = scales()
        var labelled = series.filter { !$0.label.isEmpty }
        let markerEntry = markerLegend.flatMap { text -> LineSeries? in
            let shown = coloredMarkers.filter { $0.x >= xScale.minimum && $0.x <= xScale.maximum }
            guard let first = shown.first else { return nil }
            let color = shown.allSatisfy({ $0.color == first.color }) ? first.color : Color(hex: 0x777777)
            return LineSeries(label: text, x: [], y: [], color: color, dashed: true)
        }
        guard labelled.count > 1 || markerEntry != nil else { return (area, nil) }
        var markerRow: Int?
        if let markerEntry { markerRow = labelled.count; labelled.append(markerEntry) }
        let line = Self.legendLine
        let textWidth = labelled.map { canvas.measure($0.label, size: Axes2D.fontSize).width }.max() ?? 0
        let w = textWidth + 38, h = Double(labelled.count) * line + 6
        let corners = [PlotRect(area.maxX - w - 6, area.minY + 6, w, h), PlotRect(area.minX + 6, area.minY + 6, w, h),
                       PlotRect(area.maxX - w - 6, area.maxY - h - 6, w, h), PlotRect(area.minX + 6, area.maxY - h - 6, w, h)]
        var pagePoints: [PlotPoint] = []
        for s in series {
            let view = Axes2D(area: area, x: xScale, y: s.axis == .left ? leftScale : rightScale)
            for i in s.x.indices where s.x[i].isFinite && s.y[i].isFinite {
                let p = view.point(s.x[i], s.y[i])
                if p.x.isFinite && p.y.isFinite { pagePoints.append(p) }
            }
            // The lines between points count too, so that a curve of a few points (a few
            // epochs) does not run under the legend.
            for run in Self.finiteRuns(s, logarithmic: s.axis == .left && logarithmic) {
                let points = run.map { view.point(s.x[$0], s.y[$0]) }.filter { $0.x.isFinite && $0.y.isFinite }
                for (a, b) in zip(points, points.dropFirst()) {
                    for t in stride(from: 0.125, to: 1, by: 0.125) { pagePoints.append(PlotPoint(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t)) }
                }
            }
        }
        for m in coloredMarkers where m.x >= xScale.minimum && m.x <= xScale.maximum {
            let px = Axes2D(area: area, x: xScale, y: leftScale).point(m.x, leftScale.minimum).x
            for t in stride(from: 0.0, through: 1, by: 0.125) { pagePoints.append(PlotPoint(px, area.minY + t * area.height)) }
        }
        let (corner, hidden) = corners.map { c in (c, pagePoints.filter { c.contains($0) }.count) }.min { $0.1 < $1.1 }!
        guard hidden > 0 else { return (area, Legend(entries: labelled, markerRow: markerRow, box: corner, entryWidth: w, columns: 1)) }
        let columns = max(1, min(labelled.count, Int((frame.width - 20 + Self.legendColumnGap) / (w + Self.legendColumnGap))))
        let rows = (labelled.count + columns - 1) / columns
        let below = plotArea(legendRows: rows)
        let width = Double(columns) * w + Double(columns - 1) * Self.legendColumnGap
        // Under the x axis's tick labels and title (the 46 points every chart leaves there).
        let box = PlotRect(frame.minX + (frame.width - width) / 2, below.maxY + 42, width, Double(rows) * line + 6)
        return (below, Legend(entries: labelled, markerRow: markerRow, box: box, entryWidth: w, columns: columns))
    }

    /// The legend in its box, `columns` entries to a row, filled row by row.
    private func drawLegend(_ legend: Legend, on canvas: Canvas) {
        let box = legend.box, line = Self.legendLine
        canvas.fill(rectangle: box, with: Color.white.withAlpha(0.85))
        canvas.stroke(rectangle: box, color: Color(hex: 0xbbbbbb), width: 0.5)
        for (k, s) in legend.entries.enumerated() {
            let x = box.minX + Double(k % legend.columns) * (legend.entryWidth + Self.legendColumnGap)
            let y = box.minY + 3 + (Double(k / legend.columns) + 0.5) * line
            let isMarker = k == legend.markerRow
            if !isMarker && Self.drawsOnlyDots(s) {
                Self.dot(s, at: PlotPoint(x + 17, y), on: canvas)
            } else {
                canvas.stroke([PlotPoint(x + 6, y), PlotPoint(x + 28, y)], color: s.color, width: isMarker ? 1 : 1.6,
                              dash: isMarker ? Self.markerDash : s.dashed ? [6, 3] : [])
            }
            canvas.text(s.label, at: PlotPoint(x + 33, y), size: Axes2D.fontSize, baseline: .middle)
        }
    }

    /// A point with no finite neighbour (a run of one epoch, a value between two gaps): a dot,
    /// filled for a solid series and hollow for a dashed one, so that a one-epoch run's train
    /// and test losses, which share a colour, are still told apart.
    static func dot(_ s: LineSeries, at point: PlotPoint, on canvas: Canvas) {
        canvas.fillCircle(center: point, radius: 3, color: s.dashed ? .white : s.color, outline: s.color, outlineWidth: 1.4)
    }

    /// Whether every finite stretch of the series is a single point, so that its legend shows
    /// the dot it is drawn as rather than a line.
    static func drawsOnlyDots(_ s: LineSeries) -> Bool {
        let runs = finiteRuns(s, logarithmic: false)
        return !runs.isEmpty && runs.allSatisfy { $0.count == 1 }
    }
}
