/// What can be wrong with a landscape request or its files.
public enum LandscapeError: Error, CustomStringConvertible, Equatable {
    case invalidRequest(String)
    case unknownParameter(String, [String])
    case incompatibleFile(String, String)

    public var description: String {
        switch self {
        case .invalidRequest(let why): why
        case .unknownParameter(let name, let known):
            "no parameter named '\(name)'; the model has: \(known.prefix(12).joined(separator: ", "))\(known.count > 12 ? ", …" : "")"
        case .incompatibleFile(let path, let why): "\(path): \(why)"
        }
    }
}
