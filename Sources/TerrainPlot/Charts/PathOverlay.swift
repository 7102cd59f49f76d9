/// A path drawn over a 2D chart: an optimizer's trajectory projected onto the plane.
public struct PathOverlay: Sendable {
    /// Positions in the chart's data coordinates, in order.
    public var points: [PlotPoint]
    /// A value per point (iteration or epoch) that colours it; nil: one colour.
    public var steps: [Double]?
    /// Indices of points marked in red (learning-rate drops).
    public var highlighted: [Int]
    public var label: String?
    /// Whether the start gets its square (off for a lone marker at the current position).
    public var marksStart = true
    /// Where `label` is written on the chart; nil: it is not (a trajectory's caption says what
    /// its path is).
    public var labelPlacement: LabelPlacement?

    /// A label beside a place of the chart (data coordinates, usually on the path): above it,
    /// below it or to its right, on a light box so that it reads over contour lines.
    public struct LabelPlacement: Sendable {
        public enum Side: Sendable { case above, below, right }
        public var position: PlotPoint
        public var side: Side
        public init(_ position: PlotPoint, side: Side) { self.position = position; self.side = side }
    }

    public init(points: [PlotPoint], steps: [Double]? = nil, highlighted: [Int] = [], label: String? = nil) {
        self.points = points; self.steps = steps; self.highlighted = highlighted; self.label = label
    }

    /// Draws the path: a thin line, dots coloured by step (magma, light = late), red rings on the
    /// highlighted points, a square at the start and a star-like ring at the end.
    func draw(on canvas: Canvas, axes: Axes2D) {
        let page = points.filter { $0.x.isFinite && $0.y.isFinite }.map { axes.point($0) }
        guard !page.isEmpty else { return }
        canvas.stroke(page, color: Color.white.withAlpha(0.9), width: 3.2)
        canvas.stroke(page, color: Color(hex: 0x222222), width: 1.3)
        let finiteSteps = steps?.filter(\.isFinite) ?? []
        let lo = finiteSteps.min() ?? 0, hi = finiteSteps.max() ?? 1
        let radius = page.count > 200 ? 1.6 : 2.6
        for (k, p) in page.enumerated() {
            let t = steps.map { hi > lo ? ($0[k] - lo) / (hi - lo) : 1 } ?? 0.5
            canvas.fillCircle(center: p, radius: radius, color: ColorMap.magma.color(at: 0.15 + 0.75 * t), outline: .white, outlineWidth: 0.5)
        }
        for k in highlighted where k >= 0 && k < page.count {
            canvas.fillCircle(center: page[k], radius: radius + 2.2, color: Color(hex: 0xd62728), outline: .white, outlineWidth: 0.8)
        }
        if marksStart {
            let start = page[0]
            canvas.fill(rectangle: PlotRect(start.x - 3.5, start.y - 3.5, 7, 7), with: Color(hex: 0x1f77b4))
        }
        canvas.fillCircle(center: page[page.count - 1], radius: 4.5, color: Color(hex: 0xffd700), outline: .black, outlineWidth: 1)
        drawLabel(on: canvas, axes: axes)
    }

    private func drawLabel(on canvas: Canvas, axes: Axes2D) {
        guard let label, let box = labelBox(on: canvas, axes: axes) else { return }
        canvas.fill(rectangle: box, with: Color.white.withAlpha(0.8))
        canvas.text(label, at: PlotPoint(box.x + box.width / 2, box.y + box.height / 2), size: Self.labelSize,
                    color: Color(hex: 0x222222), anchor: .center, baseline: .middle)
    }

    static let labelSize = 10.0

    /// The page rectangle the label's box takes, nil when no label is drawn: the contour chart
    /// keeps its own labels out of it.
    func labelBox(on canvas: Canvas, axes: Axes2D) -> PlotRect? {
        guard let label, !label.isEmpty, let placement = labelPlacement,
              placement.position.x.isFinite, placement.position.y.isFinite else { return nil }
        let at = axes.point(placement.position)
        let gap = 9.0
        let width = canvas.measure(label, size: Self.labelSize).width + 6, height = Self.labelSize + 6
        switch placement.side {
        case .above: return PlotRect(at.x - width / 2, at.y - gap - height, width, height)
        case .below: return PlotRect(at.x - width / 2, at.y + gap, width, height)
        case .right: return PlotRect(at.x + gap, at.y - height / 2, width, height)
        }
    }
}
