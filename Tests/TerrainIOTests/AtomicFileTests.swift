import Foundation
import Testing
import TerrainIO
import TerrainTestSupport

/// `AtomicFile.write` replaces files whole and reports failures with the path.
@Suite struct AtomicFileTests {
    @Test func writesANewFile() throws {
        let folder = try makeTemporaryFolder("io-tests")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("new.bin")
        try AtomicFile.write(Data([1, 2, 3]), to: url)
        #expect(try Data(contentsOf: url) == Data([1, 2, 3]))
    }

    @Test func replacesAnExistingFileWhole() throws {
        let folder = try makeTemporaryFolder("io-tests")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("checkpoint.safetensors")
        try AtomicFile.write(Data(repeating: 0xAB, count: 100_000), to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: url.path)

        try AtomicFile.write(Data("short".utf8), to: url)
        #expect(try Data(contentsOf: url) == Data("short".utf8))
        let permissions = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int
        #expect(permissions == 0o640)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["checkpoint.safetensors"])

        try AtomicFile.write(Data(), to: url)
        #expect(try Data(contentsOf: url).isEmpty)
    }

    @Test func missingFolderIsAClearError() throws {
        let url = URL(fileURLWithPath: "/nonexistent-terrain-folder/sub/out.safetensors")
        let error = try #require(throws: AtomicFileError.self) { try AtomicFile.write(Data([1]), to: url) }
        #expect(error.path == "/nonexistent-terrain-folder/sub/out.safetensors")
        #expect(error.code == ENOENT)
        #expect(error.description.contains("/nonexistent-terrain-folder/sub/out.safetensors"))
        #expect(error.description.contains("No such file or directory"), "\(error)")
    }

    @Test func aFolderInTheWayIsAClearErrorAndLeavesNoTemporaryFile() throws {
        let folder = try makeTemporaryFolder("io-tests")
        defer { try? FileManager.default.removeItem(at: folder) }
        let target = folder.appendingPathComponent("taken")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        try FileManager.default.createDirectory(at: target.appendingPathComponent("inner"), withIntermediateDirectories: false)

        let asFile = URL(fileURLWithPath: target.path, isDirectory: false)
        let error = try #require(throws: AtomicFileError.self) { try AtomicFile.write(Data([1]), to: asFile) }
        #expect(error.description.contains(target.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["taken"])
    }

    @Test func safetensorsWriteReportsTheFileSystemError() throws {
        let url = URL(fileURLWithPath: "/nonexistent-terrain-folder/model.safetensors")
        let error = try #require(throws: AtomicFileError.self) { try SafetensorsFile(entries: []).write(to: url) }
        #expect(error.path == url.path)
    }
}
