import Foundation
import Testing
import TerrainLandscape
@testable import TerrainServe

/// The server's answers, through `respond` (the same function the HTTP handler calls), on a
/// real folder with a run, real surface files, a figure, a report and files it must not serve.
@Suite("Terrain server")
struct TerrainServerTests {
    static func makeRuns(limits: ServerLimits = ServerLimits()) throws -> TerrainServer {
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
        return TerrainServer(folder: try ServedFolder(path: served), limits: limits)
    }

    /// A 2D surface of nx × ny points (train loss only) at `path`.
    static func writeSurface(_ path: String, nx: Int, ny: Int) throws {
        let x = (0..<nx).map { Double($0) }, y = (0..<ny).map { Double($0) }
        let file = SurfaceFile(grid: SurfaceGrid(x: x, y: y), values: [.trainLoss: [Double](repeating: 1, count: nx * ny)], directionFile: "")
        try file.write(to: path)
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

    @Test func headAnswersWithTheLengthAndNoBody() async throws {
        let server = try Self.makeRuns()
        for path in ["/files/a.png", "/files/digits/metrics.csv", "/", "/view/digits/a.h5"] {
            let get = server.respond(path: path, query: nil)
            let head = server.respond(path: path, query: nil, headOnly: true)
            let served = await server.reply(path: path, query: nil, headOnly: true)
            #expect(get.status == 200 && head.status == 200 && served.status == 200, "\(path)")
            #expect(head.body.isEmpty && served.body.isEmpty, "\(path)")
            #expect(head.bodyLength == get.body.count && head.contentType == get.contentType, "\(path)")
            if path != "/" { #expect(served.bodyLength == get.body.count, "\(path)") }
        }
        #expect(server.respond(path: "/files/nothing.png", query: nil, headOnly: true).status == 404)
        #expect(server.respond(path: "/files/../outside/secret.txt", query: nil, headOnly: true).status == 403)
    }

    @Test func rawFilesAreStreamedNotLoaded() async throws {
        let server = try Self.makeRuns()
        let png = await server.reply(path: "/files/a.png", query: nil)
        #expect(png.status == 200 && png.body.isEmpty && png.bodyLength == 3)
        #expect(png.streamedFile == server.folder.root + "/a.png" && png.contentType == "image/png")
        #expect(await server.reply(path: "/files/digits/checkpoints/epoch-0000.safetensors", query: nil).status == 404)
        #expect(await server.reply(path: "/files/escape.txt", query: nil).status == 403)
    }

    @Test func everyPageCarriesAContentSecurityPolicy() throws {
        let server = try Self.makeRuns()
        try Data("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".utf8)
            .write(to: URL(fileURLWithPath: server.folder.root + "/figure.svg"))
        for path in ["/", "/view/digits/a.h5", "/files/digits/index.html", "/files/figure.svg", "/files/nothing.html", "/nowhere"] {
            let policy = server.respond(path: path, query: nil).contentSecurityPolicy ?? ""
            #expect(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"), "\(path)")
        }
        // Raw files run no script at all.
        for path in ["/files/digits/index.html", "/files/figure.svg"] {
            #expect(server.respond(path: path, query: nil).contentSecurityPolicy?.contains("script-src") == false, "\(path)")
        }
    }

    @Test func onlyRegularFilesAreListedOrServed() throws {
        let server = try Self.makeRuns()
        // A FIFO blocks whoever opens it for reading until a writer comes: never opened.
        #expect(mkfifo(server.folder.root + "/stuck.h5", 0o600) == 0)
        #expect(mkfifo(server.folder.root + "/stuck.csv", 0o600) == 0)
        let listing = server.respond(path: "/", query: nil)
        #expect(listing.status == 200 && !listing.text.contains("stuck"))
        #expect(server.respond(path: "/files/stuck.csv", query: nil).status == 404)
        #expect(server.respond(path: "/view/stuck.h5", query: nil).status == 404)
        #expect(server.respond(path: "/compare", query: "f=digits/a.h5&f=stuck.h5").status == 404)
    }

    @Test func theGridSizeIsCheckedBeforeReading() throws {
        var limits = ServerLimits()
        limits.maxGridPoints = 2500
        let server = try Self.makeRuns(limits: limits)
        try Self.writeSurface(server.folder.root + "/big.h5", nx: 60, ny: 50)
        try Self.writeSurface(server.folder.root + "/fits.h5", nx: 50, ny: 50)
        let big = server.respond(path: "/view/big.h5", query: nil)
        #expect(big.status == 413)
        #expect(big.text.contains("big.h5 holds 3,000 grid values") && big.text.contains("at most 2,500 per request") && big.text.contains("--max-grid-points"))
        #expect(server.respond(path: "/view/fits.h5", query: nil).status == 200)
        // A comparison counts every file: 2,500 + 9 is over.
        let both = server.respond(path: "/compare", query: "f=fits.h5&f=digits/a.h5")
        #expect(both.status == 413 && both.text.contains("2,509 grid values together"))
        #expect(server.respond(path: "/compare", query: "f=digits/a.h5&f=digits/b.h5").status == 200)
        // The raw file is still served (it is not loaded, only sent).
        #expect(server.respond(path: "/files/big.h5", query: nil).status == 200)
    }

    @Test func theServedListingDescribesFilesOnceAndAgainWhenTheyChange() async throws {
        // Time enough for a busy test machine: this test is about what is remembered.
        var limits = ServerLimits()
        limits.listingProbeWait = .seconds(60)
        let server = try Self.makeRuns(limits: limits)
        let first = await server.reply(path: "/", query: nil)
        #expect(first.status == 200)
        #expect(first.text.contains("href=\"/view/digits/a.h5\"") && first.text.contains("not readable as HDF5"))
        #expect(first.text == server.respond(path: "/", query: nil).text)
        // A file replaced by a surface is described anew.
        try Self.writeSurface(server.folder.root + "/digits/broken.h5", nx: 3, ny: 4)
        let second = await server.reply(path: "/", query: nil)
        #expect(second.text.contains("href=\"/view/digits/broken.h5\"") && !second.text.contains("not readable as HDF5"))
    }

    @Test func workBeyondTheTimeLimitIsAnswered503() async throws {
        var limits = ServerLimits()
        limits.requestTimeout = .milliseconds(1)
        limits.maxGridPoints = 4_000_000
        let server = try Self.makeRuns(limits: limits)
        try Self.writeSurface(server.folder.root + "/large.h5", nx: 300, ny: 300)
        let reply = await server.reply(path: "/view/large.h5", query: nil)
        #expect(reply.status == 503 && reply.text.contains("reading large.h5"))
        // The listing still answers. (How fast is measured against the real server by
        // tests/serve.sh: under the parallel test runner a wall-clock bound measures the cooperative
        // pool's load on 2 cores, 22 s once, not the server.)
        #expect(await server.reply(path: "/", query: nil).status == 200)
    }

    /// Runs as a dashboard: the listing shows each run's curves and a box to overlay runs; a
    /// run's page and an overlay page are drawn from the logs; bad names are refused.
    @Test func runsHaveTheirPagesAndCurves() throws {
        let server = try Self.makeRuns()
        let run = server.folder.root + "/digits"
        try Data("epoch,iteration,train_loss,train_acc,test_loss,test_acc,weight_norm\n1,10,0.5,80,0.6,78,10\n2,20,0.4,85,0.5,82,11\n".utf8)
            .write(to: URL(fileURLWithPath: run + "/metrics.csv"))
        try FileManager.default.createDirectory(atPath: server.folder.root + "/adam", withIntermediateDirectories: true)
        try Data("epoch,train_loss\n1,0.7\n".utf8).write(to: URL(fileURLWithPath: server.folder.root + "/adam/metrics.csv"))
        let listing = server.respond(path: "/", query: nil).text
        #expect(listing.contains("href=\"/run/digits\""))
        #expect(listing.contains("<img src=\"/run-figure/loss.svg?r=digits\""))
        #expect(listing.contains("name=\"r\" value=\"adam\"") && listing.contains("formaction=\"/runs\""))
        let page = server.respond(path: "/run/digits", query: nil)
        #expect(page.status == 200 && page.text.contains("82.00 % at epoch 2") && page.text.contains("data:image/svg+xml;base64,"))
        #expect(page.contentSecurityPolicy == TerrainServer.listingPolicy)
        let figure = server.respond(path: "/run-figure/accuracy.svg", query: "r=digits")
        #expect(figure.status == 200 && figure.contentType == "image/svg+xml" && figure.text.contains("<svg"))
        let overlay = server.respond(path: "/runs", query: "r=digits&r=adam")
        #expect(overlay.status == 200 && overlay.text.contains("<td>adam</td>"))
        // adam logged no accuracy: its figure is not there; unknown figures, non-runs and paths out are refused.
        #expect(server.respond(path: "/run-figure/accuracy.svg", query: "r=adam").status == 404)
        #expect(server.respond(path: "/run-figure/secrets.svg", query: "r=digits").status == 404)
        #expect(server.respond(path: "/run-figure/loss.gif", query: "r=digits").status == 404)
        #expect(server.respond(path: "/run/digits/checkpoints", query: nil).status == 404)
        #expect(server.respond(path: "/run/..", query: nil).status == 403)
        #expect(server.respond(path: "/runs", query: nil).status == 400)
        #expect(server.respond(path: "/runs", query: "r=%zz").status == 400)
        // A malformed log is a 422 naming the line, not a crash.
        try Data("epoch,train_loss\n1\n".utf8).write(to: URL(fileURLWithPath: server.folder.root + "/adam/metrics.csv"))
        let broken = server.respond(path: "/run/adam", query: nil)
        #expect(broken.status == 422 && broken.text.contains("line 2 has 1 cells") && !broken.text.contains(server.folder.root))
    }
}
