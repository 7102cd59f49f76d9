import CHDF5Check
import Foundation
import Synchronization

/// How `HDF5File` reads an existing file: in a child process (`CHDF5Check`) that reads its whole
/// content into a snapshot, so that a damaged file which makes the HDF5 library crash or loop
/// for ever takes down only that child, and the caller gets an `HDF5Error` instead.
///
/// HDF5's metadata (object headers, B-trees, the global heap behind variable-length strings) is
/// trusted by the library: a flipped byte can send it past a buffer's end or round a cycle, and
/// its API offers no way to validate a file first. Worse, some of its crashes depend on what the
/// heap held (an attribute table freed half-built), so a child that merely walked the file first
/// would not prove the parent's own reads safe: the parent never parses the file at all. A
/// read-only `HDF5File` answers from the snapshot; a file opened for writing (one Terrain has
/// just written) is read in the child first, then opened. The child is forked while the library
/// lock is held, so its copy of the library's state is consistent, and waited for without the
/// lock, so other threads (the server's other requests) keep reading other files meanwhile.
///
/// Cost: one `fork` and one copy of the file's values through an anonymous file, about a
/// millisecond for a surface file; datasets over 1 MiB are read when asked for, each by a child
/// of its own. Snapshots (up to 64 MiB in all) and damaged files are remembered per file
/// identity (device, inode, size, modification and change times) once the file has not changed
/// for two seconds, so a server asked for one over and over forks once (and waits for a damaged
/// file's time limit once); any write, rename or `touch` makes a new identity.
enum HDF5FileCheck {
    /// A file as it is on the disk now: the same identity means the same bytes.
    struct Identity: Hashable, Sendable {
        var device, inode: UInt64
        var size: Int64
        var modified, changed: [Int]

        /// Whether the file last changed two seconds ago or more. File systems stamp times at a
        /// coarse tick (milliseconds), and a file replaced within one tick can reuse the inode
        /// with the same size and times; a change made after a settled file was read would carry
        /// a later change time. Only settled files are remembered, so a remembered identity
        /// always means the same bytes.
        var isSettled: Bool {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            return changed[0] <= now.tv_sec - 2
        }
    }

    /// Files found damaged, and the problem: not read again while unchanged (a server asked for
    /// one over and over waits for its time limit once).
    private static let verdicts = Mutex<[Identity: String]>([:])
    /// Seconds the child may take, before the allowance for large files (`timeLimit(bytes:)`).
    private static let baseSeconds = Mutex<Double>(10)

    /// The time the child may take for a file of `bytes` bytes: the base (10 s unless set) and a
    /// second per 64 MiB, far more than a walk takes (a surface file: about a millisecond; a
    /// looping walk never ends, so any bound catches it).
    static func timeLimit(bytes: Int64) -> Double {
        baseSeconds.withLock { $0 } + Double(max(bytes, 0)) / Double(64 << 20)
    }

    static func setBaseSeconds(_ seconds: Double) {
        baseSeconds.withLock { $0 = seconds }
    }

    /// The most bytes of one dataset's values a snapshot holds; larger datasets are read when
    /// asked for, each by a child of its own (`value(of:in:)`), so that a listing of files of
    /// any size (the server's) copies little.
    static let inlineBytes: UInt64 = 1 << 20

    /// Snapshots of unchanged files, so that a file read again (the server's listings and
    /// pages) forks no child; bounded in total size.
    private static let snapshots = Mutex<(byIdentity: [Identity: HDF5Snapshot], bytes: Int)>(([:], 0))
    private static let snapshotCacheBytes = 64 << 20

    /// The file's identity now.
    static func identity(of path: String) throws -> Identity {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw HDF5Error(source: path, problem: "cannot open the file: \(String(cString: strerror(errno)))")
        }
        return Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                        modified: [info.st_mtim.tv_sec, info.st_mtim.tv_nsec],
                        changed: [info.st_ctim.tv_sec, info.st_ctim.tv_nsec])
    }

    /// The snapshot of the file at `path`, read by the child process: what a read-only
    /// `HDF5File` answers from. Throws an `HDF5Error` naming `path` when reading the file
    /// crashed or hung the HDF5 library in the child. A file the library merely refuses (not
    /// HDF5, truncated) gives a snapshot saying why (`openFailure`).
    static func snapshot(_ path: String, seconds: Double? = nil) throws -> HDF5Snapshot {
        let identity = try identity(of: path)
        if let problem = verdicts.withLock({ $0[identity] }) { throw HDF5Error(source: path, problem: problem) }
        if let cached = snapshots.withLock({ $0.byIdentity[identity] }) { return cached }
        var (snapshot, bytes) = try readRemembering(path, identity: identity, only: nil, seconds: seconds)
        snapshot.identity = identity
        guard identity.isSettled else { return snapshot }
        snapshots.withLock { cache in
            guard bytes <= snapshotCacheBytes / 16 else { return }
            if cache.bytes + bytes > snapshotCacheBytes { cache = ([:], 0) }
            cache.byIdentity[identity] = snapshot
            cache.bytes += bytes
        }
        return snapshot
    }

    /// The full value of the dataset at `dataset` (normalized), which `snapshot` left for later,
    /// read by a child of its own; throws when the file changed since the snapshot.
    static func value(of dataset: String, in path: String, snapshot: HDF5Snapshot) throws -> Result<HDF5Snapshot.Value, HDF5Snapshot.SnapshotReason> {
        guard let identity = snapshot.identity, try Self.identity(of: path) == identity else {
            throw HDF5Error(source: path, problem: "the file changed while it was being read (read it again)")
        }
        let (single, _) = try readRemembering(path, identity: identity, only: dataset)
        if let reason = single.openFailure { return .failure(HDF5Snapshot.SnapshotReason(text: reason)) }
        guard let value = single.datasets[dataset] else {
            throw HDF5Error(source: path, problem: "the file is damaged: dataset \(dataset.dropFirst()) could not be read back")
        }
        return value
    }

    /// `readInChild`, remembering a damaged file's problem.
    private static func readRemembering(_ path: String, identity: Identity, only: String?,
                                        seconds: Double? = nil) throws -> (HDF5Snapshot, Int) {
        do {
            return try readInChild(path, seconds: seconds ?? timeLimit(bytes: identity.size), only: only)
        } catch let damage as Damage {
            if identity.isSettled { verdicts.withLock { verdicts in
                if verdicts.count >= 4096 { verdicts.removeAll() }  // a bound for long-running servers
                verdicts[identity] = damage.problem
            } }
            throw HDF5Error(source: path, problem: damage.problem)
        }
    }

    /// A file found damaged: remembered, so that it is not read again while unchanged.
    private struct Damage: Error { var problem: String }

    /// The child's snapshot of `path` (of its dataset `only`, when given) and its size in bytes.
    private static func readInChild(_ path: String, seconds: Double, only: String?) throws -> (HDF5Snapshot, Int) {
        var report: UnsafeMutableRawPointer?
        var descriptor: Int32 = -1
        let (child, forkError) = HDF5Library.locked {
            let child = terrain_hdf5_check_start(path, readableByteLimit() / 2, inlineBytes, only, seconds, &descriptor, &report)
            return (child, errno)
        }
        guard child > 0, let report, descriptor >= 0 else {
            throw HDF5Error(source: path, problem: "cannot read the file: no process could be started to read it (\(String(cString: strerror(forkError))))")
        }
        let snapshot = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var detail: Int32 = 0
        var step = [CChar](repeating: 0, count: 1024)
        let outcome = terrain_hdf5_check_finish(child, report, seconds, &detail, &step, UInt(step.count))
        let doing = String(decoding: step.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch Int(outcome) {
        case Int(TERRAIN_HDF5_CHECK_PASSED.rawValue):
            guard lseek(descriptor, 0, SEEK_SET) == 0, let data = try? snapshot.readToEnd() ?? Data(),
                  let parsed = HDF5Snapshot(data) else {
                throw Damage(problem: "the file is damaged: its content could not be read back from the process that read it")
            }
            return (parsed, data.count)
        case Int(TERRAIN_HDF5_CHECK_CRASHED.rawValue):
            let name = strsignal(detail).map { String(cString: $0) } ?? "signal \(detail)"
            throw Damage(problem: "the file is damaged: the HDF5 library crashed (\(name)) while \(doing); Terrain reads HDF5 files in a separate process, so nothing else was affected")
        case Int(TERRAIN_HDF5_CHECK_TIMED_OUT.rawValue):
            throw Damage(problem: "the file is damaged: the HDF5 library did not finish \(doing) within \(String(format: "%.3g", seconds)) s (damaged metadata can make it loop for ever); the separate process reading it was stopped")
        case Int(TERRAIN_HDF5_CHECK_FAILED.rawValue):
            throw Damage(problem: "the file is damaged: the process reading it ended with status \(detail) while \(doing)")
        default:
            throw HDF5Error(source: path, problem: "cannot read the file: the process reading it could not be waited for (\(String(cString: strerror(detail))))")
        }
    }
}

extension HDF5File {
    /// The seconds the check before opening (reading the file in a separate process, which a
    /// damaged file may crash or hang) may take before the file is called damaged, plus a second
    /// per 64 MiB of file. 10 by default; tests of looping files set less.
    public static var damageCheckSeconds: Double {
        get { HDF5FileCheck.timeLimit(bytes: 0) }
        set { HDF5FileCheck.setBaseSeconds(newValue) }
    }
}
