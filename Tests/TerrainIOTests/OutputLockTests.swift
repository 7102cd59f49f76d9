import Foundation
import Testing
import TerrainIO
import TerrainTestSupport

/// `OutputLock`: one holder of an output at a time, a refusal that names it, nothing left behind.
/// (Across processes, and after `kill -9`, in tests/cli.sh.)
@Suite struct OutputLockTests {
    @Test func aSecondHolderIsRefusedNamingTheFirst() throws {
        let folder = try makeTemporaryFolder("io-tests")
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("S.h5").path
        let first = try OutputLock(for: output)
        #expect(first.path == output + ".lock")
        // flock's locks belong to each open file, so a second open in this process conflicts too.
        let refusal = #expect(throws: OutputLockError.self) { try OutputLock(for: output) }
        #expect(refusal?.holder?.hasPrefix("process \(getpid()) on ") == true)
        #expect(refusal?.description.contains("S.h5 is being computed by another process \(getpid())") == true)
        first.release()
        #expect(!FileManager.default.fileExists(atPath: output + ".lock"))
        let second = try OutputLock(for: output)
        second.release()
        second.release()
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test func aLockFileLeftBehindHoldsNoLock() throws {
        let folder = try makeTemporaryFolder("io-tests")
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("S.h5").path
        // What a killed run leaves: the file, its holder's line, no lock.
        try Data("process 1 on elsewhere\n".utf8).write(to: URL(fileURLWithPath: output + ".lock"))
        let lock = try OutputLock(for: output)
        let line = try String(contentsOfFile: output + ".lock", encoding: .utf8)
        #expect(line.hasPrefix("process \(getpid()) on ") && line.hasSuffix("\n"))
        lock.release()
    }

    @Test func aFolderThatCannotBeWrittenIsSaid() throws {
        let output = "/proc/terrain-no-such-folder/S.h5"
        #expect(throws: AtomicFileError.self) { try OutputLock(for: output) }
    }
}
