/// A vertical colour scale with ticks: which colour means which value.
public struct Colorbar {
    public var colorMap: ColorMap
    public var scale: AxisScale
    public var label: String?
    /// Discrete bands (filled contours): the boundaries drawn as steps instead of a gradient.
    public var levels: [Double]?

    public init(colorMap: ColorMap, scale: AxisScale, label: String? = nil, levels: [Double]? = nil) {
        self.colorMap = colorMap; self.scale = scale; self.label = label; self.levels = levels
    }

    /// Width the bar takes to the right of a plot, labels included.
    public static let width = 78.0

    /// Draws the bar in `area` (a narrow, tall rectangle) with ticks on its right.
    public func draw(on canvas: Canvas, in area: PlotRect) {
        let steps = 256
        var pixels: [Color] = []
        for r in 0..<steps {
            let t = 1 - (Double(r) + 0.5) / Double(steps)
            if let levels, levels.count >= 2 {
                // The band that holds this value, coloured by its middle.
                let v = scale.value(atFraction: t)
                let k = max(0, min(levels.count - 2, (levels.lastIndex { $0 <= v } ?? 0)))
                let mid = scale.fraction(of: levels[k]) / 2 + scale.fraction(of: levels[k + 1]) / 2
                pixels.append(colorMap.color(at: mid))
            } else {
                pixels.append(colorMap.color(at: t))
            }
        }
        canvas.image(pixels, columns: 1, rows: steps, in: area)
        canvas.stroke(rectangle: area, color: .text, width: 0.6)
        let axes = Axes2D(area: area, x: AxisScale(minimum: 0, maximum: 1), y: scale)
        axes.drawVerticalTicks(on: canvas, scale: scale, side: .right)
        if let label {
            // Beyond the widest tick label.
            let widest = scale.ticks().map { canvas.measure(Axes2D.typeset($0.label), size: Axes2D.fontSize).width }.max() ?? 0
            canvas.text(label, at: PlotPoint(area.maxX + 12 + widest, area.center.y), size: Axes2D.fontSize + 1, anchor: .center,
                        baseline: .top, angle: .pi / 2)
        }
    }
}
