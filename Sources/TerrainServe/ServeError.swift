/// Why a request cannot be answered; each maps to an HTTP status and a short page.
public enum ServeError: Error, Equatable, CustomStringConvertible {
    /// Not valid percent-encoding, a NUL byte, a malformed query: 400.
    case badRequest(String)
    /// Outside the served folder (`..`, a symbolic link pointing out): 403.
    case forbidden(String)
    /// No such file, a hidden name, or a type that is not served: 404.
    case notFound(String)
    /// The file exists but is not what the page needs (an .h5 that is no surface): 422.
    case unprocessable(String)

    public var status: Int {
        switch self {
        case .badRequest: 400
        case .forbidden: 403
        case .notFound: 404
        case .unprocessable: 422
        }
    }

    public var description: String {
        switch self {
        case .badRequest(let why), .forbidden(let why), .notFound(let why), .unprocessable(let why): why
        }
    }
}
