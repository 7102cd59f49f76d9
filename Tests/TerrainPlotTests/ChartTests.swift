import Testing
import Foundation
import TerrainPlot

@Suite("Charts")
struct ChartTests {
    let folder: String = {
        let f = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-charts-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: f, withIntermediateDirectories: true)
        return f
    }()

    func paraboloid(_ n: Int = 61) -> ScalarGrid {
        let axis = (0..<n).map { -1 + 2 * Double($0) / Double(n - 1) }
        return ScalarGrid(x: axis, y: axis, values: axis.flatMap { y in axis.map { x in x * x + y * y } })
    }

    func isWhite(_ c: Color) -> Bool { c.red > 0.97 && c.green > 0.97 && c.blue > 0.97 }

    /// The contour z = 0.25 of z = x² + y² is the circle of radius 0.5: its pixels are inked,
    /// pixels on the circles of radius 0.35 and 0.65 (no level there) are white.
    @Test func paraboloidContourCrossesThePixelsOfItsCircle() throws {
        var chart = ContourChart(grid: paraboloid(), style: .lines, levels: [0.25])
        chart.labelsLines = false
        let frame = PlotRect(0, 0, 500, 420)
        try Figure(chart, width: frame.width, height: frame.height).render(scale: 1).write(to: folder + "/circle.png")
        let png = try DecodedPNG(path: folder + "/circle.png")
        #expect(png.width == 500 && png.height == 420)
        let axes = chart.axes(in: frame)
        func inked(radius r: Double, angle: Double) -> Bool {
            let p = axes.point(r * cos(angle), r * sin(angle))
            // The darkest pixel of the 3x3 neighbourhood (the line is ~1 px wide, anti-aliased).
            var darkest = 3.0
            for dx in -1...1 { for dy in -1...1 {
                let c = png[Int(p.x) + dx, Int(p.y) + dy]
                darkest = min(darkest, c.red + c.green + c.blue)
            } }
            return darkest < 2.4
        }
        let angles = (0..<48).map { Double($0) * .pi / 24 }
        #expect(angles.filter { inked(radius: 0.5, angle: $0) }.count == angles.count)
        #expect(angles.filter { inked(radius: 0.35, angle: $0) }.isEmpty)
        #expect(angles.filter { inked(radius: 0.65, angle: $0) }.isEmpty)
    }

    /// A heat map paints each grid node's cell in the colour map's colour for its value.
    @Test func heatMapCellsHaveTheirValuesColours() throws {
        let grid = ScalarGrid(x: [0, 1, 2], y: [0, 1], values: [0, 1, 2, 3, 4, .nan])
        var chart = ContourChart(grid: grid, style: .heatMap, colorMap: .viridis)
        chart.colorScale = AxisScale(minimum: 0, maximum: 4)
        let frame = PlotRect(0, 0, 400, 300)
        try Figure(chart, width: 400, height: 300).render(scale: 1).write(to: folder + "/heat.png")
        let png = try DecodedPNG(path: folder + "/heat.png")
        let axes = chart.axes(in: frame)
        for (k, v) in grid.values.enumerated() {
            // Every node of this grid lies on the frame: look a little inside its cell.
            var p = axes.point(grid.x[k % 3], grid.y[k / 3])
            let c = axes.area.center
            p = PlotPoint(p.x + (c.x > p.x ? 8 : c.x < p.x ? -8 : 0), p.y + (c.y > p.y ? 8 : -8))
            let expected = v.isNaN ? Color.missing : ColorMap.viridis.color(at: v / 4)
            let got = png[Int(p.x), Int(p.y)]
            #expect(abs(got.red - expected.red) < 0.01 && abs(got.green - expected.green) < 0.01 && abs(got.blue - expected.blue) < 0.01,
                    "node \(k): \(got) for \(expected)")
        }
    }

    @Test func filledContoursCoverTheFiniteAreaAndLeaveNoWhiteGaps() throws {
        var chart = ContourChart(grid: paraboloid(41), style: .filled, levels: [0.1, 0.3, 0.6, 1.0, 1.5])
        chart.showsColorbar = false
        let frame = PlotRect(0, 0, 400, 360)
        try Figure(chart, width: 400, height: 360).render(scale: 1).write(to: folder + "/filled.png")
        let png = try DecodedPNG(path: folder + "/filled.png")
        let area = chart.axes(in: frame).area
        var white = 0, total = 0
        for y in stride(from: Int(area.minY) + 3, to: Int(area.maxY) - 3, by: 3) {
            for x in stride(from: Int(area.minX) + 3, to: Int(area.maxX) - 3, by: 3) {
                total += 1
                if isWhite(png[x, y]) { white += 1 }
            }
        }
        #expect(total > 1000 && white == 0)
    }

    @Test func lineChartDrawsBothAxesAndSkipsGaps() throws {
        let x = (0...20).map { Double($0) / 10 - 1 }
        let loss = x.map { $0 > 0.8 ? Double.infinity : ($0 < -0.8 ? .nan : 0.2 + $0 * $0) }
        let chart = LineChart(series: [LineSeries(label: "train loss", x: x, y: loss, color: Color.series[0]),
                                       LineSeries(label: "train accuracy", x: x, y: x.map { 90 - 40 * $0 * $0 }, color: Color.series[1], axis: .right)],
                              title: "curve", xLabel: "α")
        for format in FigureFormat.allCases {
            let path = try Figure(chart).write(to: folder + "/curve", formats: [format])[0]
            #expect(FileManager.default.fileExists(atPath: path))
        }
        let png = try DecodedPNG(path: folder + "/curve.png")
        #expect(png.width == 1120 && png.height == 860)
        var log = chart
        log.logarithmic = true
        _ = try Figure(log).render()
        #expect(throws: PlotError.self) {
            _ = try Figure(LineChart(series: [LineSeries(label: "", x: [0, 1], y: [.nan, .nan], color: .black)])).render()
        }
    }

    /// The legend goes in a free corner of the plot; when curves run through all four corners
    /// (paths from A to B overlaid: every curve starts and ends at a model), it goes below the
    /// plot, whose area shrinks to make room, so that no curve runs under it.
    @Test func lineChartLegendLeavesTheCurvesUncovered() throws {
        let x = (0...40).map { Double($0) / 40 }
        func series(_ label: String, _ f: (Double) -> Double, _ k: Int, dashed: Bool = false) -> LineSeries {
            LineSeries(label: label, x: x, y: x.map(f), color: Color.series[k], dashed: dashed)
        }
        let frame = PlotRect(0, 0, 560, 430), canvas = Canvas(width: 560, height: 430)
        // A bump in the middle: the four corners are free.
        let free = LineChart(series: [series("a", { 1 + sin(.pi * $0) }, 0), series("b", { 1.2 + sin(.pi * $0) }, 1)], xLabel: "t")
        let (freeArea, freeLegend) = free.layout(on: canvas, in: frame)
        let corner = try #require(freeLegend)
        #expect(corner.columns == 1 && freeArea.contains(PlotPoint(corner.box.minX, corner.box.minY))
                && freeArea.contains(PlotPoint(corner.box.maxX, corner.box.maxY)))
        // Rising, falling, and flat curves at the top and bottom: every corner holds one.
        let crowded = LineChart(series: [series("rising train loss (barrier 0.1)", { $0 }, 0), series("falling train loss", { 1 - $0 }, 1),
                                         series("top", { _ in 1 }, 2, dashed: true), series("bottom", { _ in 0 }, 3, dashed: true)],
                                title: "crowded", xLabel: "t")
        let (area, legend) = crowded.layout(on: canvas, in: frame)
        let below = try #require(legend)
        #expect(below.entries.map(\.label) == crowded.series.map(\.label))
        #expect(below.box.minY > area.maxY + 36 && below.box.maxY <= frame.maxY && below.box.minX >= frame.minX && below.box.maxX <= frame.maxX)
        #expect(below.columns == 2 && area.height < freeArea.height)
        let png = try Figure(crowded).write(to: folder + "/legend-below", formats: [.png])[0]
        #expect(FileManager.default.fileExists(atPath: png))
    }

    @Test func axisTicksAndLogScales() {
        let log = AxisScale(minimum: 0.05, maximum: 20, logarithmic: true)
        #expect(log.ticks().map(\.label) == ["0.1", "0.3", "1", "3", "10"])
        // A narrow log range (a perplexity surface, 240..400) holds no 1-2-5 multiple: linear nice ticks instead.
        let narrow = AxisScale(minimum: 240, maximum: 400, logarithmic: true).ticks()
        #expect(narrow.count >= 2 && narrow.allSatisfy { $0.value >= 240 && $0.value <= 400 })
        #expect(narrow.map(\.label).first == "250")
        #expect(abs(log.fraction(of: 1) - (log10(1 / 0.05) / log10(20 / 0.05))) < 1e-12)
        #expect(log.fraction(of: 0).isNaN)
        #expect(Axes2D.typeset("-0.5") == "\u{2212}0.5" && Axes2D.typeset("-0") == "0")
        #expect(AxisScale.covering([3, 3, .nan, .infinity]).minimum < 3)
    }
}
