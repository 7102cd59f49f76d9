import Foundation
import Testing
@testable import TerrainServe

/// The served folder's path checks, on a real folder with real symbolic links.
@Suite("Served folder")
struct ServedFolderTests {
    /// outside/secret.txt beside served/, which holds a.png, sub/b.csv, .hidden/c.txt and links.
    static func makeTree() throws -> (served: String, outside: String) {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-serve-\(getpid())-\(UUID().uuidString)").path
        let served = base + "/served", outside = base + "/outside"
        for folder in [served + "/sub", served + "/.hidden", outside] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        try Data("png".utf8).write(to: URL(fileURLWithPath: served + "/a.png"))
        try Data("x,y\n1,2\n".utf8).write(to: URL(fileURLWithPath: served + "/sub/b.csv"))
        try Data("hidden".utf8).write(to: URL(fileURLWithPath: served + "/.hidden/c.txt"))
        try Data("secret".utf8).write(to: URL(fileURLWithPath: outside + "/secret.txt"))
        try FileManager.default.createSymbolicLink(atPath: served + "/escape", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: served + "/escape.txt", withDestinationPath: outside + "/secret.txt")
        try FileManager.default.createSymbolicLink(atPath: served + "/inside.csv", withDestinationPath: served + "/sub/b.csv")
        return (served, outside)
    }

    @Test func filesInsideResolve() throws {
        let (served, _) = try Self.makeTree()
        let folder = try ServedFolder(path: served)
        #expect(try folder.resolve("a.png") == folder.root + "/a.png")
        #expect(try folder.resolve(encoded: "sub/b.csv") == folder.root + "/sub/b.csv")
        #expect(try folder.resolve(encoded: "sub%2Fb.csv") == folder.root + "/sub/b.csv")
        // A link that stays inside is followed.
        #expect(try folder.resolve("inside.csv") == folder.root + "/sub/b.csv")
        #expect(folder.relative(folder.root + "/sub/b.csv") == "sub/b.csv")
    }

    @Test func nothingOutsideIsReached() throws {
        let (served, _) = try Self.makeTree()
        let folder = try ServedFolder(path: served)
        #expect(throws: ServeError.forbidden("'..' leads out of the served folder")) { try folder.resolve("../outside/secret.txt") }
        #expect(throws: ServeError.forbidden("'..' leads out of the served folder")) { try folder.resolve(encoded: "%2e%2e/outside/secret.txt") }
        #expect(throws: ServeError.forbidden("'..' leads out of the served folder")) { try folder.resolve(encoded: "sub/%2E%2E/%2e%2e%2foutside/secret.txt") }
        #expect(throws: ServeError.forbidden("escape/secret.txt leads out of the served folder")) { try folder.resolve("escape/secret.txt") }
        #expect(throws: ServeError.forbidden("escape.txt leads out of the served folder")) { try folder.resolve("escape.txt") }
        #expect(throws: ServeError.notFound("hidden files are not served")) { try folder.resolve(".hidden/c.txt") }
        #expect(throws: ServeError.notFound("nothing.png: no such file")) { try folder.resolve("nothing.png") }
        #expect(throws: ServeError.badRequest("the path contains a NUL byte")) { try folder.resolve(encoded: "a.png%00.txt") }
        #expect(throws: ServeError.badRequest("the path is not valid percent-encoding")) { try folder.resolve(encoded: "a%2") }
        #expect(throws: ServeError.badRequest("the path is not valid percent-encoding")) { try folder.resolve(encoded: "%zz") }
        #expect(throws: ServeError.badRequest("the path is not valid percent-encoding")) { try folder.resolve(encoded: "%ff%fe") }
        #expect(throws: ServeError.badRequest("backslashes are not path separators here")) { try folder.resolve("..\\outside") }
        // An absolute path is taken relative to the folder, never as itself.
        #expect(throws: ServeError.notFound("/etc/passwd: no such file")) { try folder.resolve("/etc/passwd") }
    }

    @Test func queriesAndEncoding() throws {
        let pairs = try #require(URLPath.query("f=a%2Fb.h5&f=c+d.h5&mode=frames&flag"))
        #expect(pairs.map(\.name) == ["f", "f", "mode", "flag"])
        #expect(pairs.map(\.value) == ["a/b.h5", "c d.h5", "frames", ""])
        #expect(URLPath.query("f=%zz") == nil)
        #expect(URLPath.encode("runs/a b/ü&<x>.h5") == "runs/a%20b/%C3%BC%26%3Cx%3E.h5")
        #expect(URLPath.decode(Substring(URLPath.encode("runs/a b/ü&<x>.h5"))) == "runs/a b/ü&<x>.h5")
    }
}
