import Testing
import Foundation
import TerrainIO

/// Outputs are renamed over their destination, so a destination that is not a regular file (a
/// device, a FIFO) is refused before anything is written, and stays what it was.
@Suite("Output paths")
struct OutputPathTests {
    @Test func devicesAndFIFOsAreRefusedRegularFilesAndNewNamesAccepted() throws {
        #expect(throws: OutputPathError.self) { try OutputPath.checkFile("/dev/null") }
        #expect(throws: OutputPathError.self) { try OutputPath.checkFolder("/dev/null") }
        #expect(throws: AtomicFileError.self) { try AtomicFile.write(Data("x".utf8), to: URL(fileURLWithPath: "/dev/null")) }
        var info = stat()
        #expect(stat("/dev/null", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-outputs-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let fifo = folder.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let error = #expect(throws: OutputPathError.self) { try OutputPath.checkFile(fifo) }
        #expect(error.map { "\($0)".contains("FIFO") } == true)
        #expect(throws: AtomicFileError.self) { try AtomicFile.write(Data("x".utf8), to: URL(fileURLWithPath: fifo)) }
        #expect(lstat(fifo, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO)

        let file = folder.appendingPathComponent("file.txt")
        try OutputPath.checkFile(file.path)
        try AtomicFile.write(Data("x".utf8), to: file)
        try OutputPath.checkFile(file.path)
        #expect(throws: OutputPathError.self) { try OutputPath.checkFolder(file.path) }
        try OutputPath.checkFolder(folder.path)
        try OutputPath.checkFolder(folder.appendingPathComponent("new").path)
    }
}
