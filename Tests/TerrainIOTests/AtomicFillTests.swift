import Foundation
import Testing
import TerrainIO
import TerrainTestSupport

/// `AtomicFile.write(to:fill:)`: the one atomic path for writers that open files by name (HDF5,
/// Cairo, ffmpeg).
@Suite struct AtomicFillTests {
    @Test func fillsATemporaryFileBesideTheTargetThenRenamesIt() throws {
        let folder = try makeTemporaryFolder("atomic")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("figure.svg").path
        var seen = ""
        try AtomicFile.write(to: path) { temporary in
            seen = temporary
            #expect((temporary as NSString).deletingLastPathComponent == folder.path)
            #expect((temporary as NSString).lastPathComponent == ".figure.svg.\(getpid()).partial")
            try Data("<svg/>".utf8).write(to: URL(fileURLWithPath: temporary))
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "<svg/>")
        #expect(!FileManager.default.fileExists(atPath: seen))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["figure.svg"])
    }

    @Test func aFailingFillLeavesTheOldFileAndNoTemporaryFile() throws {
        struct Refused: Error {}
        let folder = try makeTemporaryFolder("atomic")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("page.html")
        try AtomicFile.write(Data("old".utf8), to: url)
        #expect(throws: Refused.self) {
            try AtomicFile.write(to: url.path) { temporary in
                try Data("half".utf8).write(to: URL(fileURLWithPath: temporary))
                throw Refused()
            }
        }
        #expect(try String(contentsOf: url, encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["page.html"])
    }

    @Test func temporaryFilesOfDeadWritersAreRemovedOthersKept() throws {
        let folder = try makeTemporaryFolder("atomic")
        defer { try? FileManager.default.removeItem(at: folder) }
        let exited = Process()
        exited.executableURL = URL(fileURLWithPath: "/bin/true")
        try exited.run()
        exited.waitUntilExit()
        let dead = exited.processIdentifier
        let names = [".a.png.\(dead).partial", ".a.png.\(dead).3f2a.partial", ".a.png.1.partial", ".b.png.\(dead).partial"]
        for name in names { try Data("torn".utf8).write(to: folder.appendingPathComponent(name)) }
        try AtomicFile.write(Data([1]), to: folder.appendingPathComponent("a.png"))
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
        #expect(left == ["a.png", ".a.png.1.partial", ".b.png.\(dead).partial"])
    }
}
