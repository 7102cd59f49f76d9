import Foundation

extension SafetensorsFile {
    /// The header key reserved for metadata; no tensor may use it as a name.
    static let metadataKey = "__metadata__"

    /// Largest header accepted when reading, and produced when writing: far above any real
    /// model's, small enough that a corrupt size field cannot make the reader allocate gigabytes.
    public static let maximumHeaderBytes = 100_000_000

    /// The complete file as bytes: header size, JSON header padded with spaces to a multiple of
    /// 8 bytes, then each entry's data in the order of `entries`.
    ///
    /// The JSON text is written by hand so that tensors appear in the header in the same order
    /// as their data; metadata comes first, sorted by key, so equal contents give equal bytes.
    public func serialized() throws -> Data {
        try serialized(source: "<memory>")
    }

    /// `serialized()`, with errors attributed to `source` (the path being written).
    func serialized(source: String) throws -> Data {
        try validateForWriting(source: source)

        var members: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { jsonQuoted($0.key) + ":" + jsonQuoted($0.value) }
            members.append(jsonQuoted(Self.metadataKey) + ":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for entry in entries {
            let end = offset + entry.data.count
            let shape = entry.shape.map(String.init).joined(separator: ",")
            members.append(jsonQuoted(entry.name)
                + ":{\"dtype\":\(jsonQuoted(entry.dtype.rawValue)),\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Array(("{" + members.joined(separator: ",") + "}").utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))
        guard header.count <= Self.maximumHeaderBytes else {
            throw SafetensorsError(
                source: source,
                problem: "the header would be \(header.count) bytes, over the \(Self.maximumHeaderBytes / 1_000_000) MB limit readers accept")
        }

        var file = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(contentsOf: header)
        for entry in entries { file.append(entry.data) }
        return file
    }

    /// Checks what the format requires of the entries before any byte is produced: distinct
    /// names other than `__metadata__`, and data sizes that match dtype and shape.
    private func validateForWriting(source: String) throws {
        var seen = Set<String>()
        for entry in entries {
            let name = jsonQuoted(entry.name)
            guard entry.name != Self.metadataKey else {
                throw SafetensorsError(source: source, problem: "a tensor cannot be named \(name): the name is reserved for metadata")
            }
            guard seen.insert(entry.name).inserted else {
                throw SafetensorsError(source: source, problem: "two tensors are named \(name)")
            }
            if let problem = layoutProblem(shape: entry.shape, dtype: entry.dtype, actualBytes: entry.data.count) {
                throw SafetensorsError(source: source, problem: "tensor \(name) \(problem)")
            }
        }
    }
}
