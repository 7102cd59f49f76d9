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
        // Plain open/write: Foundation's Data.write fsyncs, which made each input cost ~10 ms.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        let written = data.withUnsafeBytes { raw in raw.isEmpty ? 0 : write(descriptor, raw.baseAddress, raw.count) }
        return written == data.count ? path : nil
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }
}
