import Foundation
import TerrainLandscape
import TerrainPlot

/// The kinds of figure `terrain plot` draws; file suffixes follow the reference's
/// (`_2dcontour`, `_2dcontourf`, `_2dheat`, `_3dsurface`).
public enum FigureKind: String, CaseIterable, Sendable {
    case curve = "1d", contour, filled, heatmap, surface3d = "3d", trajectory, eigen, spectrum

    public var suffix: String {
        switch self {
        case .curve: "1d"
        case .contour: "2dcontour"
        case .filled: "2dcontourf"
        case .heatmap: "2dheat"
        case .surface3d: "3dsurface"
        case .trajectory: "trajectory"
        case .eigen: "eig"
        case .spectrum: "density"
        }
    }
}

/// How the figures look: the options of `terrain plot`, shared by the demo.
public struct FigureStyle {
    public init() {}
    /// Contour levels `stepped(vmin, vmax, vlevel)` (the reference's); nil: automatic.
    public var levels: [Double]?
    /// Log-spaced levels and log colour scale for losses (automatic: when all values are positive).
    public var logarithmic: Bool?
    public var colorMap: ColorMap = .viridis
    public var azimuth: Double?
    public var elevation: Double?
    public var zClip: Double?
}

/// One figure to write: its file name (without extension) and its content.
public struct NamedFigure {
    public var name: String
    public var figure: Figure
    public var caption: String
}

/// Every figure that fits a surface file: curves for a 1D file; contours, filled contours, heat
/// map and 3D view of each loss and a heat map of each accuracy for a 2D one; the path over the
/// contours when the file holds a trajectory; curvature maps when it holds `max_eig`/`min_eig`.
public enum SurfaceFigures {
    public static func figures(for file: SurfaceFile, name: String, kinds: Set<FigureKind>, style: FigureStyle) throws -> [NamedFigure] {
        var result: [NamedFigure] = []
        let grid = file.grid
        guard grid.isTwoDimensional else {
            if kinds.contains(.curve) { result += curves(file, name: name, style: style) }
            return sayingSampled(result, file)
        }
        let pcLabels = principalComponentLabels(file)
        let xLabel = pcLabels?.x ?? axisLabel(file, "x"), yLabel = pcLabels?.y ?? axisLabel(file, "y")
        // A next-token loss's surface (it holds perplexity) measures accuracy over tokens.
        let overTokens = SurfacePerplexity.datasets.contains { file.extraDatasets[$0.name] != nil }
        for q in SurfaceQuantity.allCases {
            guard let values = file.values[q] else { continue }
            let g = ScalarGrid(x: grid.x, y: grid.y, values: markingDiverged(values, of: q, in: file))
            let isLoss = q == .trainLoss || q == .testLoss
            let what = q.rawValue.replacingOccurrences(of: "_", with: " ")
                .replacingOccurrences(of: "acc", with: overTokens ? "token accuracy" : "accuracy")
            guard !g.finiteValues.isEmpty else {
                // Nothing to contour or colour: each figure asked for is still drawn, every cell
                // marked invalid, with a note (an all-diverged surface is a result, not an error).
                let drawn = isLoss ? [FigureKind.contour, .filled, .heatmap].filter(kinds.contains) : (kinds.contains(.heatmap) ? [.heatmap] : [])
                for kind in drawn {
                    let chart = UnusableGridChart(grid: g, title: what, xLabel: xLabel, yLabel: yLabel)
                    result.append(NamedFigure(name: "\(name)_\(q.rawValue)_\(kind.suffix)", figure: Figure(chart),
                                              caption: "\(what): \(chart.note)"))
                }
                continue
            }
            let log = isLoss && FigureLevels.isLogarithmic(g.finiteValues, style: style)
            func chart(_ s: ContourChart.Style) -> ContourChart {
                let levels = isLoss && s != .heatMap
                    ? FigureLevels.levels(over: values, count: s.automaticLevelCount, logarithmic: log, style: style) : nil
                var c = ContourChart(grid: g, style: s, levels: levels, logarithmic: log,
                                     colorMap: style.colorMap, title: what, xLabel: xLabel, yLabel: yLabel,
                                     colorbarLabel: isLoss ? "loss" : overTokens ? "token accuracy (%)" : "accuracy (%)")
                if !isLoss { c.colorScale = AxisScale(minimum: 0, maximum: 100) }
                return c
            }
            let base = "\(name)_\(q.rawValue)"
            if isLoss {
                if kinds.contains(.contour) {
                    var lines = chart(.lines)
                    var caption = "\(what): contour lines\(log ? " (log-spaced levels)" : "")"
                    if let (overlay, note) = TopologyOverlay.overlay(for: file, quantity: q.rawValue) {
                        lines.criticalPoints = overlay
                        caption += "; " + note
                    }
                    result.append(NamedFigure(name: "\(base)_\(FigureKind.contour.suffix)", figure: Figure(lines), caption: caption))
                }
                if kinds.contains(.filled) {
                    result.append(NamedFigure(name: "\(base)_\(FigureKind.filled.suffix)", figure: Figure(chart(.filled)),
                                              caption: "\(what): filled contours"))
                }
                if kinds.contains(.heatmap) {
                    result.append(NamedFigure(name: "\(base)_\(FigureKind.heatmap.suffix)", figure: Figure(chart(.heatMap)),
                                              caption: "\(what): heat map"))
                }
                if kinds.contains(.surface3d) {
                    var s3 = SurfaceChart3D(grid: g)
                    s3.title = what + (log ? " (log scale)" : "")
                    s3.zLabel = log ? "loss (log scale)" : "loss"
                    s3.xLabel = pcLabels == nil ? xLabel : "PC1"
                    s3.yLabel = pcLabels == nil ? yLabel : "PC2"
                    s3.logarithmic = log
                    s3.zClip = style.zClip
                    s3.colorMap = style.colorMap
                    if let a = style.azimuth { s3.azimuth = a }
                    if let e = style.elevation { s3.elevation = e }
                    result.append(NamedFigure(name: "\(base)_\(FigureKind.surface3d.suffix)", figure: Figure(s3, width: 620, height: 500),
                                              caption: "\(what): 3D surface"))
                }
                if kinds.contains(.trajectory), let path = trajectory(file) {
                    var c = chart(.lines)
                    c.paths = [path]
                    c.title = "\(what) with the training path"
                    var caption = "the optimizer's path on the plane (red: learning-rate drops; square: start, dot: end)"
                    if let connection = ConnectFigures.planeOverlays(file, curve: path) {
                        c.paths = connection.paths
                        c.title = "\(what) \(connection.title)"
                        caption = connection.caption
                    }
                    result.append(NamedFigure(name: "\(base)_\(FigureKind.trajectory.suffix)", figure: Figure(c), caption: caption))
                }
            } else if kinds.contains(.heatmap) {
                result.append(NamedFigure(name: "\(base)_\(FigureKind.heatmap.suffix)", figure: Figure(chart(.heatMap)),
                                          caption: "\(what): heat map"))
            }
        }
        // A next-token loss's perplexity, exp(loss) (`SurfacePerplexity`), as a heat map on a log scale.
        for (_, quantity) in SurfacePerplexity.datasets where kinds.contains(.heatmap) {
            guard let values = file.extraDatasets[quantity], values.count == grid.pointCount else { continue }
            let g = ScalarGrid(x: grid.x, y: grid.y, values: values)
            let what = quantity.replacingOccurrences(of: "_", with: " ")
            guard !g.finiteValues.isEmpty else { continue }
            let chart = ContourChart(grid: g, style: .heatMap, levels: nil, logarithmic: FigureLevels.isLogarithmic(g.finiteValues, style: style),
                                     colorMap: style.colorMap, title: what, xLabel: xLabel, yLabel: yLabel, colorbarLabel: "perplexity")
            result.append(NamedFigure(name: "\(name)_\(quantity)_\(FigureKind.heatmap.suffix)", figure: Figure(chart),
                                      caption: "\(what) (exp of the next-token loss): heat map"))
        }
        // An adaptive surface's interpolated points are said in every caption (computed_mask has them).
        if let saving = AdaptiveSurfaceComputation.summary(of: file) {
            for k in result.indices { result[k].caption += " (adaptive: \(saving), the rest interpolated)" }
        }
        result = sayingSampled(result, file)
        if kinds.contains(.eigen), let maxEig = file.extraDatasets["max_eig"], let minEig = file.extraDatasets["min_eig"],
           maxEig.count == grid.pointCount, minEig.count == grid.pointCount {
            result += eigenMaps(grid: grid, maxEig: maxEig, minEig: minEig, name: name, xLabel: xLabel, yLabel: yLabel)
        }
        return result
    }

    /// Figures of a sampled surface (`--data-tolerance`) say so in their captions: "(sampled: SE ≤ 0.001)".
    static func sayingSampled(_ figures: [NamedFigure], _ file: SurfaceFile) -> [NamedFigure] {
        guard let sampled = DataSampling.caption(of: file) else { return figures }
        return figures.map { var figure = $0; figure.caption += " (\(sampled))"; return figure }
    }

    /// The values of `quantity` as figures draw them: an accuracy at a point where its set's
    /// loss diverged (+∞, stored with a NaN accuracy) is diverged too, not "not computed".
    public static func markingDiverged(_ values: [Double], of quantity: SurfaceQuantity, in file: SurfaceFile) -> [Double] {
        let loss: SurfaceQuantity
        switch quantity {
        case .trainAccuracy: loss = .trainLoss
        case .testAccuracy: loss = .testLoss
        default: return values
        }
        guard let losses = file.values[loss], losses.count == values.count else { return values }
        return zip(values, losses).map { value, loss in value.isNaN && loss.isInfinite ? .infinity : value }
    }

    /// Loss (left) and accuracy (right) along a 1D axis, train solid and test dashed, linear and log.
    static func curves(_ file: SurfaceFile, name: String, style: FigureStyle) -> [NamedFigure] {
        if let connection = ConnectFigures.curves(file, name: name) { return connection }
        if let repeats = file.repeats, repeats.members.count > 1 { return ensembleCurves(repeats, name: name) }
        var series: [LineSeries] = []
        let x = file.grid.x
        if let v = file.values[.trainLoss] { series.append(LineSeries(label: "train loss", x: x, y: v, color: Color.series[0])) }
        if let v = file.values[.testLoss] { series.append(LineSeries(label: "test loss", x: x, y: v, color: Color.series[0], dashed: true)) }
        if let v = file.values[.trainAccuracy] { series.append(LineSeries(label: "train accuracy", x: x, y: v, color: Color.series[1], axis: .right)) }
        if let v = file.values[.testAccuracy] { series.append(LineSeries(label: "test accuracy", x: x, y: v, color: Color.series[1], dashed: true, axis: .right)) }
        guard !series.isEmpty else { return [] }
        let isInterpolation = file.textAttributes["terrain.from"] != nil
        var chart = LineChart(series: series, title: isInterpolation ? "interpolation θA → θB" : "1D loss surface",
                              xLabel: isInterpolation ? "α (0: θA, 1: θB)" : "α")
        if isInterpolation { chart.markers = [0, 1] }
        var log = chart
        log.logarithmic = true
        log.title = (chart.title ?? "") + " (log loss)"
        let positive = series.filter { $0.axis == .left }.flatMap(\.y).contains { $0.isFinite && $0 > 0 }
        return [NamedFigure(name: "\(name)_1d", figure: Figure(chart), caption: "loss and accuracy along the direction")]
            + (positive ? [NamedFigure(name: "\(name)_1d_log", figure: Figure(log), caption: "the same with a log loss axis")] : [])
    }

    /// An ensemble's curves (`SurfaceRepeats`): per quantity the members' mean, a shaded band of ±1
    /// standard deviation around it, and each member as a light line, linear and log.
    static func ensembleCurves(_ repeats: SurfaceRepeats, name: String) -> [NamedFigure] {
        let x = repeats.grid.x
        let statistics = repeats.statistics
        var series: [LineSeries] = [], members: [LineSeries] = [], bands: [LineBand] = []
        let styles: [(SurfaceQuantity, String, Color, Bool, LineSeries.Axis)] = [
            (.trainLoss, "train loss", Color.series[0], false, .left), (.testLoss, "test loss", Color.series[0], true, .left),
            (.trainAccuracy, "train accuracy", Color.series[1], false, .right), (.testAccuracy, "test accuracy", Color.series[1], true, .right),
        ]
        for (q, label, color, dashed, axis) in styles {
            guard let s = statistics[q] else { continue }
            for member in repeats.members {
                members.append(LineSeries(label: "", x: x, y: member[q]!, color: color.mixed(with: .white, 0.6), dashed: dashed, axis: axis))
            }
            series.append(LineSeries(label: label + " (mean)", x: x, y: s.mean, color: color, dashed: dashed, axis: axis))
            // Where the standard deviation is undefined (one finite member), the band is the mean.
            let spread = zip(s.mean, s.standardDeviation).map { $0.isFinite && $1.isNaN ? 0 : $1 }
            bands.append(LineBand(x: x, lower: zip(s.mean, spread).map { $0 - $1 }, upper: zip(s.mean, spread).map { $0 + $1 },
                                  color: color.withAlpha(0.22), axis: axis))
        }
        guard !series.isEmpty else { return [] }
        let what = repeats.kind == .directions ? "direction pairs" : "data subsets"
        var chart = LineChart(series: members + series, title: "1D loss surface: mean ± std over \(repeats.members.count) \(what)", xLabel: "α")
        chart.bands = bands
        var log = chart
        log.logarithmic = true
        log.title = (chart.title ?? "") + " (log loss)"
        let positive = series.filter { $0.axis == .left }.flatMap(\.y).contains { $0.isFinite && $0 > 0 }
        let caption = "mean of \(repeats.members.count) \(what) with ±1 standard deviation shaded, each member light"
        return [NamedFigure(name: "\(name)_1d", figure: Figure(chart), caption: caption)]
            + (positive ? [NamedFigure(name: "\(name)_1d_log", figure: Figure(log), caption: caption + ", log loss axis")] : [])
    }

    /// Each file's loss (left axis; train solid, test dashed) and accuracy (right axis, lighter) in
    /// its own colour, linear and log. A `terrain connect` curve file brings both its paths, the
    /// curve and the straight line, each in a colour of its own and named "FILE: Bézier curve",
    /// "FILE: line"; a path between two models (that, or an interpolation from 0 to 1) says its
    /// barriers in the legend.
    static func overlaidCurves(_ files: [(name: String, file: SurfaceFile)], style: FigureStyle) -> [NamedFigure] {
        var series: [LineSeries] = []
        var k = 0
        for entry in files {
            let paths = ConnectFigures.paths(entry.file)?.map { ("\(entry.name): \($0.name)", $0.values) } ?? [(entry.name, entry.file.values)]
            let barriers = ConnectFigures.isPathBetweenModels(entry.file)
            for (name, values) in paths {
                series += ConnectFigures.pathSeries(x: entry.file.grid.x, values: values, name: name,
                                                    color: Color.series[k % Color.series.count], barriers: barriers)
                k += 1
            }
        }
        let betweenModels = files.allSatisfy { ConnectFigures.isPathBetweenModels($0.file) }
        var chart = LineChart(series: series, title: "loss (dark) and accuracy (light) along \(betweenModels ? "the paths" : "α")",
                              xLabel: betweenModels ? "α or t (0: A, 1: B)" : "α")
        if betweenModels { chart.markers = [0, 1] }
        var log = chart
        log.logarithmic = true
        log.title = "the same with a log loss axis"
        chart.logarithmic = false
        // Many paths (two connect files bring four) fill every corner, and their legend goes
        // below the plot: a row more of height for each entry past four keeps the plot's own.
        let entries = series.filter { !$0.label.isEmpty }.count
        let height = 430 + LineChart.legendLine * Double(max(0, entries - 4))
        return [NamedFigure(name: "compare_1d", figure: Figure(chart, height: height), caption: "the curves overlaid"),
                NamedFigure(name: "compare_1d_log", figure: Figure(log, height: height), caption: "the curves overlaid, log loss")]
    }

    /// |λmin/λmax| (0 to 0.5 is the interesting range: near 0, locally convex) and the signed ratio.
    static func eigenMaps(grid: SurfaceGrid, maxEig: [Double], minEig: [Double], name: String, xLabel: String, yLabel: String) -> [NamedFigure] {
        let ratio = zip(minEig, maxEig).map { mn, mx in mx != 0 && mx.isFinite && mn.isFinite ? mn / mx : .nan }
        var absolute = ContourChart(grid: ScalarGrid(x: grid.x, y: grid.y, values: ratio.map { abs($0) }), style: .heatMap,
                                    colorMap: .viridis, title: "|λmin / λmax|", xLabel: xLabel, yLabel: yLabel, colorbarLabel: "|λmin / λmax|")
        absolute.colorScale = AxisScale(minimum: 0, maximum: 0.5)
        let bound = max(ratio.filter(\.isFinite).map { abs($0) }.max() ?? 1, 1e-12)
        var signed = ContourChart(grid: ScalarGrid(x: grid.x, y: grid.y, values: ratio), style: .heatMap,
                                  colorMap: .diverging, title: "λmin / λmax", xLabel: xLabel, yLabel: yLabel, colorbarLabel: "λmin / λmax")
        signed.colorScale = AxisScale(minimum: -bound, maximum: bound)
        return [NamedFigure(name: "\(name)_eig_ratio_abs", figure: Figure(absolute), caption: "convexity map: |λmin/λmax| (dark: locally convex)"),
                NamedFigure(name: "\(name)_eig_ratio", figure: Figure(signed), caption: "signed eigenvalue ratio (blue: negative curvature present)")]
    }

    static func trajectory(_ file: SurfaceFile) -> PathOverlay? {
        guard let px = file.extraDatasets["path_x"], let py = file.extraDatasets["path_y"], px.count == py.count, !px.isEmpty else { return nil }
        let drops = file.extraDatasets["path_lr_drop"].map { flags in flags.indices.filter { flags[$0] != 0 } } ?? []
        return PathOverlay(points: zip(px, py).map { PlotPoint($0, $1) }, steps: file.extraDatasets["path_iteration"],
                           highlighted: drops, label: "path")
    }

    /// "1st PC: 62.3 %" axis titles when the file is a PCA-trajectory surface.
    static func principalComponentLabels(_ file: SurfaceFile) -> (x: String, y: String)? {
        guard let a = file.numberAttributes["terrain.pc1_explained"], let b = file.numberAttributes["terrain.pc2_explained"] else { return nil }
        return (String(format: "1st PC: %.1f %%", 100 * a), String(format: "2nd PC: %.1f %%", 100 * b))
    }

    /// The axis title: a named parameter's name when the surface is along parameters, else α / β.
    static func axisLabel(_ file: SurfaceFile, _ axis: String) -> String {
        if let axes = file.textAttributes["terrain.axes"]?.split(separator: ",", omittingEmptySubsequences: false) {
            let name = String(axes[axis == "x" ? 0 : min(1, axes.count - 1)])
            if !name.isEmpty { return name }
        }
        // The plane of a curve between two models: A + α·(B − A) + β·(θ_b − A).
        // (curve.h5 is over the curve's parameter t.)
        if file.textAttributes["terrain.kind"] == "connect" {
            if !file.grid.isTwoDimensional { return "t (0: A, 1: B)" }
            return axis == "x" ? "α (along B − A)" : "β (along bend − A)"
        }
        return axis == "x" ? "α" : "β"
    }

    /// Side-by-side panels of the same kind for several 2D surfaces, on one colour scale; several
    /// 1D surfaces (small vs large batch, repeated directions) overlaid on one pair of axes.
    public static func comparison(_ files: [(name: String, file: SurfaceFile)], quantity: SurfaceQuantity, style: FigureStyle) throws -> [NamedFigure] {
        if files.allSatisfy({ !$0.file.grid.isTwoDimensional }) { return overlaidCurves(files, style: style) }
        let grids = try files.map { entry -> (String, ScalarGrid) in
            guard entry.file.grid.isTwoDimensional, let v = entry.file.values[quantity] else {
                throw PlotError.invalidData("\(entry.name): not a 2D surface with \(quantity.rawValue)")
            }
            return (entry.name, ScalarGrid(x: entry.file.grid.x, y: entry.file.grid.y, values: v))
        }
        let what = quantity.rawValue.replacingOccurrences(of: "_", with: " ").replacingOccurrences(of: "acc", with: "accuracy")
        let all = grids.flatMap { $0.1.finiteValues }
        let log = FigureLevels.isLogarithmic(all, style: style)
        let scale = AxisScale.covering(all, logarithmic: log)
        let levels = FigureLevels.levels(over: [scale.minimum, scale.maximum], count: 12, logarithmic: log, style: style)
        var result: [NamedFigure] = []
        for s in [ContourChart.Style.lines, .filled] {
            let panels: [any Chart] = grids.map { name, g in
                var c = ContourChart(grid: g, style: s, levels: levels, logarithmic: log, colorMap: style.colorMap, title: name,
                                     xLabel: "α", yLabel: "β", colorbarLabel: what)
                c.colorScale = scale
                return c
            }
            result.append(NamedFigure(name: "compare_\(quantity.rawValue)_\(s == .lines ? "2dcontour" : "2dcontourf")",
                                      figure: Figure(panels, title: "\(what) on one colour scale"),
                                      caption: "side by side, shared levels and colours"))
        }
        let panels3D: [any Chart] = grids.map { name, g in
            var s3 = SurfaceChart3D(grid: g)
            s3.title = name
            s3.xLabel = "α"
            s3.yLabel = "β"
            s3.logarithmic = log
            s3.zLabel = log ? "loss (log scale)" : "loss"
            s3.zClip = style.zClip ?? scale.maximum
            s3.colorMap = style.colorMap
            return s3
        }
        result.append(NamedFigure(name: "compare_\(quantity.rawValue)_3dsurface", figure: Figure(panels3D, title: "\(what), 3D"),
                                  caption: "side by side in 3D"))
        return result
    }
}
