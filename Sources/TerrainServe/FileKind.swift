/// What the server does with a file, from its name: the types it serves, and how it shows them.
public enum FileKind: String, Sendable, CaseIterable {
    /// `.h5`: a surface (opened in the viewer) or another HDF5 file of Terrain's.
    case hdf5
    case figure, report, table, text, export

    /// nil: not served (checkpoints, journals, anything unknown).
    public init?(fileName name: String) {
        let lower = name.lowercased()
        guard let dot = lower.lastIndex(of: ".") else { return nil }
        switch lower[lower.index(after: dot)...] {
        case "h5", "hdf5": self = .hdf5
        case "png", "svg", "pdf": self = .figure
        case "html", "htm": self = .report
        case "csv", "json", "jsonl": self = .table
        case "txt", "log", "md": self = .text
        case "npz", "vtp", "vts": self = .export
        default: return nil
        }
    }

    /// The Content-Type a file of this name is sent with.
    public static func contentType(of name: String) -> String {
        let lower = name.lowercased()
        let ext = lower.lastIndex(of: ".").map { String(lower[lower.index(after: $0)...]) } ?? ""
        switch ext {
        case "png": return "image/png"
        case "svg": return "image/svg+xml"
        case "pdf": return "application/pdf"
        case "html", "htm": return "text/html; charset=utf-8"
        case "csv": return "text/csv; charset=utf-8"
        case "json": return "application/json"
        case "jsonl": return "application/jsonl; charset=utf-8"
        case "txt", "log", "md": return "text/plain; charset=utf-8"
        case "h5", "hdf5": return "application/x-hdf5"
        case "vtp", "vts": return "application/xml"
        default: return "application/octet-stream"
        }
    }
}
