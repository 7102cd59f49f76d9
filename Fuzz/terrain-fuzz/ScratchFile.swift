import Foundation

/// A private folder where inputs are written for the readers that take a path (datasets,
/// checkpoints, HDF5). One file per name, overwritten for every input; removed at exit.
final class ScratchFile: @unchecked Sendable {
    let folder: String

    init() throws {
        let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? NSTemporaryDirectory()
        folder = (base as NSString).appendingPathComponent("terrain-fuzz-\(getpid())")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    /// The path of a file named `name` holding `data`, or nil if it could not be written.
    func holding(_ data: Data, named name: String) -> String? {
        let path = (folder as NSString).appendingPathComponent(name)
        do { try data.write(to: URL(fileURLWithPath: path)) } catch { return nil }
        return path
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }
}
