import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that readers, and the file system after a crash, only ever see the old
/// contents or the complete new ones: the one way every Terrain file is written (checkpoints,
/// HDF5 surfaces and spectra, figures, animations, pages, exports).
///
/// Checkpoints are overwritten during long runs; writing them in place means a crash, a kill
/// or a full disk in the middle leaves a truncated file where the last good one was. Instead
/// the data goes to a temporary file in the same folder (hidden, named after the process:
/// `.NAME.PID.partial`), is flushed to the disk, and is then renamed over the target, which
/// POSIX makes atomic within one file system. The temporary files that kills leave behind are
/// removed by the next write of the same file (`removeStalePartials`).
public enum AtomicFile {
    /// Replaces the file at `url` with `data`, atomically.
    ///
    /// An existing file keeps its permission bits; a new one gets the usual permissions allowed
    /// by the process's umask. The folder must exist. On failure the temporary file is removed
    /// and an `AtomicFileError` names the path, the failing step and the system's reason.
    public static func write(_ data: Data, to url: URL) throws {
        guard url.isFileURL else {
            throw AtomicFileError(path: url.absoluteString, step: "checking the destination", code: 0,
                                  reason: "it is not a file URL")
        }
        let path = url.path(percentEncoded: false)
        try replace(path) { temporary in
            try writeAll(data, to: temporary.descriptor, path: path, temporaryPath: temporary.path)
        }
    }

    /// Replaces the file at `path` with what `fill` writes to the temporary path it is given (a
    /// new, empty file beside `path`, which `fill` may truncate or write through a library that
    /// opens files by name: HDF5, Cairo, ffmpeg), atomically and with the same guarantees as
    /// `write(_:to:)`. Errors thrown by `fill` are rethrown as they are.
    public static func write(to path: String, fill: (_ temporaryPath: String) throws -> Void) throws {
        try replace(path) { temporary in try fill(temporary.path) }
    }

    /// The one path: check the destination, remove stale temporary files, fill a new temporary
    /// file, give it the old file's permissions, flush it, rename it over `path`, flush the folder.
    private static func replace(_ path: String, fill: ((path: String, descriptor: Int32)) throws -> Void) throws {
        guard !path.isEmpty, !path.hasSuffix("/") else {
            throw AtomicFileError(path: path, step: "checking the destination", code: 0,
                                  reason: "the path names a folder, not a file")
        }
        do { try OutputPath.checkFile(path) } catch let error as OutputPathError {
            throw AtomicFileError(path: path, step: "checking the destination", code: 0, reason: error.detail)
        }
        let url = URL(fileURLWithPath: path)
        let folder = displayPath(ofFolder: url.deletingLastPathComponent())
        removeStalePartials(of: url)
        let temporary = try createTemporaryFile(besides: url, folder: folder, path: path)
        do {
            do {
                try fill(temporary)
            } catch {
                close(temporary.descriptor)
                throw error
            }
            guard close(temporary.descriptor) == 0 else {
                throw systemError(errno, path: path, step: "closing \(temporary.path)")
            }
            // Opened again by name: a library may have written the file through a descriptor of its own.
            let written = open(temporary.path, O_RDONLY | O_CLOEXEC)
            guard written >= 0 else { throw systemError(errno, path: path, step: "opening \(temporary.path)") }
            defer { close(written) }
            try keepPermissions(of: path, on: written)
            guard fsync(written) == 0 else {
                throw systemError(errno, path: path, step: "flushing \(temporary.path) to disk")
            }
            guard rename(temporary.path, path) == 0 else {
                throw systemError(errno, path: path, step: "renaming \(temporary.path) over it")
            }
        } catch {
            unlink(temporary.path)
            throw error
        }
        flushFolder(folder)
    }

    /// Creates a new, empty temporary file in the target's folder, so the final rename stays
    /// within one file system: `.NAME.PID.partial`, or `.NAME.PID.RANDOM.partial` while another
    /// thread of this process writes the same file.
    private static func createTemporaryFile(
        besides url: URL, folder: String, path: String
    ) throws -> (path: String, descriptor: Int32) {
        let stem = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid())")
            .path(percentEncoded: false)
        for attempt in 0..<16 {
            let candidate = attempt == 0 ? stem + ".partial"
                : stem + ".\(String(UInt64.random(in: 0...UInt64.max), radix: 16)).partial"
            let descriptor = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if descriptor >= 0 { return (candidate, descriptor) }
            let code = errno
            if code != EEXIST { throw systemError(code, path: path, step: "creating a temporary file in \(folder)") }
        }
        throw AtomicFileError(path: path, step: "creating a temporary file in \(folder)", code: EEXIST,
                              reason: "every temporary name tried already exists")
    }

    /// Removes `.NAME.PID.partial` (and `.NAME.PID.RANDOM.partial`) files beside `url` whose
    /// process no longer exists: what a write killed midway (or a full disk and a crash) left.
    /// A live process's file, even another program's writing the same output, is left alone.
    /// Best effort: a folder that cannot be listed, or a file that cannot be removed, is skipped.
    public static func removeStalePartials(of url: URL) {
        let folder = url.deletingLastPathComponent()
        let prefix = ".\(url.lastPathComponent).", suffix = ".partial"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(suffix) && name.count > prefix.count + suffix.count {
            let middle = name.dropFirst(prefix.count).dropLast(suffix.count)
            guard let process = middle.split(separator: ".", omittingEmptySubsequences: false).first,
                  let pid = Int32(process), pid > 0, pid != getpid() else { continue }
            // ESRCH: no such process. EPERM means it exists (another user's): keep its file.
            if kill(pid, 0) != 0 && errno == ESRCH {
                unlink(folder.appendingPathComponent(name).path)
            }
        }
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
