import TerrainLandscape
import TerrainPlot

/// The figure of a curve between two models (`terrain connect`'s curve.h5): loss along the trained
/// curve and along the straight line from A to B, train solid and test dashed, accuracy on the
/// right axis in lighter colours, each path's barrier (`PathBarrier`) in its legend entry.
enum ConnectFigures {
    /// The figure, linear and log; nil when the file holds no line beside its curve.
    static func curves(_ file: SurfaceFile, name: String) -> [NamedFigure]? {
        let x = file.grid.x
        let lineQuantities = SurfaceQuantity.allCases.filter { file.extraDatasets["line_\($0.rawValue)"] != nil }
        guard !lineQuantities.isEmpty else { return nil }
        let curveName = curveName(file)
        var series: [LineSeries] = []
        for (path, color, values) in [(curveName, Color.series[0], file.values),
                                      ("line", Color.series[1], Dictionary(uniqueKeysWithValues: lineQuantities.map {
                                          ($0, file.extraDatasets["line_\($0.rawValue)"]!) }))] {
            for (quantity, set, dashed) in [(SurfaceQuantity.trainLoss, "train", false), (.testLoss, "test", true)] {
                guard let y = values[quantity] else { continue }
                let barrier = PathBarrier.of(t: x, losses: y).map { String(format: " (barrier %.3g)", $0.barrier) } ?? ""
                series.append(LineSeries(label: "\(path) \(set) loss\(barrier)", x: x, y: y, color: color, dashed: dashed))
            }
            for (quantity, dashed) in [(SurfaceQuantity.trainAccuracy, false), (.testAccuracy, true)] {
                guard let y = values[quantity] else { continue }
                series.append(LineSeries(label: "", x: x, y: y, color: color.mixed(with: .white, 0.45), dashed: dashed, axis: .right))
            }
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

    /// The paths drawn on the plane through A (0, 0), B (1, 0) and the bend (0, 1) of a
    /// `terrain connect` plane (`terrain.kind` connect): the straight line from A to B, the curve
    /// (its path_x, path_y) and the bend's point; nil for any other file.
    static func planeOverlays(_ file: SurfaceFile, curve: PathOverlay) -> (paths: [PathOverlay], title: String, caption: String)? {
        guard file.textAttributes["terrain.kind"] == "connect" else { return nil }
        let line = PathOverlay(points: [PlotPoint(0, 0), PlotPoint(1, 0)], label: "line")
        var bend = PathOverlay(points: [PlotPoint(0, 1)], label: "bend")
        bend.marksStart = false
        let name = curveName(file)
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
