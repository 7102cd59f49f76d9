import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One process at a time computing an output: an exclusive lock on `<output>.lock` beside it.
///
/// A resumable computation (a surface, its journal, a sampled surface's pilot journal) is written
/// by one process. Two given the same output (the same command started twice, or a resume started
/// while the first run still goes on) would each compute every point at half the speed, and
/// truncate each other's journals. The first takes the lock; a second is refused at once and told
/// which process holds it.
///
/// The lock is the kernel's (`flock`): it goes with its process however that ends, `kill -9`
/// included, so the lock file a killed run leaves holds nothing, and the next run takes it.
/// Advisory: it keeps Terrain's writers apart, nothing else. On a file system without `flock`
/// (some network mounts), the output is computed unlocked, as before there was a lock.
public final class OutputLock {
    /// The lock file: the output's path with `.lock` added.
    public let path: String
    private var descriptor: Int32 = -1

    /// Takes the lock of `output`, or throws `OutputLockError` naming the process that holds it
    /// (or `AtomicFileError` where the lock file cannot be made: a folder that cannot be written).
    public init(for output: String) throws {
        path = output + ".lock"
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                let code = errno
                throw AtomicFileError(path: path, step: "creating the lock file", code: code, reason: String(cString: strerror(code)))
            }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                let holder = Self.holder(reading: fd)
                close(fd)
                if code == EWOULDBLOCK { throw OutputLockError(output: output, holder: holder) }
                return  // no flock here: unlocked, as the documentation says
            }
            // The holder may have removed the file between our open and our lock: the lock is
            // then on a name nobody else opens, so take the one the path names now.
            var held = stat(), named = stat()
            if fstat(fd, &held) == 0, stat(path, &named) == 0, held.st_ino == named.st_ino, held.st_dev == named.st_dev {
                descriptor = fd
                break
            }
            close(fd)
        }
        // Who holds it, for the refusal of another process.
        let line = "process \(getpid()) on \(Self.hostName)\n"
        if ftruncate(descriptor, 0) == 0 { _ = line.withCString { write(descriptor, $0, strlen($0)) } }
    }

    /// Removes the lock file and lets the lock go (once; also when the lock is deallocated).
    public func release() {
        guard descriptor >= 0 else { return }
        unlink(path)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }

    /// What the holder wrote in the lock file, if anything.
    private static func holder(reading fd: Int32) -> String? {
        var bytes = [UInt8](repeating: 0, count: 256)
        let count = pread(fd, &bytes, bytes.count, 0)
        guard count > 0 else { return nil }
        let text = String(decoding: bytes[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    private static var hostName: String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "this machine" }
        return String(cString: name)
    }
}

/// An output another process is computing now (`OutputLock`).
public struct OutputLockError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The output asked for.
    public var output: String
    /// Who holds it, as the lock file says ("process 1234 on node7"), when it says.
    public var holder: String?

    public init(output: String, holder: String?) {
        self.output = output
        self.holder = holder
    }

    public var description: String {
        "\(output) is being computed by another \(holder ?? "process") now: wait for it to finish, or stop it and run the command again "
            + "(it resumes from the points already computed); two processes on one output would each compute every point"
    }
}
