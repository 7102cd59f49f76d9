import Foundation

/// Another program run by a test (Python, node) through `/usr/bin/env`, so that a program is
/// found on the PATH or by its full path alike.
public enum Command {
    /// Runs `program` with `arguments`, in `folder` when given (else this process's folder), and
    /// returns its standard output; throws `Failure`, with the standard error, when it exits with
    /// a non-zero status (and the error of `Process.run` when it cannot start).
    @discardableResult
    public static func run(_ program: String, _ arguments: [String], in folder: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Standard error is drained on another thread while standard output is read here, so a
        // program that writes much to one never blocks on the other's full pipe.
        let stderr = Locked(Data())
        let drained = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            let data = errors.fileHandleForReading.readDataToEndOfFile()
            stderr.withLock { $0 = data }
            drained.signal()
        }
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(program: program, status: process.terminationStatus,
                          message: String(decoding: stderr.withLock { $0 }, as: UTF8.self))
        }
        return String(decoding: stdout, as: UTF8.self)
    }

    /// Whether `program` runs here: `program --version` exits with status 0.
    public static func exists(_ program: String) -> Bool {
        (try? run(program, ["--version"])) != nil
    }

    /// A program that exited with a non-zero status.
    public struct Failure: Error, CustomStringConvertible {
        public var program: String
        public var status: Int32
        public var message: String
        public var description: String { "\(program) exited with status \(status): \(message)" }
    }
}
