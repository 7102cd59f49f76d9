import Foundation

/// The folder `terrain serve` was given, and the only place it reads from.
///
/// A request names a path relative to the folder, percent-encoded. It is decoded strictly
/// (bad `%` escapes and NUL bytes are refused), split on `/`, refused if any component is `..`
/// (that catches `%2e%2e` too, since decoding comes first) or starts with `.` (hidden files and
/// folders, `.git` among them, are never served), and then resolved with `realpath`: a symbolic
/// link anywhere on the way is followed, and the result must still lie inside the folder's own
/// real path. So a link inside the folder that points out of it is refused like `..`.
public struct ServedFolder: Sendable {
    /// The folder's real path (symbolic links resolved), without a trailing slash.
    public let root: String

    public init(path: String) throws {
        guard let real = Self.realPath(path) else { throw ServeError.notFound("\(path): no such folder") }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: real, isDirectory: &isFolder), isFolder.boolValue else {
            throw ServeError.notFound("\(path): not a folder")
        }
        root = real
    }

    /// The real path of `encoded` (a relative, percent-encoded URL path), inside the folder.
    public func resolve(encoded: Substring) throws -> String {
        guard let decoded = URLPath.decode(encoded) else { throw ServeError.badRequest("the path is not valid percent-encoding") }
        return try resolve(decoded)
    }

    /// The real path of `relative` (already decoded), inside the folder; it must exist.
    public func resolve(_ relative: String) throws -> String {
        guard !relative.utf8.contains(0) else { throw ServeError.badRequest("the path contains a NUL byte") }
        let components = relative.split(separator: "/", omittingEmptySubsequences: true)
        if components.contains(where: { $0.contains("\\") }) { throw ServeError.badRequest("backslashes are not path separators here") }
        if components.contains(where: { $0 == ".." }) { throw ServeError.forbidden("'..' leads out of the served folder") }
        if components.contains(where: { $0.hasPrefix(".") }) { throw ServeError.notFound("hidden files are not served") }
        let candidate = ([root] + components.map(String.init)).joined(separator: "/")
        guard let real = Self.realPath(candidate) else { throw ServeError.notFound("\(relative): no such file") }
        guard contains(real) else { throw ServeError.forbidden("\(relative) leads out of the served folder") }
        return real
    }

    /// Whether a real path lies in the folder (the folder itself included).
    public func contains(_ realPath: String) -> Bool {
        realPath == root || realPath.hasPrefix(root == "/" ? "/" : root + "/")
    }

    /// `realPath`'s position under the folder: "" for the folder itself, "a/b.h5" below it.
    public func relative(_ realPath: String) -> String {
        realPath == root ? "" : String(realPath.dropFirst(root == "/" ? 1 : root.count + 1))
    }

    /// Whether `path` is a regular file (not a folder, FIFO, socket or device: opening a FIFO
    /// blocks until someone writes to it, and a device may never end).
    public static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
