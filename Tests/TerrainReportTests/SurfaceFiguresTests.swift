import Testing
import Foundation
import TerrainLandscape
import TerrainPlot
import TerrainReport

@Suite("Surface figures")
struct SurfaceFiguresTests {
    func surface(nx: Int, ny: Int, _ f: (Double, Double) -> Double) -> SurfaceFile {
        let x = (0..<nx).map { -1 + 2 * Double($0) / Double(nx - 1) }
        let y = ny > 0 ? (0..<ny).map { -1 + 2 * Double($0) / Double(ny - 1) } : []
        let values = ny > 0 ? y.flatMap { b in x.map { a in f(a, b) } } : x.map { f($0, 0) }
        return SurfaceFile(grid: SurfaceGrid(x: x, y: y), values: [.trainLoss: values, .trainAccuracy: values.map { 100 / (1 + $0) }],
                           directionFile: "")
    }

    @Test func everyFigureThatFitsIsDrawn() throws {
        var file = surface(nx: 31, ny: 21) { 0.1 + $0 * $0 + 2 * $1 * $1 }
        var names = try SurfaceFigures.figures(for: file, name: "s", kinds: Set(FigureKind.allCases), style: FigureStyle()).map(\.name)
        #expect(names == ["s_train_loss_2dcontour", "s_train_loss_2dcontourf", "s_train_loss_2dheat", "s_train_loss_3dsurface", "s_train_acc_2dheat"])
        file.extraDatasets = ["path_x": [0.5, 0.2, 0], "path_y": [0.5, 0.1, 0], "path_iteration": [0, 10, 20], "path_lr_drop": [0, 1, 0],
                              "max_eig": [Double](repeating: 2, count: 31 * 21), "min_eig": [Double](repeating: -0.5, count: 31 * 21)]
        names = try SurfaceFigures.figures(for: file, name: "s", kinds: [.trajectory, .eigen], style: FigureStyle()).map(\.name)
        #expect(names == ["s_train_loss_trajectory", "s_eig_ratio_abs", "s_eig_ratio"])
        let curves = try SurfaceFigures.figures(for: surface(nx: 11, ny: 0) { a, _ in a * a + 0.5 }, name: "c", kinds: Set(FigureKind.allCases), style: FigureStyle())
        #expect(curves.map(\.name) == ["c_1d", "c_1d_log"])
    }

    /// A `terrain connect` plane names its paths on the chart: the line from A to B, the curve
    /// (by its kind) above its middle point, the bend beside its dot; a training path names none.
    @Test func connectPlaneNamesTheLineTheCurveAndTheBend() throws {
        var file = surface(nx: 9, ny: 9) { a, b in 0.5 + a * a + b * b }
        file.textAttributes = ["terrain.kind": "connect", "terrain.curve": "polychain"]
        file.extraDatasets = ["path_x": [0, 0, 0.5, 1], "path_y": [0, 1, 1, 0]]
        let figure = try #require(try SurfaceFigures.figures(for: file, name: "p", kinds: [.trajectory], style: FigureStyle()).first)
        let chart = try #require(figure.figure.panels.first as? ContourChart)
        #expect(chart.paths.map(\.label) == ["line A → B", "polygonal chain", "bend"])
        #expect(chart.paths.map { $0.labelPlacement?.position } == [PlotPoint(0.5, 0), PlotPoint(0.5, 1), PlotPoint(0, 1)])
        file.textAttributes = [:]
        let training = try #require(try SurfaceFigures.figures(for: file, name: "p", kinds: [.trajectory], style: FigureStyle()).first)
        #expect(try #require(training.figure.panels.first as? ContourChart).paths.allSatisfy { $0.labelPlacement == nil })
    }

    /// `terrain plot --compare` on 1D files overlays every one: a connect curve file brings its
    /// curve and its line, named from the file, and every path between two models (that, or an
    /// interpolation from 0 to 1) says its barriers; a 1D surface along a direction does not.
    @Test func comparisonOverlaysConnectCurvesAndInterpolations() throws {
        let t = (0...10).map { Double($0) / 10 }
        var connect = SurfaceFile(grid: SurfaceGrid(x: t, y: []), values: [.trainLoss: t.map { 1 + 0.1 * sin(.pi * $0) },
                                                                           .testLoss: t.map { 1.2 + 0.2 * sin(.pi * $0) }], directionFile: "")
        connect.textAttributes = ["terrain.kind": "connect", "terrain.curve": "bezier"]
        connect.extraDatasets = ["line_train_loss": t.map { 1 + sin(.pi * $0) }, "line_test_loss": t.map { 1.2 + sin(.pi * $0) },
                                 "line_train_acc": t.map { 90 - 20 * sin(.pi * $0) }]
        var aligned = SurfaceFile(grid: SurfaceGrid(x: t, y: []), values: [.trainLoss: t.map { 1 + 0.5 * $0 * $0 }], directionFile: "")
        aligned.textAttributes = ["terrain.from": "a.safetensors", "terrain.to": "b-aligned.safetensors"]
        let figures = try SurfaceFigures.comparison([("A-B", connect), ("A-B-aligned", aligned)], quantity: .trainLoss, style: FigureStyle())
        #expect(figures.map(\.name) == ["compare_1d", "compare_1d_log"])
        let chart = try #require(figures[0].figure.panels.first as? LineChart)
        #expect(chart.series.map(\.label).filter { !$0.isEmpty } == [
            "A-B: Bézier curve train loss (barrier 0.1)", "A-B: Bézier curve test loss (barrier 0.2)",
            "A-B: line train loss (barrier 1)", "A-B: line test loss (barrier 1)", "A-B-aligned train loss (barrier 0)"])
        // The line's accuracy is drawn on the right axis, in the line's colour, lighter.
        #expect(chart.series.filter { $0.axis == .right }.count == 1)
        let colors = chart.series.filter { !$0.label.isEmpty }.map(\.color)
        #expect(colors[0] == colors[1] && colors[0] != colors[2] && colors[2] != colors[4] && colors[0] != colors[4])
        #expect(chart.markers == [0, 1] && chart.xLabel == "α or t (0: A, 1: B)")
        // Five legend entries: a row more of height than the usual 430 points, for the legend below.
        #expect(figures[0].figure.panelHeight == 430 + LineChart.legendLine)
        // Along a direction (α from −1 to 1) there is no barrier to speak of.
        let plain = try SurfaceFigures.comparison([("p", surface(nx: 11, ny: 0) { a, _ in a * a }), ("q", surface(nx: 11, ny: 0) { a, _ in 2 * a * a })],
                                                  quantity: .trainLoss, style: FigureStyle())
        let plainChart = try #require(plain[0].figure.panels.first as? LineChart)
        #expect(plainChart.series.map(\.label).filter { !$0.isEmpty } == ["p train loss", "q train loss"])
        #expect(plainChart.markers.isEmpty && plainChart.xLabel == "α" && plain[0].figure.panelHeight == 430)
    }

    /// A next-token loss's surface: a perplexity heat map, and its accuracy named as over tokens;
    /// a classifier's accuracy keeps its name.
    @Test func perplexityAndTokenAccuracy() throws {
        var file = surface(nx: 5, ny: 5) { 2 + $0 * $0 + $1 * $1 }
        let plain = try SurfaceFigures.figures(for: file, name: "s", kinds: [.heatmap], style: FigureStyle())
        #expect(plain.map(\.caption) == ["train loss: heat map", "train accuracy: heat map"])
        SurfacePerplexity.add(to: &file)
        let figures = try SurfaceFigures.figures(for: file, name: "s", kinds: [.heatmap], style: FigureStyle())
        #expect(figures.map(\.name) == ["s_train_loss_2dheat", "s_train_acc_2dheat", "s_train_perplexity_2dheat"])
        #expect(figures[1].caption == "train token accuracy: heat map")
        #expect((figures[1].figure.panels.first as? ContourChart)?.colorbarLabel == "token accuracy (%)")
    }

    /// A surface `terrain analyze` stored its topology in: the contour figure marks the minima,
    /// the saddle and the maxima, and outlines the centre's basin (a closed line around the lower
    /// well only, at +10% of the range); the other figures are as before.
    @Test func analysedSurfaceMarksItsCriticalPoints() throws {
        var file = surface(nx: 41, ny: 21) { a, b in (a * 2 * a * 2 - 1) * (a * 2 * a * 2 - 1) + 0.5 * a + 2 * b * b }
        let plain = try SurfaceFigures.figures(for: file, name: "s", kinds: [.contour, .filled], style: FigureStyle())
        #expect((plain[0].figure.panels.first as? ContourChart)?.criticalPoints == nil)
        let topology = SurfaceTopology(quantity: "train_loss", field: GridField(grid: file.grid, values: file.values[.trainLoss]!))
        file = file.storing(topology)
        let figures = try SurfaceFigures.figures(for: file, name: "s", kinds: [.contour, .filled], style: FigureStyle())
        let chart = try #require(figures[0].figure.panels.first as? ContourChart)
        let overlay = try #require(chart.criticalPoints)
        #expect(overlay.minima.count == 2 && overlay.saddles.count == 1 && overlay.maxima.count == topology.points(.maximum).count)
        #expect(figures[0].caption.hasSuffix("and the centre's basin at +10% of the range (dashed), from terrain analyze"))
        let basin = try #require(topology.centreBasin)
        let level = try #require(basin.levels.first { $0.spec == .rise(0.1) })
        // One closed outline, around the basin's minimum and on the lower well's side only.
        #expect(overlay.outlines.count == 1 && overlay.outlines[0].isClosed && overlay.outlines[0].level == level.value)
        let minimumAlpha = topology.field.coordinates(of: basin.minimum).alpha
        #expect(overlay.outlines[0].points.allSatisfy { ($0.x < 0) == (minimumAlpha < 0) })
        #expect((figures[1].figure.panels.first as? ContourChart)?.criticalPoints == nil)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-analysed-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try figures[0].figure.write(to: folder + "/s", formats: [.png, .svg]).count == 2)
    }

    /// Missing (NaN) and diverged (+∞) points are drawn as such, whatever the figure.
    @Test func missingAndDivergedPointsDrawWithoutFailing() throws {
        var file = surface(nx: 21, ny: 21) { a, b in a > 0.5 ? .infinity : (b > 0.5 ? .nan : 0.2 + a * a + b * b) }
        file.values[.trainAccuracy] = file.values[.trainLoss]!.map { $0.isFinite ? 50 : $0 }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-figures-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for f in try SurfaceFigures.figures(for: file, name: "holes", kinds: Set(FigureKind.allCases), style: FigureStyle()) {
            let paths = try f.figure.write(to: folder + "/" + f.name, formats: [.png])
            let png = try DecodedPNG(path: paths[0])
            #expect(png.width > 500 && png.height > 400)
        }
    }
}

@Suite("All-diverged surfaces")
struct AllDivergedFiguresTests {
    /// Every loss diverged: each 2D figure asked for is still drawn (every cell marked invalid,
    /// a note), the accuracy's points are diverged rather than "not computed", and a 1D curve too.
    @Test func anAllDivergedSurfaceIsDrawn() throws {
        let x = [-1.0, 0, 1], y = [-1.0, 1]
        let file = SurfaceFile(grid: SurfaceGrid(x: x, y: y),
                               values: [.trainLoss: Array(repeating: .infinity, count: 6), .trainAccuracy: Array(repeating: .nan, count: 6)],
                               directionFile: "")
        let figures = try SurfaceFigures.figures(for: file, name: "d", kinds: Set(FigureKind.allCases), style: FigureStyle())
        #expect(figures.map(\.name) == ["d_train_loss_2dcontour", "d_train_loss_2dcontourf", "d_train_loss_2dheat", "d_train_acc_2dheat"])
        #expect(figures.allSatisfy { $0.caption.contains("every point diverged") })
        #expect(SurfaceFigures.markingDiverged(file.values[.trainAccuracy]!, of: .trainAccuracy, in: file).allSatisfy { $0 == .infinity })
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-diverged-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for f in figures { _ = try f.figure.write(to: folder + "/" + f.name, formats: [.png]) }

        let curve = SurfaceFile(grid: SurfaceGrid(x: x), values: [.trainLoss: [.infinity, .infinity, .infinity], .trainAccuracy: [.nan, .nan, .nan]],
                                directionFile: "")
        let curves = try SurfaceFigures.figures(for: curve, name: "c", kinds: Set(FigureKind.allCases), style: FigureStyle())
        #expect(curves.map(\.name) == ["c_1d"])
        for f in curves { _ = try f.figure.write(to: folder + "/" + f.name, formats: [.png]) }
    }
}
