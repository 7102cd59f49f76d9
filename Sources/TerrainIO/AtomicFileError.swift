/// A file-system failure while writing a file atomically, with the path, the step that failed
/// and the operating system's reason ("No space left on device", "Permission denied").
public struct AtomicFileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file that was being written.
    public var path: String
    /// The step that failed, as a phrase: "creating a temporary file in /runs/a".
    public var step: String
    /// The `errno` value the system call reported, or 0 when the failure was not a system call's.
    public var code: Int32
    /// The system's wording for `code`, or a reason of our own when `code` is 0.
    public var reason: String

    public init(path: String, step: String, code: Int32, reason: String) {
        self.path = path
        self.step = step
        self.code = code
        self.reason = reason
    }

    public var description: String { "cannot write \(path): \(step) failed: \(reason)" }
}
