import Foundation

/// Initializers whose bytes live in a file beside the model, as torch.onnx.export's default
/// exporter writes them (`model.onnx.data`): each names a `location` (a file name relative to the
/// model's folder), an `offset` and a `length` in bytes. They are read into `raw_data` before the
/// model is checked, so everything after sees ordinary tensors.
///
/// A location must be a plain relative path inside the model's folder (no `..`, not absolute),
/// and the bytes must lie inside the file; anything else is a malformed model, not a read
/// elsewhere on the disk.
enum ExternalData {
    static func load(into graph: inout Onnx_GraphProto, folder: URL, file: String) throws {
        var files: [String: Data] = [:]
        for k in graph.initializer.indices where graph.initializer[k].dataLocation == .external || !graph.initializer[k].externalData.isEmpty {
            var t = graph.initializer[k]
            func malformed(_ detail: String) -> ONNXError { .malformed(file: file, detail: "tensor '\(t.name)': \(detail)") }
            let entries = Dictionary(t.externalData.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            guard let location = entries["location"], !location.isEmpty, !location.hasPrefix("/"),
                  !location.split(separator: "/").contains("..") else {
                throw malformed("external data location '\(entries["location"] ?? "")' is not a file beside the model")
            }
            if files[location] == nil {
                do { files[location] = try Data(contentsOf: folder.appendingPathComponent(location)) } catch {
                    throw malformed("cannot read its external data file \(location): \(error.localizedDescription)")
                }
            }
            let bytes = files[location]!
            guard let offset = Int(entries["offset"] ?? "0"), offset >= 0, offset <= bytes.count else {
                throw malformed("external data offset \(entries["offset"] ?? "") is outside \(location) (\(bytes.count) bytes)")
            }
            let length = Int(entries["length"] ?? "") ?? (bytes.count - offset)
            guard length >= 0, length <= bytes.count - offset else {
                throw malformed("external data of \(length) bytes from offset \(offset) is outside \(location) (\(bytes.count) bytes)")
            }
            t.rawData = bytes.subdata(in: (bytes.startIndex + offset)..<(bytes.startIndex + offset + length))
            t.externalData = []
            t.dataLocation = .default
            graph.initializer[k] = t
        }
    }
}
