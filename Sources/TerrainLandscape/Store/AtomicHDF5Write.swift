import Foundation
import TerrainIO

extension HDF5File {
    /// Writes an HDF5 file whole or not at all: `body` fills a temporary file beside `path`
    /// (hidden, named after the process: `.S.h5.PID.partial`), which is flushed, closed and
    /// renamed over `path`. A kill at any moment leaves the previous complete file or the new
    /// one, never a torn one; the temporary files such kills leave behind are removed by the
    /// next write of the same file (`removeStalePartials`).
    ///
    /// - Parameter what: what the file holds, for the error message ("the surface").
    static func writeAtomically(to path: String, what: String, _ body: (HDF5File) throws -> Void) throws {
        try OutputPath.checkFile(path)
        let url = URL(fileURLWithPath: path)
        removeStalePartials(of: url)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).partial").path
        do {
            let file = try HDF5File(path: temporary, mode: .create)
            do {
                try body(file)
                try file.flush()
            } catch {
                file.close()
                throw error
            }
            file.close()
            guard rename(temporary, path) == 0 else {
                throw LandscapeError.incompatibleFile(path, "cannot replace the file: \(String(cString: strerror(errno)))")
            }
        } catch {
            unlink(temporary)
            if error is LandscapeError { throw error }
            throw LandscapeError.incompatibleFile(path, "cannot write \(what): \(error)")
        }
    }

    /// Removes `.NAME.PID.partial` files beside `url` whose process no longer exists: what a
    /// write killed midway (or a full disk and a crash) left. A live process's file, even
    /// another program's writing the same output, is left alone. Best effort: a folder that
    /// cannot be listed, or a file that cannot be removed, is skipped.
    static func removeStalePartials(of url: URL) {
        let folder = url.deletingLastPathComponent()
        let prefix = ".\(url.lastPathComponent).", suffix = ".partial"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(suffix) && name.count > prefix.count + suffix.count {
            let middle = name.dropFirst(prefix.count).dropLast(suffix.count)
            guard let pid = Int32(middle), pid > 0, pid != getpid() else { continue }
            // ESRCH: no such process. EPERM means it exists (another user's): keep its file.
            if kill(pid, 0) != 0 && errno == ESRCH {
                unlink(folder.appendingPathComponent(name).path)
            }
        }
    }
}
