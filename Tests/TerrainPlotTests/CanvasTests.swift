import Testing
import Foundation
import TerrainPlot

@Suite("Canvas")
struct CanvasTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-canvas-\(getpid())").path

    /// A page written as PNG decodes to the expected size, with the drawn colours where they were drawn.
    @Test func pngDecodesWithTheDrawnPixels() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let canvas = Canvas(width: 100, height: 50, scale: 2)
        canvas.fill(rectangle: PlotRect(10, 10, 30, 20), with: Color(hex: 0xff0000))
        canvas.stroke([PlotPoint(60, 5), PlotPoint(60, 45)], color: .black, width: 2)
        canvas.image([.black, .white, Color(hex: 0x00ff00), Color(hex: 0x0000ff)], columns: 2, rows: 2, in: PlotRect(70, 10, 20, 20))
        canvas.text("Loss 1.5", at: PlotPoint(5, 48), size: 9)
        let path = folder + "/page.png"
        try canvas.write(to: path)
        let png = try DecodedPNG(path: path)
        #expect(png.width == 200 && png.height == 100)
        #expect(png[50, 40] == Color(hex: 0xff0000))       // inside the red rectangle (×2)
        #expect(png[5, 5] == .white)
        #expect(png[120, 50].red < 0.1)                    // the black line at x = 60 pt
        #expect(png[145, 25] == .black && png[175, 25] == .white)   // the 2x2 raster, cell by cell
        #expect(png[145, 55] == Color(hex: 0x00ff00) && png[175, 55] == Color(hex: 0x0000ff))
    }

    @Test func vectorFormatsAreWritten() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let canvas = Canvas(width: 100, height: 50)
        canvas.text("θ + αδ", at: PlotPoint(5, 30), size: 12)
        try canvas.write(to: folder + "/page.svg")
        try canvas.write(to: folder + "/page.pdf")
        let svg = try String(contentsOfFile: folder + "/page.svg", encoding: .utf8)
        #expect(svg.contains("<svg"))
        let pdf = try Data(contentsOf: URL(fileURLWithPath: folder + "/page.pdf"))
        #expect(pdf.starts(with: Array("%PDF".utf8)))
        #expect(throws: PlotError.self) { try canvas.write(to: folder + "/page.gif") }
        #expect(throws: PlotError.self) { try canvas.write(to: "/nonexistent-folder/page.png") }
    }
}
