/// A rectangular plot area with an x and a y scale: maps data to the page and draws the frame,
/// ticks, tick labels, grid lines, axis titles and the title around it.
public struct Axes2D {
    /// The plot area (inside the frame line), in page points.
    public var area: PlotRect
    public var x: AxisScale
    public var y: AxisScale

    public init(area: PlotRect, x: AxisScale, y: AxisScale) {
        self.area = area; self.x = x; self.y = y
    }

    /// Page position of a data point (y grows upwards on the page).
    public func point(_ dx: Double, _ dy: Double) -> PlotPoint {
        PlotPoint(area.minX + x.fraction(of: dx) * area.width, area.maxY - y.fraction(of: dy) * area.height)
    }

    public func point(_ p: PlotPoint) -> PlotPoint { point(p.x, p.y) }

    /// The room a chart leaves around its plot area for labels (points).
    public struct Margins: Sendable {
        public var left = 62.0, top = 30.0, right = 18.0, bottom = 46.0
        public init() {}
        public init(left: Double, top: Double, right: Double, bottom: Double) {
            self.left = left; self.top = top; self.right = right; self.bottom = bottom
        }
    }

    public static let fontSize = 10.0
    public static let titleSize = 12.0

    /// Grid lines behind the data.
    public func drawGrid(on canvas: Canvas) {
        for (v, _) in x.ticks() {
            let px = point(v, y.minimum).x
            canvas.stroke([PlotPoint(px, area.minY), PlotPoint(px, area.maxY)], color: .grid, width: 0.5)
        }
        for (v, _) in y.ticks() {
            let py = point(x.minimum, v).y
            canvas.stroke([PlotPoint(area.minX, py), PlotPoint(area.maxX, py)], color: .grid, width: 0.5)
        }
    }

    /// Frame, ticks and labels on top of the data.
    public func drawFrame(on canvas: Canvas, xLabel: String?, yLabel: String?, title: String?) {
        canvas.stroke(rectangle: area, color: .text, width: 0.8)
        for (v, label) in x.ticks() {
            let px = point(v, y.minimum).x
            canvas.stroke([PlotPoint(px, area.maxY), PlotPoint(px, area.maxY + 4)], color: .text, width: 0.8)
            canvas.text(Self.typeset(label), at: PlotPoint(px, area.maxY + 6), size: Self.fontSize, anchor: .center, baseline: .top)
        }
        drawVerticalTicks(on: canvas, scale: y, side: .left)
        if let xLabel {
            canvas.text(xLabel, at: PlotPoint(area.center.x, area.maxY + 22), size: Self.fontSize + 1, anchor: .center, baseline: .top)
        }
        if let yLabel {
            canvas.text(yLabel, at: PlotPoint(area.minX - 46, area.center.y), size: Self.fontSize + 1,
                        anchor: .center, baseline: .bottom, angle: .pi / 2)
        }
        if let title {
            canvas.text(title, at: PlotPoint(area.center.x, area.minY - 9), size: Self.titleSize, bold: true, anchor: .center)
        }
    }

    public enum Side { case left, right }

    /// A number label as typeset: a true minus sign instead of the hyphen.
    public static func typeset(_ label: String) -> String {
        guard label.hasPrefix("-") else { return label }
        if let v = Double(label), v == 0 { return String(label.dropFirst()) }   // no "−0"
        return "\u{2212}" + label.dropFirst()
    }

    /// Ticks and labels of a vertical scale on one side of the plot area (the right one for a
    /// second quantity, such as accuracy next to loss).
    public func drawVerticalTicks(on canvas: Canvas, scale: AxisScale, side: Side, label: String? = nil) {
        let edge = side == .left ? area.minX : area.maxX
        let out: Double = side == .left ? -1 : 1
        for (v, text) in scale.ticks() {
            let py = area.maxY - scale.fraction(of: v) * area.height
            canvas.stroke([PlotPoint(edge, py), PlotPoint(edge + 4 * out, py)], color: .text, width: 0.8)
            canvas.text(Self.typeset(text), at: PlotPoint(edge + 6 * out, py), size: Self.fontSize,
                        anchor: side == .left ? .right : .left, baseline: .middle)
        }
        if let label {
            canvas.text(label, at: PlotPoint(edge + 42 * out, area.center.y), size: Self.fontSize + 1, anchor: .center,
                        baseline: side == .left ? .bottom : .top, angle: .pi / 2)
        }
    }
}
