import Testing
import Foundation
import TerrainPlot

@Suite("Surface3DTests")
struct Surface3DTests {
    static let folder: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-surface3d-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// z = x² + y² on an n × n grid over [-1, 1]².
    static func paraboloid(_ n: Int = 41, _ value: (Double, Double) -> Double = { $0 * $0 + $1 * $1 }) -> ScalarGrid {
        let axis = (0..<n).map { -1 + 2 * Double($0) / Double(n - 1) }
        var values: [Double] = []
        for y in axis { for x in axis { values.append(value(x, y)) } }
        return ScalarGrid(x: axis, y: axis, values: values)
    }

    static let frame = PlotRect(0, 0, 640, 480)

    static func render(_ chart: SurfaceChart3D, _ name: String) throws -> DecodedPNG {
        let canvas = Canvas(width: 640, height: 480, scale: 1)
        try chart.draw(on: canvas, in: frame)
        let path = folder + "/" + name + ".png"
        try canvas.write(to: path)
        return try DecodedPNG(path: path)
    }

    static func pixel(_ png: DecodedPNG, _ p: PlotPoint) -> Color {
        png[Int(p.x.rounded(.down)), Int(p.y.rounded(.down))]
    }

    static func isWhite(_ c: Color) -> Bool { c.red > 0.99 && c.green > 0.99 && c.blue > 0.99 }
    static func luminance(_ c: Color) -> Double { 0.2126 * c.red + 0.7152 * c.green + 0.0722 * c.blue }

    /// Seen from above, the bowl's bottom shows the low (purple) end of viridis and its rim the high
    /// (yellow-green) end; the frame's corners stay white and the middle is drawn on.
    @Test func paraboloidRendersLitBowl() throws {
        let chart = SurfaceChart3D(grid: Self.paraboloid(), title: "z = x² + y²", elevation: 60)
        let png = try Self.render(chart, "paraboloid")
        #expect(png.width == 640 && png.height == 480)
        for (x, y) in [(2, 2), (637, 2), (2, 477), (637, 477)] {
            #expect(Self.isWhite(png[x, y]), "corner (\(x), \(y)) is \(png[x, y])")
        }
        var drawn = 0, total = 0
        for y in 160..<320 { for x in 220..<420 { total += 1; if !Self.isWhite(png[x, y]) { drawn += 1 } } }
        #expect(Double(drawn) / Double(total) > 0.9)

        let bottom = Self.pixel(png, chart.project(0, 0, 0, in: Self.frame))
        #expect(Self.frame.contains(chart.project(0, 0, 0, in: Self.frame)))
        // viridis(0) is #440154: red and blue well above green.
        #expect(bottom.red > bottom.green + 0.1 && bottom.blue > bottom.green + 0.15, "bottom pixel \(bottom)")
        let low = ColorMap.viridis.color(at: 0)
        #expect(abs(bottom.red / bottom.blue - low.red / low.blue) < 0.15)
        // The far rim, facing the viewer and the light.
        let rim = Self.pixel(png, chart.project(-0.9, 0.9, 1.62, in: Self.frame))
        #expect(rim.green > rim.blue && rim.green > 0.5, "rim pixel \(rim)")
        #expect(Self.luminance(bottom) < Self.luminance(rim) - 0.3)
    }

    /// At the default view (30° up) the bowl's near wall hides its bottom: seen along the line of
    /// sight through (0, 0, 0), the outside of the wall (at z ≈ 0.59, blue-green) comes first.
    /// Painter's order must draw it over the bottom, so that pixel is not the bottom's purple.
    @Test func nearerFacetsHideFartherOnes() throws {
        let chart = SurfaceChart3D(grid: Self.paraboloid())
        let png = try Self.render(chart, "paraboloid-default-view")
        let hidden = Self.pixel(png, chart.project(0, 0, 0, in: Self.frame))
        #expect(hidden.green > hidden.red + 0.03 && hidden.blue > hidden.green, "hidden bottom shows \(hidden)")
        // Turned half round, the same holds: the order depends on the view.
        var turned = chart
        turned.azimuth += 180
        let png2 = try Self.render(turned, "paraboloid-turned")
        let hidden2 = Self.pixel(png2, turned.project(0, 0, 0, in: Self.frame))
        #expect(hidden2.green > hidden2.red + 0.03 && hidden2.blue > hidden2.green, "hidden bottom shows \(hidden2)")
    }

    /// A block of NaN leaves a hole: the pixel where the bowl's bottom would be shows the pale
    /// floor pane behind, not the surface.
    @Test func missingValuesLeaveAHole() throws {
        let grid = Self.paraboloid { x, y in abs(x) <= 0.3 && abs(y) <= 0.3 ? .nan : x * x + y * y }
        let chart = SurfaceChart3D(grid: grid, elevation: 60)
        let png = try Self.render(chart, "paraboloid-hole")
        let behind = Self.pixel(png, chart.project(0, 0, 0, in: Self.frame))
        #expect(behind.red > 0.85 && behind.green > 0.85 && behind.blue > 0.85, "hole shows \(behind)")
        let rim = Self.pixel(png, chart.project(0.9, -0.9, 1.62, in: Self.frame))
        #expect(!Self.isWhite(rim) && rim.green > rim.blue)
        #expect(chart.project(0, 0, .nan, in: Self.frame).x.isNaN)
    }

    /// Under a logarithmic z, zero and negative values are holes, not a crash; diverged values are
    /// drawn pale at the ceiling.
    @Test func logarithmicSkipsNonPositiveValues() throws {
        let grid = Self.paraboloid(31) { x, y in
            if abs(x - 0.5) < 0.2 && abs(y - 0.5) < 0.2 { return .infinity }
            return x * x + y * y - 0.02
        }
        #expect(grid.values.contains { $0 <= 0 })
        let chart = SurfaceChart3D(grid: grid, title: "log", logarithmic: true, zClip: 1.5)
        let png = try Self.render(chart, "paraboloid-log")
        var drawn = 0
        for y in stride(from: 0, to: png.height, by: 4) { for x in stride(from: 0, to: png.width, by: 4) where !Self.isWhite(png[x, y]) { drawn += 1 } }
        #expect(drawn > 1000)
        #expect(chart.project(0, 0, 0, in: Self.frame).x.isNaN)   // log of 0: missing
        // The diverged block: a pale grey plateau at the ceiling.
        let plateau = Self.pixel(png, chart.project(0.5, 0.5, .infinity, in: Self.frame))
        #expect(plateau.red > 0.5 && abs(plateau.red - plateau.green) < 0.03 && abs(plateau.green - plateau.blue) < 0.03,
                "diverged plateau shows \(plateau)")

        var nothingPositive = chart
        nothingPositive.grid = Self.paraboloid(5) { x, y in -(x * x + y * y) }
        #expect(throws: PlotError.self) { try nothingPositive.draw(on: Canvas(width: 100, height: 100), in: PlotRect(0, 0, 100, 100)) }
    }

    /// Any viewpoint renders: from below, edge-on, straight down, and round the compass; the
    /// axes' labels stay inside the frame.
    @Test(arguments: [(-60.0, -30.0), (-60, 0), (-60, 90), (0, 20), (90, 45), (180, 35), (235, 30), (-125, -60)])
    func viewpointsRender(azimuth: Double, elevation: Double) throws {
        let grid = Self.paraboloid(25) { x, y in sin(3 * x) * cos(2 * y) + x * x }
        let chart = SurfaceChart3D(grid: grid, title: "azimuth \(Int(azimuth)), elevation \(Int(elevation))",
                                   xLabel: "α", yLabel: "β", azimuth: azimuth, elevation: elevation)
        let png = try Self.render(chart, "view_\(Int(azimuth))_\(Int(elevation))")
        var drawn = 0, border = 0
        for y in 0..<png.height {
            for x in 0..<png.width where !Self.isWhite(png[x, y]) {
                drawn += 1
                if x < 2 || y < 2 || x >= png.width - 2 || y >= png.height - 2 { border += 1 }
            }
        }
        #expect(drawn > 10_000)
        #expect(border == 0)
        for (x, y) in [(-1.0, -1.0), (1, 1), (0, 0)] {
            let p = chart.project(x, y, grid.values[0], in: Self.frame)
            #expect(Self.frame.contains(p), "(\(x), \(y)) projects to \(p)")
        }
    }

    /// The smallest grid, a flat one, descending axes and a diverged point without a clip draw.
    @Test func edgeCaseGridsDraw() throws {
        let grids = [
            ScalarGrid(x: [0, 1], y: [0, 1], values: [1, 2, 3, 4]),
            ScalarGrid(x: [0, 1, 2], y: [0, 1], values: [5, 5, 5, 5, 5, 5]),
            ScalarGrid(x: [1, 0, -1], y: [2, 1], values: [1, .infinity, 2, 3, -.infinity, 1]),
        ]
        for (n, grid) in grids.enumerated() {
            let chart = SurfaceChart3D(grid: grid, title: "case \(n)")
            let png = try Self.render(chart, "edge-case-\(n)")
            var drawn = 0
            for y in 100..<380 { for x in 150..<490 where !Self.isWhite(png[x, y]) { drawn += 1 } }
            #expect(drawn > 10_000, "case \(n)")
        }
    }

    @Test func invalidGridsThrow() throws {
        let canvas = Canvas(width: 100, height: 100)
        let nothing = SurfaceChart3D(grid: Self.paraboloid(5) { _, _ in .nan })
        let error = #expect(throws: PlotError.self) { try nothing.draw(on: canvas, in: PlotRect(0, 0, 100, 100)) }
        if case .invalidData(let message) = error { #expect(message.contains("no finite value")) } else { Issue.record("\(String(describing: error))") }
        let diverged = SurfaceChart3D(grid: Self.paraboloid(5) { _, _ in .infinity })
        #expect(throws: PlotError.self) { try diverged.draw(on: canvas, in: PlotRect(0, 0, 100, 100)) }
        let line = SurfaceChart3D(grid: ScalarGrid(x: [0], y: [0, 1, 2], values: [1, 2, 3]))
        let error2 = #expect(throws: PlotError.self) { try line.draw(on: canvas, in: PlotRect(0, 0, 100, 100)) }
        if case .invalidData(let message) = error2 { #expect(message.contains("at least 2 points")) } else { Issue.record("\(String(describing: error2))") }
        #expect(line.project(0, 0, 1, in: PlotRect(0, 0, 100, 100)).x.isNaN)
    }

    @Test func allFormatsAreWritten() throws {
        let canvas = Canvas(width: 480, height: 360)
        let chart = SurfaceChart3D(grid: Self.paraboloid(21), title: "bowl", xLabel: "α", yLabel: "β")
        try chart.draw(on: canvas, in: PlotRect(0, 0, 480, 360))
        for format in FigureFormat.allCases { try canvas.write(to: Self.folder + "/formats." + format.rawValue) }
        let svg = try String(contentsOfFile: Self.folder + "/formats.svg", encoding: .utf8)
        #expect(svg.contains("<svg"))
        let pdf = try Data(contentsOf: URL(fileURLWithPath: Self.folder + "/formats.pdf"))
        #expect(pdf.starts(with: Array("%PDF".utf8)))
        let png = try DecodedPNG(path: Self.folder + "/formats.png")
        #expect(png.width == 960 && png.height == 720)
    }

    /// Edges are automatic: on for small grids, off for large ones, unless asked for.
    @Test func edgesFollowGridSize() {
        #expect(SurfaceChart3D(grid: Self.paraboloid(41)).drawsEdges)
        #expect(!SurfaceChart3D(grid: Self.paraboloid(101)).drawsEdges)
        #expect(SurfaceChart3D(grid: Self.paraboloid(101), showsEdges: true).drawsEdges)
    }

    /// A 251 × 251 grid (125,000 triangles) draws and writes as PNG quickly.
    @Test func largeGridIsFast() throws {
        let grid = Self.paraboloid(251) { x, y in
            let r = x * x + y * y
            return log(1 + 8 * r) + 0.15 * sin(9 * x) * cos(7 * y)
        }
        func cpu() -> Double { Double(clock()) / Double(CLOCKS_PER_SEC) }
        let (start, startCPU) = (Date(), cpu())
        let canvas = Canvas(width: 640, height: 480, scale: 2)
        try SurfaceChart3D(grid: grid, title: "251 × 251", xLabel: "α", yLabel: "β").draw(on: canvas, in: Self.frame)
        let (drawn, drawnCPU) = (Date(), cpu())
        try canvas.write(to: Self.folder + "/large.png")
        let (written, writtenCPU) = (Date(), cpu())
        print("Surface3D 251x251: draw \(drawn.timeIntervalSince(start)) s (CPU \(drawnCPU - startCPU) s), "
              + "PNG \(written.timeIntervalSince(drawn)) s (CPU \(writtenCPU - drawnCPU) s)")
        #expect(written.timeIntervalSince(start) < 30)
        let png = try DecodedPNG(path: Self.folder + "/large.png")
        #expect(png.width == 1280)
    }
}
