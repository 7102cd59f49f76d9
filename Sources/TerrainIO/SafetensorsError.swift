/// A problem with safetensors contents: a malformed file, or entries that cannot be written or
/// converted.
///
/// Readers of checkpoints get files from anywhere (other programs, interrupted copies, other
/// people), so every defect is reported as a thrown error that names where the bytes came from
/// and what is wrong with them, never as a crash.
public struct SafetensorsError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Where the bytes came from: a file path, `"<memory>"`, or a tensor's name.
    public var source: String
    /// What is wrong, in a sentence.
    public var problem: String

    public init(source: String, problem: String) {
        self.source = source
        self.problem = problem
    }

    public var description: String { "\(source): \(problem)" }
}
