import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that readers, and the file system after a crash, only ever see the old
/// contents or the complete new ones.
///
/// Checkpoints are overwritten during long runs; writing them in place means a crash, a kill
/// or a full disk in the middle leaves a truncated file where the last good one was. Instead
/// the data goes to a temporary file in the same folder, is flushed to the disk, and is then
/// renamed over the target, which POSIX makes atomic within one file system.
public enum AtomicFile {
    /// Replaces the file at `url` with `data`, atomically.
    ///
    /// An existing file keeps its permission bits; a new one gets the usual permissions allowed
    /// by the process's umask. The folder must exist. On failure the temporary file is removed
    /// and an `AtomicFileError` names the path, the failing step and the system's reason.
    public static func write(_ data: Data, to url: URL) throws {
        let path = url.path(percentEncoded: false)
        guard url.isFileURL else {
            throw AtomicFileError(path: url.absoluteString, step: "checking the destination", code: 0,
                                  reason: "it is not a file URL")
        }
        guard !path.isEmpty, !path.hasSuffix("/") else {
            throw AtomicFileError(path: path, step: "checking the destination", code: 0,
                                  reason: "the path names a folder, not a file")
        }
        do { try OutputPath.checkFile(path) } catch let error as OutputPathError {
            throw AtomicFileError(path: path, step: "checking the destination", code: 0, reason: error.detail)
        }
        let folder = displayPath(ofFolder: url.deletingLastPathComponent())
        let temporary = try createTemporaryFile(besides: url, folder: folder, path: path)

        do {
            try keepPermissions(of: path, on: temporary.descriptor)
            try writeAll(data, to: temporary.descriptor, path: path, temporaryPath: temporary.path)
            guard fsync(temporary.descriptor) == 0 else {
                throw systemError(errno, path: path, step: "flushing \(temporary.path) to disk")
            }
        } catch {
            close(temporary.descriptor)
            unlink(temporary.path)
            throw error
        }
        guard close(temporary.descriptor) == 0 else {
            let failure = systemError(errno, path: path, step: "closing \(temporary.path)")
            unlink(temporary.path)
            throw failure
        }
        guard rename(temporary.path, path) == 0 else {
            let failure = systemError(errno, path: path, step: "renaming \(temporary.path) over it")
            unlink(temporary.path)
            throw failure
        }
        flushFolder(folder)
    }

    /// Creates a new, empty, uniquely named hidden file in the target's folder, so the final
    /// rename stays within one file system.
    private static func createTemporaryFile(
        besides url: URL, folder: String, path: String
    ) throws -> (path: String, descriptor: Int32) {
        let base = url.lastPathComponent
        for _ in 0..<16 {
            let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
            let candidate = url.deletingLastPathComponent()
                .appendingPathComponent(".\(base).\(suffix).tmp").path(percentEncoded: false)
            let descriptor = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if descriptor >= 0 { return (candidate, descriptor) }
            let code = errno
            if code != EEXIST { throw systemError(code, path: path, step: "creating a temporary file in \(folder)") }
        }
        throw AtomicFileError(path: path, step: "creating a temporary file in \(folder)", code: EEXIST,
                              reason: "every temporary name tried already exists")
    }

    /// Gives the temporary file the permission bits of the file it will replace, if any.
    private static func keepPermissions(of path: String, on descriptor: Int32) throws {
        var existing = stat()
        guard stat(path, &existing) == 0 else { return }
        guard fchmod(descriptor, existing.st_mode & 0o7777) == 0 else {
            throw systemError(errno, path: path, step: "copying the existing file's permissions")
        }
    }

    /// Writes every byte, resuming after partial writes and interrupted system calls.
    private static func writeAll(_ data: Data, to descriptor: Int32, path: String, temporaryPath: String) throws {
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            guard let base = bytes.baseAddress else { return }
            var written = 0
            while written < bytes.count {
                // Some systems reject single writes of 2 GiB or more.
                let chunk = min(bytes.count - written, 1 << 30)
                let result = systemWrite(descriptor, base + written, chunk)
                if result < 0 {
                    let code = errno
                    if code == EINTR { continue }
                    throw systemError(code, path: path, step: "writing \(temporaryPath)")
                }
                written += result
            }
        }
    }

    /// Flushes the folder so the rename itself survives a crash. Best effort: some file
    /// systems cannot open or sync folders, and the data is already safe by then.
    private static func flushFolder(_ folder: String) {
        let descriptor = open(folder.isEmpty ? "." : folder, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    /// A folder's path as people write it, without the trailing slash URLs give folders.
    private static func displayPath(ofFolder folder: URL) -> String {
        let path = folder.path(percentEncoded: false)
        return path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    /// An error for a failed system call; callers read `errno` first, before anything else can
    /// change it.
    private static func systemError(_ code: Int32, path: String, step: String) -> AtomicFileError {
        return AtomicFileError(path: path, step: step, code: code, reason: String(cString: strerror(code)))
    }
}

/// POSIX `write`, reachable under another name inside `AtomicFile`, whose own `write` hides it.
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}
