import Foundation

/// Appends rows to a CSV file and, with the same fields, to a JSON-lines file, flushing each
/// row so that a killed run keeps everything it recorded.
public final class MetricsLog {
    public let columns: [String]
    private let csv: FileHandle
    private let jsonl: FileHandle?

    /// Creates (or truncates) `name.csv` and, if `jsonLines`, `name.jsonl` in `folder`.
    public init(folder: URL, name: String, columns: [String], jsonLines: Bool = true) throws {
        self.columns = columns
        csv = try Self.create(folder.appendingPathComponent("\(name).csv"))
        jsonl = jsonLines ? try Self.create(folder.appendingPathComponent("\(name).jsonl")) : nil
        try csv.write(contentsOf: Data((columns.joined(separator: ",") + "\n").utf8))
    }

    private static func create(_ url: URL) throws -> FileHandle {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw TrainingError.cannotWrite(url.path)
        }
        return try FileHandle(forWritingTo: url)
    }

    /// Values in column order; nil is written as an empty CSV cell and JSON null.
    public func append(_ values: [Double?]) throws {
        precondition(values.count == columns.count)
        let cells = values.map { $0.map(Self.format) ?? "" }
        try csv.write(contentsOf: Data((cells.joined(separator: ",") + "\n").utf8))
        if let jsonl {
            let pairs = zip(columns, values).map { "\"\($0)\": \($1.map(Self.jsonNumber) ?? "null")" }
            try jsonl.write(contentsOf: Data(("{" + pairs.joined(separator: ", ") + "}\n").utf8))
        }
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : "\(v)"
    }

    static func jsonNumber(_ v: Double) -> String { v.isFinite ? format(v) : "null" }

    deinit {
        try? csv.close()
        try? jsonl?.close()
    }
}
