import Foundation
import TerrainIO

extension HDF5File {
    /// Writes an HDF5 file whole or not at all through `AtomicFile`: `body` fills a temporary
    /// file beside `path` (`.S.h5.PID.partial`), which is flushed, closed, synced and renamed over
    /// `path`. A kill at any moment leaves the previous complete file or the new one, never a
    /// torn one; the temporary files such kills leave behind are removed by the next write of the
    /// same file.
    ///
    /// - Parameter what: what the file holds, for the error message ("the surface").
    static func writeAtomically(to path: String, what: String, _ body: (HDF5File) throws -> Void) throws {
        try OutputPath.checkFile(path)
        do {
            try AtomicFile.write(to: path) { temporary in
                let file = try HDF5File(path: temporary, mode: .create)
                do {
                    try body(file)
                    try file.flush()
                } catch {
                    file.close()
                    throw error
                }
                file.close()
            }
        } catch let error as LandscapeError {
            throw error
        } catch {
            throw LandscapeError.incompatibleFile(path, "cannot write \(what): \(error)")
        }
    }
}
