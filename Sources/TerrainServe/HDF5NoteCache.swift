import Foundation

/// What the listing says about each `.h5` file (surface or not, what it holds), remembered by
/// path, size and modification time, so that a listing reads no HDF5 file it has described
/// before. The listing is then a walk of the folder: fast however busy the HDF5 library is.
///
/// A file whose description did not finish in time is remembered as such too, so that a damaged
/// file that makes the HDF5 library loop is tried once, not at every listing.
final class HDF5NoteCache: @unchecked Sendable {
    struct Note: Sendable {
        var isSurface: Bool
        var note: String
    }

    private struct Stamp: Equatable {
        var size: Int64
        var seconds: Int
        var nanoseconds: Int
    }

    private let lock = NSLock()
    private var notes: [String: (stamp: Stamp, note: Note)] = [:]
    /// Bounds the memory of a folder whose files keep changing.
    private let capacity = 20_000

    /// The remembered note for the file at `realPath`, if it has not changed since.
    func note(for realPath: String) -> Note? {
        guard let stamp = Self.stamp(realPath) else { return nil }
        return lock.withLock {
            guard let entry = notes[realPath], entry.stamp == stamp else { return nil }
            return entry.note
        }
    }

    func remember(_ note: Note, for realPath: String) {
        guard let stamp = Self.stamp(realPath) else { return }
        lock.withLock {
            if notes.count >= capacity { notes.removeAll(keepingCapacity: true) }
            notes[realPath] = (stamp, note)
        }
    }

    private static func stamp(_ path: String) -> Stamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        #if canImport(Darwin)
        return Stamp(size: Int64(info.st_size), seconds: info.st_mtimespec.tv_sec, nanoseconds: info.st_mtimespec.tv_nsec)
        #else
        return Stamp(size: Int64(info.st_size), seconds: info.st_mtim.tv_sec, nanoseconds: info.st_mtim.tv_nsec)
        #endif
    }
}
