import Foundation
import Testing
import TerrainLandscape
@testable import TerrainServe

/// The server's answers, through `respond` (the same function the HTTP handler calls), on a
/// real folder with a run, real surface files, a figure, a report and files it must not serve.
@Suite("Terrain server")
struct TerrainServerTests {
    static func makeRuns() throws -> TerrainServer {
        let (served, _) = try ServedFolderTests.makeTree()
        let run = served + "/digits"
        try FileManager.default.createDirectory(atPath: run + "/checkpoints", withIntermediateDirectories: true)
        try Data(#"{"config": {"dataset": "data/digits.csv.gz", "epochs": 2}, "model": {"architecture": "mlp"}, "final_test": {"loss": 0.25, "accuracy": 93.5}}"#.utf8)
            .write(to: URL(fileURLWithPath: run + "/run.json"))
        try Data("epoch,loss\n1,0.5\n".utf8).write(to: URL(fileURLWithPath: run + "/metrics.csv"))
        for name in ["epoch-0000", "epoch-0002"] {
            try Data("weights".utf8).write(to: URL(fileURLWithPath: run + "/checkpoints/\(name).safetensors"))
        }
        try Data("<html>figures</html>".utf8).write(to: URL(fileURLWithPath: run + "/index.html"))
        let x = [-1.0, 0, 1], y = [-1.0, 0, 1]
        for (name, scale) in [("a", 1.0), ("b", 2.0)] {
            var values = y.flatMap { b in x.map { a in scale * (a * a + b * b) + 0.1 } }
            values[8] = .nan
            let file = SurfaceFile(grid: SurfaceGrid(x: x, y: y), values: [.trainLoss: values], directionFile: "")
            try file.write(to: run + "/\(name).h5")
        }
        try Data("not hdf5".utf8).write(to: URL(fileURLWithPath: run + "/broken.h5"))
        return TerrainServer(folder: try ServedFolder(path: served))
    }

    @Test func listingShowsRunsSurfacesAndFigures() throws {
        let server = try Self.makeRuns()
        let reply = server.respond(path: "/", query: nil)
        #expect(reply.status == 200)
        #expect(reply.contentType.hasPrefix("text/html"))
        let page = reply.text
        #expect(page.contains("mlp on digits.csv.gz, 2 epochs · final test accuracy 93.50 %, loss 0.25 · 2 checkpoints"))
        #expect(page.contains("href=\"/view/digits/a.h5\""))
        #expect(page.contains("name=\"f\" value=\"digits/b.h5\""))
        #expect(page.contains("<img src=\"/files/a.png\""))
        #expect(page.contains("href=\"/files/digits/metrics.csv\""))
        #expect(page.contains("href=\"/files/digits/index.html\""))
        #expect(page.contains("not readable as HDF5"))
        // Hidden files, checkpoints and links out of the folder are not listed.
        #expect(!page.contains("c.txt") && !page.contains("safetensors") && !page.contains("secret"))
    }

    @Test func filesAreServedWithTheirType() throws {
        let server = try Self.makeRuns()
        let png = server.respond(path: "/files/a.png", query: nil)
        #expect(png.status == 200 && png.contentType == "image/png" && png.text == "png")
        let csv = server.respond(path: "/files/digits/metrics.csv", query: nil)
        #expect(csv.status == 200 && csv.contentType.hasPrefix("text/csv") && csv.text.hasPrefix("epoch,loss"))
        #expect(server.respond(path: "/files/digits/checkpoints/epoch-0000.safetensors", query: nil).status == 404)
        #expect(server.respond(path: "/files/digits", query: nil).status == 404)
        #expect(server.respond(path: "/files/../outside/secret.txt", query: nil).status == 403)
        #expect(server.respond(path: "/files/%2e%2e/outside/secret.txt", query: nil).status == 403)
        #expect(server.respond(path: "/files/escape/secret.txt", query: nil).status == 403)
        #expect(server.respond(path: "/files/.hidden/c.txt", query: nil).status == 404)
        #expect(server.respond(path: "/files/a%zz", query: nil).status == 400)
        #expect(server.respond(path: "/nowhere", query: nil).status == 404)
        let denied = server.respond(path: "/files/escape.txt", query: nil)
        #expect(denied.status == 403 && !denied.text.contains("secret\n") && !denied.text.contains(server.folder.root))
    }

    @Test func theViewerOpensSurfacesAndRefusesTheRest() throws {
        let server = try Self.makeRuns()
        let one = server.respond(path: "/view/digits/a.h5", query: nil)
        #expect(one.status == 200)
        #expect(one.text.contains("id=\"terrain-data\""))
        #expect(one.contentSecurityPolicy?.contains("default-src 'none'") == true)
        let broken = server.respond(path: "/view/digits/broken.h5", query: nil)
        #expect(broken.status == 422 && broken.text.contains("digits/broken.h5 is not a surface file"))
        #expect(!broken.text.contains(server.folder.root + "/"))
        #expect(server.respond(path: "/view/digits/metrics.csv", query: nil).status == 404)
        #expect(server.respond(path: "/view/../x.h5", query: nil).status == 403)
        let side = server.respond(path: "/compare", query: "f=digits%2Fa.h5&f=digits/b.h5&mode=side")
        #expect(side.status == 200 && side.text.contains("digits/a.h5, digits/b.h5"))
        let frames = server.respond(path: "/compare", query: "f=digits/a.h5&f=digits/b.h5&mode=frames")
        #expect(frames.status == 200 && frames.text.contains("digits/a.h5 … digits/b.h5"))
        #expect(server.respond(path: "/compare", query: nil).status == 400)
        #expect(server.respond(path: "/compare", query: "f=%zz").status == 400)
        #expect(server.respond(path: "/compare", query: String(repeating: "f=digits/a.h5&", count: 13)).status == 400)
    }
}
