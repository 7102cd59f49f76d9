/// A page of one or more charts in a grid of equal panels, with an optional overall title:
/// what is written to one PNG, SVG or PDF file.
public struct Figure {
    public var panels: [any Chart]
    public var columns: Int
    public var title: String?
    /// Size of one panel in points.
    public var panelWidth: Double
    public var panelHeight: Double

    public init(_ panels: [any Chart], columns: Int? = nil, title: String? = nil, panelWidth: Double = 560, panelHeight: Double = 430) {
        self.panels = panels
        self.columns = max(1, min(columns ?? panels.count, panels.count))
        self.title = title
        self.panelWidth = panelWidth
        self.panelHeight = panelHeight
    }

    public init(_ chart: any Chart, title: String? = nil, width: Double = 560, height: Double = 430) {
        self.init([chart], columns: 1, title: title, panelWidth: width, panelHeight: height)
    }

    var rows: Int { (panels.count + columns - 1) / columns }
    var titleHeight: Double { title == nil ? 0 : 30 }

    /// Draws every panel on a new canvas.
    public func render(scale: Double = 2) throws -> Canvas {
        guard !panels.isEmpty else { throw PlotError.invalidData("a figure needs at least one chart") }
        let canvas = Canvas(width: panelWidth * Double(columns), height: panelHeight * Double(rows) + titleHeight, scale: scale)
        if let title {
            canvas.text(title, at: PlotPoint(canvas.width / 2, 21), size: 14, bold: true, anchor: .center)
        }
        for (k, panel) in panels.enumerated() {
            let frame = PlotRect(Double(k % columns) * panelWidth, titleHeight + Double(k / columns) * panelHeight, panelWidth, panelHeight)
            try canvas.withSavedState {
                canvas.clip(to: frame)
                try panel.draw(on: canvas, in: frame)
            }
        }
        return canvas
    }

    /// Renders and writes the figure in each format, to `base` + "." + format; returns the paths.
    @discardableResult
    public func write(to base: String, formats: [FigureFormat], scale: Double = 2) throws -> [String] {
        let canvas = try render(scale: scale)
        return try formats.map { format in
            let path = base + "." + format.rawValue
            try canvas.write(to: path, format: format)
            return path
        }
    }
}
