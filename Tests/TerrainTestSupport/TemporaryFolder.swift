import Foundation

/// A fresh, empty folder under the system's temporary folder, named `terrain-<label>-<UUID>` so
/// that tests running in parallel never share one; removed with everything in it when the value
/// goes away.
public final class TemporaryFolder {
    public let path: String
    public var url: URL { URL(fileURLWithPath: path, isDirectory: true) }

    public init(_ label: String = "tests") throws {
        path = try makeTemporaryFolder(label).path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `data` to `name` inside the folder (creating subfolders) and returns the full path.
    @discardableResult
    public func write(_ data: Data, to name: String) throws -> String {
        let url = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
        return url.path
    }

    /// The full path of `name` inside the folder.
    public func file(_ name: String) -> String { path + "/" + name }
}

/// A fresh, empty folder `terrain-<label>-<UUID>` under the system's temporary folder that stays
/// when the test ends: for the tests that remove it themselves, or whose files outlive the value
/// that made the path (a runner's output, a training run's folder).
public func makeTemporaryFolder(_ label: String) throws -> URL {
    let folder = FileManager.default.temporaryDirectory
        .appendingPathComponent("terrain-\(label)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

/// The path of a file `name` inside a fresh folder of its own (`makeTemporaryFolder(label)`): the
/// file keeps the name the test gives it and no other test can write the same path.
public func temporaryPath(_ name: String, label: String) throws -> String {
    try makeTemporaryFolder(label).appendingPathComponent(name).path
}
