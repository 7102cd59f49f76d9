import CHDF5
import Foundation

/// An open HDF5 file: numeric datasets of any rank, string datasets, groups and attributes, at
/// slash-separated paths such as `"xdirection/3"`.
///
/// HDF5 is the format of the loss-landscape reference code's direction and surface files and of
/// h5py; this wrapper covers what those files use and keeps every HDF5 type and identifier
/// inside. Datasets are written as native `Double` or `Float` (IEEE little-endian on the
/// machines Terrain runs on) and read back as `Double` from any floating-point or integer type.
///
/// Every defect (a missing, damaged or foreign file, a missing object, values that do not fit a
/// shape) is thrown as an `HDF5Error` naming the file; nothing traps, and the library prints
/// nothing itself. An existing file is first read whole by a child process (`HDF5FileCheck`):
/// a file opened read-only answers every read from that snapshot, so a damaged file that makes
/// the library crash or loop is an error here, never a crash or a hang.
///
/// **Threads.** The HDF5 build Terrain links is not thread-safe. An `HDF5File` is not `Sendable`:
/// use each one from one thread (or task) at a time. Calls into the library are serialized by
/// one process-wide lock, so different files may be used from different threads.
///
/// The file is closed by `close()` or when the object is released. Writes go to the file in
/// place (not through `AtomicFile`): a crash while writing can leave it damaged, so writers of
/// results that must survive should write to a new path and rename it, or rewrite on restart.
public final class HDF5File {
    /// How to open the file.
    public enum Mode: Sendable, Equatable {
        /// Create the file, replacing any existing one (`H5F_ACC_TRUNC`).
        case create
        /// Open an existing file for reading only.
        case readOnly
        /// Open an existing file for reading and writing.
        case readWrite
    }

    /// The path the file was opened with.
    public let path: String
    /// How the file was opened.
    public let mode: Mode

    /// The HDF5 file identifier, or -1 once closed (or for a read-only file, which has none).
    /// Read and changed only under the library lock.
    var fileID: hid_t = -1
    /// A read-only file's content, read by a child process (`HDF5FileCheck`): the library never
    /// parses the file in this process. nil for files opened for writing.
    var snapshot: HDF5Snapshot?
    /// Whether a read-only file is still open.
    var snapshotIsOpen = false

    /// Opens or creates the HDF5 file at `path`.
    ///
    /// Throws an `HDF5Error` naming the path when the file is missing, is a folder, is not an
    /// HDF5 file, is damaged or truncated, or cannot be created.
    public init(path: String, mode: Mode) throws {
        self.path = path
        self.mode = mode
        guard !path.isEmpty, !path.utf8.contains(0) else {
            throw HDF5Error(source: path.isEmpty ? "\"\"" : path, problem: "the file path is empty or contains a NUL character")
        }
        if mode != .create { try Self.checkBeforeOpening(path) }
        if mode == .readOnly {
            let snapshot = try HDF5FileCheck.snapshot(path)
            if let reason = snapshot.openFailure { throw Self.openingFailure(path, reason: reason.isEmpty ? nil : reason) }
            self.snapshot = snapshot
            snapshotIsOpen = true
            return
        }
        if mode == .readWrite { _ = try HDF5FileCheck.snapshot(path) }
        fileID = try HDF5Library.locked {
            switch mode {
            case .create: return try Self.create(path)
            case .readOnly: return try Self.open(path, flags: shim_H5F_ACC_RDONLY())
            case .readWrite: return try Self.open(path, flags: shim_H5F_ACC_RDWR())
            }
        }
    }

    deinit { close() }

    /// Closes the file, writing out anything buffered. Further calls do nothing; other methods
    /// throw afterwards (and `exists` answers false).
    public func close() {
        if snapshot != nil {
            snapshotIsOpen = false
            return
        }
        HDF5Library.locked {
            guard fileID >= 0 else { return }
            _ = H5Fclose(fileID)
            fileID = -1
        }
    }

    /// Whether the file is still open.
    public var isOpen: Bool { snapshot != nil ? snapshotIsOpen : HDF5Library.locked { fileID >= 0 } }

    /// Writes everything buffered for this file to the disk (`H5Fflush`), so that other
    /// programs (h5py) see the data written so far.
    public func flush() throws {
        if snapshot != nil {
            guard snapshotIsOpen else { throw failure("the file is closed") }
            return
        }
        try access { file in
            guard H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0 else { throw libraryFailure("cannot flush the file") }
        }
    }

    // MARK: - Opening

    private static func create(_ path: String) throws -> hid_t {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw HDF5Error(source: path, problem: "cannot create the file: it is a folder")
        }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
            throw HDF5Error(source: path, problem: "cannot create the file: folder \(folder) does not exist")
        }
        let file = H5Fcreate(path, shim_H5F_ACC_TRUNC(), shim_H5P_DEFAULT(), shim_H5P_DEFAULT())
        guard file >= 0 else {
            throw HDF5Error(source: path, problem: withReason("cannot create the file", HDF5Library.lastFailureReason()))
        }
        return file
    }

    /// The checks made before an existing file is opened: it is a non-empty file.
    private static func checkBeforeOpening(_ path: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw HDF5Error(source: path, problem: "cannot open the file: no such file")
        }
        guard !isFolder.boolValue else {
            throw HDF5Error(source: path, problem: "cannot open the file: it is a folder, not a file")
        }
        // HDF5 would turn an empty file opened for writing into a new HDF5 file.
        if let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int, size == 0 {
            throw HDF5Error(source: path, problem: "not an HDF5 file: it is empty")
        }
    }

    private static func open(_ path: String, flags: UInt32) throws -> hid_t {
        let file = H5Fopen(path, flags, shim_H5P_DEFAULT())
        guard file < 0 else { return file }
        throw openingFailure(path, reason: HDF5Library.lastFailureReason())
    }

    /// Why the library could not open the file at `path`, given its reason.
    private static func openingFailure(_ path: String, reason: String?) -> HDF5Error {
        guard FileManager.default.isReadableFile(atPath: path) else {
            return HDF5Error(source: path, problem: "cannot open the file: permission denied")
        }
        guard hasHDF5Signature(atPath: path) else {
            return HDF5Error(source: path, problem: "not an HDF5 file: it has no HDF5 signature")
        }
        return HDF5Error(source: path, problem: withReason("cannot open the file: it is truncated or damaged, or already open in a conflicting mode", reason))
    }

    // MARK: - Shared by the other files

    /// Runs `body` with the open file's identifier, holding the library lock.
    func access<T>(_ body: (hid_t) throws -> T) throws -> T {
        try HDF5Library.locked {
            guard fileID >= 0 else { throw failure("the file is closed") }
            return try body(fileID)
        }
    }

    /// Like `access`, for changes: throws when the file was opened read-only.
    func modify<T>(_ what: @autoclosure () -> String, _ body: (hid_t) throws -> T) throws -> T {
        if snapshot != nil {
            guard snapshotIsOpen else { throw failure("the file is closed") }
            throw failure("cannot \(what()): the file is open read-only")
        }
        return try access { file in
            guard mode != .readOnly else { throw failure("cannot \(what()): the file is open read-only") }
            return try body(file)
        }
    }

    /// An error about this file.
    func failure(_ problem: String) -> HDF5Error {
        HDF5Error(source: path, problem: problem)
    }

    /// An error about this file after a failed library call, with the library's reason.
    /// Call with the lock held, right after the failure.
    func libraryFailure(_ problem: String) -> HDF5Error {
        HDF5Error(source: path, problem: withReason(problem, HDF5Library.lastFailureReason()))
    }
}

/// HDF5 state is not thread-safe: one thread at a time per file (see `HDF5File`).
@available(*, unavailable)
extension HDF5File: Sendable {}

/// `problem`, followed by the library's reason in parentheses when there is one.
func withReason(_ problem: String, _ reason: String?) -> String {
    guard let reason else { return problem }
    return "\(problem) (HDF5: \(reason))"
}
