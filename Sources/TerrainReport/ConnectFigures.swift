import TerrainLandscape
import TerrainPlot

/// The figure of a curve between two models (`terrain connect`'s curve.h5): loss along the trained
/// curve and along the straight line from A to B, train solid and test dashed, accuracy on the
/// right axis in lighter colours, each path's barrier (`PathBarrier`) in its legend entry.
enum ConnectFigures {
    /// The figure, linear and log; nil when the file holds no line beside its curve.
    static func curves(_ file: SurfaceFile, name: String) -> [NamedFigure]? {
        guard let paths = paths(file) else { return nil }
        let x = file.grid.x
        let curveName = curveName(file)
        var series: [LineSeries] = []
        for (path, color) in zip(paths, [Color.series[0], Color.series[1]]) {
            series += pathSeries(x: x, values: path.values, name: path.name, color: color, barriers: true)
        }
        var chart = LineChart(series: series, title: "\(curveName) and line from A to B: loss (dark), accuracy (light)",
                              xLabel: "t (0: A, 1: B)")
        chart.markers = [0, 1]
        var log = chart
        log.logarithmic = true
        log.title = (chart.title ?? "") + ", log loss"
        let positive = series.filter { $0.axis == .left }.flatMap(\.y).contains { $0.isFinite && $0 > 0 }
        return [NamedFigure(name: "\(name)_1d", figure: Figure(chart), caption: "loss and accuracy along the \(curveName) and the straight line")]
            + (positive ? [NamedFigure(name: "\(name)_1d_log", figure: Figure(log), caption: "the same with a log loss axis")] : [])
    }

    /// The two paths of a `terrain connect` curve file, named from the file: the curve (its
    /// name from `terrain.curve`, its values the file's own) and the straight line (the
    /// `line_<quantity>` datasets); nil when the file holds no line beside its curve.
    static func paths(_ file: SurfaceFile) -> [(name: String, values: [SurfaceQuantity: [Double]])]? {
        let lineQuantities = SurfaceQuantity.allCases.filter { file.extraDatasets["line_\($0.rawValue)"] != nil }
        guard !lineQuantities.isEmpty else { return nil }
        let line = Dictionary(uniqueKeysWithValues: lineQuantities.map { ($0, file.extraDatasets["line_\($0.rawValue)"]!) })
        return [(curveName(file), file.values), ("line", line)]
    }

    /// One path's curves in its colour: train loss solid and test loss dashed, each labelled with
    /// its barrier (`PathBarrier`) when `barriers`, and accuracy on the right axis, lighter and
    /// unlabelled.
    static func pathSeries(x: [Double], values: [SurfaceQuantity: [Double]], name: String, color: Color, barriers: Bool) -> [LineSeries] {
        var series: [LineSeries] = []
        for (quantity, set, dashed) in [(SurfaceQuantity.trainLoss, "train", false), (.testLoss, "test", true)] {
            guard let y = values[quantity] else { continue }
            let barrier = barriers ? PathBarrier.of(t: x, losses: y).map { String(format: " (barrier %.3g)", $0.barrier) } ?? "" : ""
            series.append(LineSeries(label: "\(name) \(set) loss\(barrier)", x: x, y: y, color: color, dashed: dashed))
        }
        for (quantity, dashed) in [(SurfaceQuantity.trainAccuracy, false), (.testAccuracy, true)] {
            guard let y = values[quantity] else { continue }
            series.append(LineSeries(label: "", x: x, y: y, color: color.mixed(with: .white, 0.45), dashed: dashed, axis: .right))
        }
        return series
    }

    /// Whether a 1D file is a path between two models from t = 0 to t = 1 (a connect curve file,
    /// or an interpolation over exactly [0, 1]), so that its barrier means what `PathBarrier` says.
    static func isPathBetweenModels(_ file: SurfaceFile) -> Bool {
        if paths(file) != nil { return true }
        return file.textAttributes["terrain.from"] != nil && file.grid.x.first == 0 && file.grid.x.last == 1
    }

    /// The paths drawn on the plane through A (0, 0), B (1, 0) and the bend (0, 1) of a
    /// `terrain connect` plane (`terrain.kind` connect): the straight line from A to B, the curve
    /// (its path_x, path_y) and the bend's point; nil for any other file.
    static func planeOverlays(_ file: SurfaceFile, curve: PathOverlay) -> (paths: [PathOverlay], title: String, caption: String)? {
        guard file.textAttributes["terrain.kind"] == "connect" else { return nil }
        let name = curveName(file)
        // Each path named on the chart itself: the line below its middle, the curve above its
        // middle point (the curve bows towards the bend, away from the line), the bend beside it.
        var line = PathOverlay(points: [PlotPoint(0, 0), PlotPoint(1, 0)], label: "line A → B")
        line.labelPlacement = .init(PlotPoint(0.5, 0), side: .below)
        var curve = curve
        curve.label = name
        if !curve.points.isEmpty { curve.labelPlacement = .init(curve.points[curve.points.count / 2], side: .above) }
        var bend = PathOverlay(points: [PlotPoint(0, 1)], label: "bend")
        bend.marksStart = false
        bend.labelPlacement = .init(PlotPoint(0, 1), side: .right)
        return ([line, curve, bend], "on the plane through A, B and the bend",
                "the \(name) from A (square, α = β = 0) to B (dot, α = 1) on the plane through A, B and the bend (dot at β = 1), and the straight line")
    }

    /// The curve's name from the file's `terrain.curve`.
    static func curveName(_ file: SurfaceFile) -> String {
        switch file.textAttributes["terrain.curve"] {
        case "polychain": "polygonal chain"
        case "bezier": "Bézier curve"
        default: "curve"
        }
    }
}
