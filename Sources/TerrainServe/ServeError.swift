/// Why a request cannot be answered; each maps to an HTTP status and a short page.
public enum ServeError: Error, Equatable, CustomStringConvertible {
    /// Not valid percent-encoding, a NUL byte, a malformed query, no Host header: 400.
    case badRequest(String)
    /// Outside the served folder (`..`, a symbolic link pointing out): 403.
    case forbidden(String)
    /// No such file, a hidden name, or a type that is not served: 404.
    case notFound(String)
    /// The request loads more grid values than the server's limit (`--max-grid-points`): 413.
    case tooLarge(String)
    /// The Host header names a server other than this one (a DNS-rebinding page, a proxy's
    /// mistake): 421 Misdirected Request.
    case misdirected(String)
    /// The file exists but is not what the page needs (an .h5 that is no surface): 422.
    case unprocessable(String)
    /// The work did not finish in the time limit, every worker is busy, or the server is
    /// stopping: 503 (the request may succeed later).
    case unavailable(String)

    public var status: Int {
        switch self {
        case .badRequest: 400
        case .forbidden: 403
        case .notFound: 404
        case .tooLarge: 413
        case .misdirected: 421
        case .unprocessable: 422
        case .unavailable: 503
        }
    }

    public var description: String {
        switch self {
        case .badRequest(let why), .forbidden(let why), .notFound(let why), .tooLarge(let why), .misdirected(let why),
             .unprocessable(let why), .unavailable(let why): why
        }
    }
}
