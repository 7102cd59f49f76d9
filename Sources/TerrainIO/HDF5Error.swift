/// A problem with an HDF5 file: it cannot be opened or created, it is not HDF5 or is damaged,
/// an object is missing or has the wrong kind, type or shape, or values do not fit a shape.
///
/// Surface and direction files come from other programs and interrupted runs, so every defect is
/// reported as a thrown error naming the file and what is wrong, never as a crash. Where the
/// HDF5 library gave a reason, the problem ends with it in parentheses.
public struct HDF5Error: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file's path, as given to `HDF5File.init`.
    public var source: String
    /// What is wrong, in a sentence: "dataset train_loss has shape [5, 3], expected 15 values".
    public var problem: String

    public init(source: String, problem: String) {
        self.source = source
        self.problem = problem
    }

    public var description: String { "\(source): \(problem)" }
}
