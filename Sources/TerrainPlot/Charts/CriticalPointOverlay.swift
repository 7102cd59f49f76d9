/// Critical points and region outlines drawn over a 2D chart: what `terrain analyze` found on a
/// surface (its minima, saddles and maxima, and the outline of the centre's basin at one level).
/// Plain positions in the chart's data coordinates; the chart knows nothing of how they were found.
public struct CriticalPointOverlay: Sendable {
    /// Filled blue discs.
    public var minima: [PlotPoint] = []
    /// Black crosses on white.
    public var saddles: [PlotPoint] = []
    /// Filled red triangles.
    public var maxima: [PlotPoint] = []
    /// Lines drawn dashed, black on white (a basin's outline: contour lines of one region).
    public var outlines: [ContourLine] = []

    public init(minima: [PlotPoint] = [], saddles: [PlotPoint] = [], maxima: [PlotPoint] = [], outlines: [ContourLine] = []) {
        self.minima = minima; self.saddles = saddles; self.maxima = maxima; self.outlines = outlines
    }

    public static let minimumColor = Color(hex: 0x1f77b4)
    public static let maximumColor = Color(hex: 0xd62728)

    /// Outlines first, then the markers over them: each marker has a white edge so that it reads
    /// on any colour of the map.
    func draw(on canvas: Canvas, axes: Axes2D) {
        for line in outlines {
            let page = line.points.map { axes.point($0) }
            guard page.count >= 2 else { continue }
            canvas.stroke(page, color: Color.white.withAlpha(0.9), width: 3, closed: line.isClosed)
            canvas.stroke(page, color: .black, width: 1.4, dash: [5, 3], closed: line.isClosed)
        }
        for p in maxima.map({ axes.point($0) }) {
            let triangle = [PlotPoint(p.x, p.y - 5), PlotPoint(p.x - 4.5, p.y + 3.5), PlotPoint(p.x + 4.5, p.y + 3.5)]
            canvas.fill(triangle, with: Self.maximumColor)
            canvas.stroke(triangle, color: .white, width: 0.8, closed: true)
        }
        for p in saddles.map({ axes.point($0) }) {
            for (dx, dy) in [(1.0, 1.0), (1.0, -1.0)] {
                let stroke = [PlotPoint(p.x - 4 * dx, p.y - 4 * dy), PlotPoint(p.x + 4 * dx, p.y + 4 * dy)]
                canvas.stroke(stroke, color: .white, width: 3.4)
                canvas.stroke(stroke, color: .black, width: 1.6)
            }
        }
        for p in minima.map({ axes.point($0) }) {
            canvas.fillCircle(center: p, radius: 4, color: Self.minimumColor, outline: .white, outlineWidth: 1)
        }
    }
}
