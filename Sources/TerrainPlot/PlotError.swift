/// Why a figure could not be made.
public enum PlotError: Error, CustomStringConvertible, Equatable {
    /// Cairo could not create or write the file.
    case cannotWrite(String, String)
    /// The data cannot be drawn as asked (no finite values, mismatched lengths, …).
    case invalidData(String)
    case unknownFormat(String)

    public var description: String {
        switch self {
        case .cannotWrite(let path, let why): "cannot write \(path): \(why)"
        case .invalidData(let why): why
        case .unknownFormat(let name): "unknown figure format '\(name)' (png, svg or pdf)"
        }
    }
}
