import Foundation
import TerrainIO

extension HDF5File {
    /// Writes an HDF5 file whole or not at all: `body` fills a temporary file beside `path`
    /// (hidden, named after the process), which is flushed, closed and renamed over `path`. A kill
    /// at any moment leaves the previous complete file or the new one, never a torn one.
    ///
    /// - Parameter what: what the file holds, for the error message ("the surface").
    static func writeAtomically(to path: String, what: String, _ body: (HDF5File) throws -> Void) throws {
        try OutputPath.checkFile(path)
        let url = URL(fileURLWithPath: path)
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
}
