import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What an output path may already be: the one rule every writer and every command's `--out`
/// follows before anything is written.
///
/// Outputs are written beside their destination and renamed over it, and a rename replaces
/// whatever the name held: given `/dev/null` or a FIFO it would put a regular file in place of
/// the device. So an existing destination must be a regular file (a symbolic link is fine: the
/// rename replaces the link, never what it points to), and an existing folder destination
/// must be a folder.
public enum OutputPath {
    /// Throws when `path` exists and is neither a regular file nor a symbolic link.
    public static func checkFile(_ path: String) throws {
        guard let kind = kind(of: path) else { return }
        guard kind == S_IFREG || kind == S_IFLNK else {
            throw OutputPathError(path: path, detail: "it exists and is \(describe(kind)), not a regular file; choose another output")
        }
    }

    /// Throws when `path` exists and is not a folder (or a link to one).
    public static func checkFolder(_ path: String) throws {
        var isFolder: ObjCBool = false
        guard kind(of: path) != nil else { return }
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
            throw OutputPathError(path: path, detail: "it exists and is \(describe(kind(of: path) ?? S_IFREG)), not a folder; choose another output folder")
        }
    }

    /// The file type bits of `path` itself (not of a link's target), or nil when nothing is there.
    private static func kind(of path: String) -> mode_t? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return info.st_mode & S_IFMT
    }

    private static func describe(_ kind: mode_t) -> String {
        switch kind {
        case S_IFREG: "a regular file"
        case S_IFDIR: "a folder"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFIFO: "a FIFO (named pipe)"
        case S_IFSOCK: "a socket"
        case S_IFLNK: "a symbolic link"
        default: "not a regular file"
        }
    }
}

/// An output path that cannot be written as asked.
public struct OutputPathError: Error, CustomStringConvertible {
    public var path: String
    public var detail: String

    public var description: String { "cannot write \(path): \(detail)" }
}
