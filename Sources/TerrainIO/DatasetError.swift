/// Why a dataset could not be found, read or understood.
///
/// Every dataset reader (`TerrainData`) and the NPY, NPZ, zip and gzip readers here report bad
/// input through this type instead of trapping, so a truncated download or a wrong path ends in a message that names the file and says what is
/// wrong with it, for example
/// `train-images-idx3-ubyte.gz: truncated: header says 60000 images of 28x28 (47040000 bytes) but only 1000 bytes follow`.
public enum DatasetError: Error, CustomStringConvertible, Sendable, Equatable {
    /// No file or folder exists at `path`.
    case notFound(path: String, help: String)
    /// The file exists but could not be read (permissions, I/O error).
    case unreadable(file: String, reason: String)
    /// The file ends before the data its header announces.
    case truncated(file: String, detail: String)
    /// The file does not start with the signature its format requires.
    case wrongMagic(file: String, detail: String)
    /// The file's structure or values are inconsistent.
    case malformed(file: String, detail: String)
    /// A compressed stream (gzip, zlib or zip deflate) is damaged.
    case corruptCompression(file: String, detail: String)
    /// The file is valid but uses a feature this module does not read.
    case unsupported(file: String, detail: String)
    /// Two parts of one dataset disagree (for example image and label counts).
    case mismatch(dataset: String, detail: String)
    /// A named dataset is not installed on this machine.
    case notInstalled(name: String, help: String)
    /// The spec is neither a known name nor an existing path, or its format is unknown.
    case unknownDataset(spec: String, help: String)
    /// An option value makes no sense (for example a test fraction of 1.5).
    case invalidOption(String)

    public var description: String {
        switch self {
        case let .notFound(path, help):
            return "\(path): no such file or folder" + (help.isEmpty ? "" : "; \(help)")
        case let .unreadable(file, reason):
            return "\(file): cannot be read: \(reason)"
        case let .truncated(file, detail):
            return "\(file): truncated: \(detail)"
        case let .wrongMagic(file, detail):
            return "\(file): wrong magic number: \(detail)"
        case let .malformed(file, detail):
            return "\(file): malformed: \(detail)"
        case let .corruptCompression(file, detail):
            return "\(file): corrupt compressed data: \(detail)"
        case let .unsupported(file, detail):
            return "\(file): unsupported: \(detail)"
        case let .mismatch(dataset, detail):
            return "\(dataset): mismatch: \(detail)"
        case let .notInstalled(name, help):
            return "dataset '\(name)' is not installed: \(help)"
        case let .unknownDataset(spec, help):
            return "'\(spec)' is not a known dataset: \(help)"
        case let .invalidOption(message):
            return "invalid dataset option: \(message)"
        }
    }
}
