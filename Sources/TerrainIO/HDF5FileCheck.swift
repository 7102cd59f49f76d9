import CHDF5Check
import Foundation
import Synchronization

/// The check every existing HDF5 file passes before `HDF5File` opens it: the file is first read
/// in a child process (`CHDF5Check`), so that a damaged file which makes the HDF5 library crash
/// or loop for ever takes down only that child, and the caller gets an `HDF5Error` instead.
///
/// HDF5's metadata (object headers, B-trees, the global heap behind variable-length strings) is
/// trusted by the library: a flipped byte can send it past a buffer's end or round a cycle, and
/// its API offers no way to validate a file first. The child walks every group, attribute and
/// dataset with the same calls the readers make (`hdf5_check.h` says which), so a file it walks
/// to the end is one the readers walk safely. It is forked while the library lock is held, so
/// its copy of the library's state is consistent, and waited for without the lock, so other
/// threads (the server's other requests) keep reading other files meanwhile.
///
/// Cost: one `fork` and one extra read of the file's metadata and of small datasets' values,
/// about a millisecond for a surface file. Results are remembered per file identity (device,
/// inode, size, modification and change times), so a file read again unchanged (the server's
/// pages) is forked for once; any write, rename or `touch` makes a new identity.
enum HDF5FileCheck {
    /// A file as it is on the disk now: the same identity means the same bytes.
    struct Identity: Hashable {
        var device, inode: UInt64
        var size: Int64
        var modified, changed: [Int]
    }

    /// Checked files: nil for one that passed, else the problem found.
    private static let verdicts = Mutex<[Identity: String?]>([:])
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

    /// Throws an `HDF5Error` naming `path` when reading the file crashes or hangs the HDF5
    /// library. Files that the library merely refuses (not HDF5, truncated) pass: opening them
    /// throws the library's own reason.
    static func check(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { return }  // opening reports what is missing
        let identity = Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                                modified: [info.st_mtim.tv_sec, info.st_mtim.tv_nsec],
                                changed: [info.st_ctim.tv_sec, info.st_ctim.tv_nsec])
        if let verdict = verdicts.withLock({ $0[identity] }) {
            if let problem = verdict { throw HDF5Error(source: path, problem: problem) }
            return
        }
        let problem = try walkInChild(path, seconds: timeLimit(bytes: identity.size))
        verdicts.withLock { verdicts in
            if verdicts.count >= 4096 { verdicts.removeAll() }  // a bound for long-running servers
            verdicts[identity] = .some(problem)
        }
        if let problem { throw HDF5Error(source: path, problem: problem) }
    }

    /// The problem the child met reading `path`, or nil when it walked the whole file.
    private static func walkInChild(_ path: String, seconds: Double) throws -> String? {
        var report: UnsafeMutableRawPointer?
        let (child, forkError) = HDF5Library.locked {
            let child = terrain_hdf5_check_start(path, readableByteLimit() / 2, seconds, &report)
            return (child, errno)
        }
        guard child > 0, let report else {
            throw HDF5Error(source: path, problem: "cannot check the file before reading it: no process could be started to read it (\(String(cString: strerror(forkError))))")
        }
        var detail: Int32 = 0
        var step = [CChar](repeating: 0, count: 1024)
        let outcome = terrain_hdf5_check_finish(child, report, seconds, &detail, &step, UInt(step.count))
        let doing = String(decoding: step.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch Int(outcome) {
        case Int(TERRAIN_HDF5_CHECK_PASSED.rawValue):
            return nil
        case Int(TERRAIN_HDF5_CHECK_CRASHED.rawValue):
            let name = strsignal(detail).map { String(cString: $0) } ?? "signal \(detail)"
            return "the file is damaged: the HDF5 library crashed (\(name)) while \(doing); Terrain reads every HDF5 file in a separate process first, so nothing else was affected"
        case Int(TERRAIN_HDF5_CHECK_TIMED_OUT.rawValue):
            return "the file is damaged: the HDF5 library did not finish \(doing) within \(String(format: "%.3g", seconds)) s (damaged metadata can make it loop for ever); the separate process reading it was stopped"
        case Int(TERRAIN_HDF5_CHECK_FAILED.rawValue):
            return "the file is damaged: the process reading it ended with status \(detail) while \(doing)"
        default:
            throw HDF5Error(source: path, problem: "cannot check the file before reading it: the process reading it could not be waited for (\(String(cString: strerror(detail))))")
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
