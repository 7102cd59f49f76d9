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

    /// Continues `name.csv` (and `name.jsonl`) of a resumed run: keeps the header and the first
    /// `rows` rows, drops what a stopped run wrote after them, and appends from there.
    /// - Throws: when a file is missing, has another header, or holds fewer than `rows` rows.
    public init(continuing folder: URL, name: String, columns: [String], rows: Int, jsonLines: Bool = true) throws {
        self.columns = columns
        csv = try Self.truncate(folder.appendingPathComponent("\(name).csv"), keepingLines: rows + 1,
                                header: columns.joined(separator: ","))
        jsonl = jsonLines ? try Self.truncate(folder.appendingPathComponent("\(name).jsonl"), keepingLines: rows, header: nil) : nil
    }

    private static func truncate(_ url: URL, keepingLines count: Int, header: String?) throws -> FileHandle {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TrainingError.invalidConfig("cannot resume: \(url.path) is missing")
        }
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if let header, lines.first.map({ String(decoding: $0, as: UTF8.self) }) != header {
            throw TrainingError.invalidConfig("cannot resume: \(url.path) does not start with the header \(header)")
        }
        // A complete line ends with a newline, so the last piece of the split is never one.
        guard lines.count - 1 >= count else {
            throw TrainingError.invalidConfig("cannot resume: \(url.path) has \(lines.count - 1) lines, the resume state expects \(count)")
        }
        let kept = lines.prefix(count).reduce(into: Data()) { $0.append(contentsOf: $1); $0.append(UInt8(ascii: "\n")) }
        do {
            try kept.write(to: url)
            let handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
            return handle
        } catch {
            throw TrainingError.cannotWrite(url.path)
        }
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
