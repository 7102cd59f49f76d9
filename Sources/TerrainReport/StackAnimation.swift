import Foundation
import TerrainLandscape
import TerrainPlot

/// What each frame of an animation shows.
public enum AnimationView: String, CaseIterable, Sendable {
    /// Filled contours from above (loss), or a heat map (accuracy), with the checkpoint marked
    /// and, on a fixed plane, the path so far.
    case contour
    /// The lit 3D surface, the checkpoint marked at its height.
    case surface3d = "3d"
}

/// The frames of a `SurfaceStack` drawn as pictures of one size, one look and one scale: every
/// frame's colours (and 3D heights and ticks) are those of one range covering the finite values
/// of all frames, so a colour means the same loss in every frame and the landscape's change is
/// what moves. Each page has a title, the chart, and a caption with the frame's epoch,
/// iteration, loss and accuracy over a bar showing how far through training it is.
public struct StackAnimation {
    public let stack: SurfaceStack
    public let quantity: SurfaceQuantity
    public let view: AnimationView
    public let style: FigureStyle
    /// The colour range of every frame (and the 3D z range).
    public let scale: AxisScale
    /// The contour levels of every frame (filled contours of a loss).
    public let levels: [Double]

    public init(stack: SurfaceStack, quantity: SurfaceQuantity = .trainLoss, view: AnimationView = .contour,
                style: FigureStyle = FigureStyle()) throws {
        guard stack.grid.isTwoDimensional, stack.grid.x.count >= 2, stack.grid.y.count >= 2 else {
            throw PlotError.invalidData("an animation needs 2D surfaces of at least 2x2 points; this stack's grid is \(stack.grid.shape)")
        }
        guard stack.file.values[quantity] != nil else {
            let held = stack.quantities.map(\.rawValue).joined(separator: ", ")
            throw PlotError.invalidData("the stack has no \(quantity.rawValue); it has: \(held.isEmpty ? "nothing" : held)")
        }
        let finite = stack.finiteValues(quantity)
        guard !finite.isEmpty else { throw PlotError.invalidData("the stack's \(quantity.rawValue) has no finite value to draw (not computed yet?)") }
        self.stack = stack; self.quantity = quantity; self.view = view; self.style = style
        if Self.isLoss(quantity) {
            let logarithmic = FigureLevels.isLogarithmic(finite, style: style)
            let shown = style.zClip.map { clip in finite.map { min($0, clip) } } ?? finite
            scale = AxisScale.covering(shown, logarithmic: logarithmic)
            levels = FigureLevels.levels(over: [scale.minimum, scale.maximum], count: FigureLevels.filledCount,
                                         logarithmic: logarithmic, style: style)
        } else {
            scale = AxisScale(minimum: 0, maximum: 100)
            levels = []
        }
    }

    static func isLoss(_ q: SurfaceQuantity) -> Bool { q == .trainLoss || q == .testLoss }

    /// Page size in points: the chart and a title and caption strip.
    public var pageSize: (width: Double, height: Double) {
        view == .contour ? (600, 430 + Self.titleHeight + Self.captionHeight) : (640, 480 + Self.titleHeight + Self.captionHeight)
    }
    static let titleHeight = 30.0, captionHeight = 50.0

    var what: String {
        quantity.rawValue.replacingOccurrences(of: "_", with: " ").replacingOccurrences(of: "acc", with: "accuracy")
    }

    public var title: String {
        stack.mode == EvolutionMode.fixedPCA.rawValue
            ? "\(what) on the run's PCA plane: the minimizer moves"
            : "\(what) around each checkpoint: the view rides with the minimizer"
    }

    /// Axis titles: the PCA explained variance on a fixed plane, α and β when riding.
    var axisLabels: (x: String, y: String) {
        if let a = stack.file.numberAttributes["terrain.pc1_explained"], let b = stack.file.numberAttributes["terrain.pc2_explained"] {
            return (String(format: "1st PC: %.1f %%", 100 * a), String(format: "2nd PC: %.1f %%", 100 * b))
        }
        return ("α", "β")
    }

    /// Frame k's chart.
    public func chart(frame k: Int) -> any Chart {
        let grid = ScalarGrid(x: stack.grid.x, y: stack.grid.y, values: stack.values(quantity, frame: k) ?? [])
        let (xLabel, yLabel) = axisLabels
        switch view {
        case .contour:
            let loss = Self.isLoss(quantity)
            var chart = ContourChart(grid: grid, style: loss ? .filled : .heatMap, levels: loss ? levels : nil,
                                     logarithmic: scale.logarithmic, colorMap: style.colorMap, title: nil,
                                     xLabel: xLabel, yLabel: yLabel, colorbarLabel: loss ? "loss" : "accuracy (%)")
            chart.colorScale = scale
            chart.paths = [path(upTo: k)]
            return chart
        case .surface3d:
            var chart = SurfaceChart3D(grid: grid)
            chart.xLabel = stack.mode == EvolutionMode.fixedPCA.rawValue ? "PC1" : "α"
            chart.yLabel = stack.mode == EvolutionMode.fixedPCA.rawValue ? "PC2" : "β"
            chart.logarithmic = scale.logarithmic
            chart.zLabel = Self.isLoss(quantity) ? (scale.logarithmic ? "loss (log scale)" : "loss") : "accuracy (%)"
            chart.zLimits = scale.minimum...scale.maximum   // `covering` never gives an empty range
            chart.zClip = style.zClip
            chart.colorMap = style.colorMap
            if let a = style.azimuth { chart.azimuth = a }
            if let e = style.elevation { chart.elevation = e }
            return chart
        }
    }

    /// The checkpoint's mark: the path of the run up to this frame on a fixed plane (a dot at its
    /// end), a lone dot at the centre when riding.
    func path(upTo k: Int) -> PathOverlay {
        let frame = stack.frames[k]
        let extras = stack.file.extraDatasets
        if let px = extras["path_x"], let py = extras["path_y"], let steps = extras["path_iteration"],
           px.count == py.count, px.count == steps.count {
            let shown = px.indices.filter { steps[$0] <= Double(frame.iteration) }
            let drops = extras["path_lr_drop"].map { flags in shown.indices.filter { flags[shown[$0]] != 0 } } ?? []
            var points = shown.map { PlotPoint(px[$0], py[$0]) }
            if points.last != PlotPoint(frame.x, frame.y) { points.append(PlotPoint(frame.x, frame.y)) }
            return PathOverlay(points: points, steps: shown.map { steps[$0] } + (points.count > shown.count ? [Double(frame.iteration)] : []),
                               highlighted: drops, label: "path")
        }
        var marker = PathOverlay(points: [PlotPoint(frame.x, frame.y)], label: "checkpoint")
        marker.marksStart = false
        return marker
    }

    /// Frame k's page: title, chart, caption; `scale` pixels per point when written as PNG.
    public func render(frame k: Int, scale: Double = 1.25) throws -> Canvas {
        let (width, height) = pageSize
        let canvas = Canvas(width: width, height: height, scale: scale)
        canvas.text(title, at: PlotPoint(width / 2, 20), size: 14, bold: true, anchor: .center)
        let area = PlotRect(0, Self.titleHeight, width, height - Self.titleHeight - Self.captionHeight)
        let chart = self.chart(frame: k)
        try canvas.withSavedState {
            canvas.clip(to: area)
            try chart.draw(on: canvas, in: area)
        }
        if view == .surface3d, let surface = chart as? SurfaceChart3D { mark3D(frame: k, chart: surface, area: area, on: canvas) }
        drawCaption(frame: k, on: canvas)
        return canvas
    }

    /// The checkpoint as a dot on the 3D view, at its own value (within the z range).
    func mark3D(frame k: Int, chart: SurfaceChart3D, area: PlotRect, on canvas: Canvas) {
        let frame = stack.frames[k]
        guard let value = frame.values[quantity] ?? frame.logged[quantity], value.isFinite else { return }
        let z = min(max(value, scale.minimum), scale.maximum)
        let p = chart.project(frame.x, frame.y, z, in: area)
        guard p.x.isFinite, p.y.isFinite else { return }
        canvas.fillCircle(center: p, radius: 5, color: Color(hex: 0xffd700), outline: .black, outlineWidth: 1.2)
    }

    /// Two lines (epoch and iteration; loss and accuracy) and a bar: the frame's place in training.
    func drawCaption(frame k: Int, on canvas: Canvas) {
        let (width, height) = pageSize
        let frame = stack.frames[k]
        let top = height - Self.captionHeight
        canvas.text(frame.headline + "  (frame \(k + 1) of \(stack.count))", at: PlotPoint(width / 2, top + 16), size: 12.5,
                    bold: true, anchor: .center)
        canvas.text(frame.metrics, at: PlotPoint(width / 2, top + 32), size: 11, anchor: .center)
        let first = Double(stack.frames[0].iteration), last = Double(stack.frames[stack.count - 1].iteration)
        let progress = last > first ? (Double(frame.iteration) - first) / (last - first) : 1
        let bar = PlotRect(40, top + 40, width - 80, 4)
        canvas.fill(rectangle: bar, with: Color(hex: 0xdddddd))
        canvas.fill(rectangle: PlotRect(bar.x, bar.y, bar.width * min(max(progress, 0), 1), bar.height), with: Color(hex: 0x444444))
    }

    /// Every frame as pixels, `scale` pixels per point.
    public func images(scale: Double = 1.25) throws -> [RGBAImage] {
        try (0..<stack.count).map { try render(frame: $0, scale: scale).rasterize() }
    }

    /// Draws every frame and writes the animation (GIF, MP4 or WebM by the extension of `path`).
    public func write(to path: String, scale: Double = 1.25, options: AnimationOptions = AnimationOptions()) throws {
        try AnimationWriter.write(try images(scale: scale), to: path, options: options)
    }
}
