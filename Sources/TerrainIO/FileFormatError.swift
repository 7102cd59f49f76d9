/// A problem with the contents of a file of one format (`Format`, a tag type: `HDF5Format`,
/// `SafetensorsFormat`), named by where the bytes came from and what is wrong with them.
///
/// Readers get files from anywhere (other programs, interrupted runs and copies, other people),
/// so every defect is reported as a thrown error of this shape, never as a crash. The format tag
/// keeps the errors of each format a type of their own (`catch let error as HDF5Error`).
public struct FileFormatError<Format>: Error, CustomStringConvertible, Sendable, Equatable {
    /// Where the bytes came from: a file path, `"<memory>"`, or a tensor's name.
    public var source: String
    /// What is wrong, in a sentence: "dataset train_loss has shape [5, 3], expected 15 values".
    public var problem: String

    public init(source: String, problem: String) {
        self.source = source
        self.problem = problem
    }

    public var description: String { "\(source): \(problem)" }
}
