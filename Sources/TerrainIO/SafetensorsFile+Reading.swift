import Foundation

extension SafetensorsFile {
    /// Parses and validates a complete safetensors file held in memory.
    ///
    /// Everything the format requires is checked before anything is returned: the header size
    /// fits the file, the header is a UTF-8 JSON object, every tensor has a known dtype, a
    /// shape of non-negative integers and a byte range matching that shape, names are
    /// distinct, and the byte ranges tile the data buffer exactly, with no overlap, gap or
    /// trailing bytes. `source` names the bytes' origin in error messages.
    ///
    /// Each entry receives its own copy of its bytes, so `data` can be released afterwards.
    public init(data: Data, source: String = "<memory>") throws {
        func failure(_ problem: String) -> SafetensorsError {
            SafetensorsError(source: source, problem: problem)
        }

        guard data.count >= 8 else {
            throw failure("the file is \(data.count) bytes long, too short for the 8-byte header size that starts a safetensors file")
        }
        let declaredHeaderSize = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard declaredHeaderSize <= UInt64(Self.maximumHeaderBytes) else {
            throw failure("the header size field says \(declaredHeaderSize) bytes, over the \(Self.maximumHeaderBytes / 1_000_000) MB limit; this is not a safetensors file or it is corrupt")
        }
        let headerSize = Int(declaredHeaderSize)
        guard headerSize <= data.count - 8 else {
            throw failure("the header size field says \(headerSize) bytes, but only \(data.count - 8) follow it; the file is truncated or not a safetensors file")
        }

        let headerStart = data.startIndex + 8
        let bufferStart = headerStart + headerSize
        let header = try Self.parseHeader([UInt8](data[headerStart..<bufferStart]), failure: failure)
        let descriptors = try Self.validateLayout(of: header.tensors, bufferSize: data.count - 8 - headerSize, failure: failure)

        entries = descriptors.map { descriptor in
            SafetensorsEntry(
                name: descriptor.name, dtype: descriptor.dtype, shape: descriptor.shape,
                data: data.subdata(in: bufferStart + descriptor.begin..<bufferStart + descriptor.end))
        }
        metadata = header.metadata
    }

    /// A tensor as the header describes it, before its bytes are taken from the buffer.
    private struct TensorDescriptor {
        var name: String
        var dtype: SafetensorsDType
        var shape: [Int]
        /// Byte range within the data buffer that follows the header.
        var begin: Int
        var end: Int
        /// Position among the header's members, to order zero-length tensors deterministically.
        var headerIndex: Int
    }

    /// Decodes the header text into tensor descriptors (in header order) and metadata.
    private static func parseHeader(
        _ bytes: [UInt8], failure: (String) -> SafetensorsError
    ) throws -> (tensors: [TensorDescriptor], metadata: [String: String]) {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw failure("the header is not valid UTF-8")
        }
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes)
        } catch {
            throw failure("the header is not valid JSON: \(error)")
        }
        guard case .object(let members) = root else {
            throw failure("the header is \(root.kindDescription), not a JSON object mapping tensor names to descriptions")
        }

        var tensors: [TensorDescriptor] = []
        var metadata: [String: String] = [:]
        var seen = Set<String>()
        for (index, member) in members.enumerated() {
            guard seen.insert(member.key).inserted else {
                throw failure("the header names \(jsonQuoted(member.key)) more than once")
            }
            if member.key == metadataKey {
                metadata = try parseMetadata(member.value, failure: failure)
            } else {
                tensors.append(try parseDescriptor(name: member.key, member.value, headerIndex: index, failure: failure))
            }
        }
        return (tensors, metadata)
    }

    /// Decodes `__metadata__`: an object whose values are all strings (null counts as empty).
    private static func parseMetadata(_ value: JSONValue, failure: (String) -> SafetensorsError) throws -> [String: String] {
        if case .null = value { return [:] }
        guard case .object(let pairs) = value else {
            throw failure("\"__metadata__\" is \(value.kindDescription), not an object of strings")
        }
        var metadata: [String: String] = [:]
        for pair in pairs {
            let (key, item) = (pair.key, pair.value)
            guard case .string(let text) = item else {
                throw failure("metadata value for \(jsonQuoted(key)) is \(item.kindDescription), not a string")
            }
            guard metadata.updateValue(text, forKey: key) == nil else {
                throw failure("metadata key \(jsonQuoted(key)) appears more than once")
            }
        }
        return metadata
    }

    /// Decodes one tensor's `{"dtype", "shape", "data_offsets"}` description. Other members
    /// are ignored, as the reference implementation does.
    private static func parseDescriptor(
        name: String, _ value: JSONValue, headerIndex: Int, failure: (String) -> SafetensorsError
    ) throws -> TensorDescriptor {
        let tensor = "tensor \(jsonQuoted(name))"
        guard case .object(let fields) = value else {
            throw failure("\(tensor) is described by \(value.kindDescription), not an object with dtype, shape and data_offsets")
        }
        func field(_ key: String) throws -> JSONValue {
            let matches = fields.filter { $0.key == key }
            guard let match = matches.first else { throw failure("\(tensor) has no \"\(key)\"") }
            guard matches.count == 1 else { throw failure("\(tensor) gives \"\(key)\" more than once") }
            return match.value
        }

        guard case .string(let dtypeName) = try field("dtype") else {
            throw failure("\(tensor): \"dtype\" is \(try field("dtype").kindDescription), not a string")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            let known = SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            throw failure("\(tensor) has dtype \(jsonQuoted(dtypeName)), which is not supported (supported: \(known))")
        }

        guard case .array(let dimensions) = try field("shape") else {
            throw failure("\(tensor): \"shape\" is \(try field("shape").kindDescription), not an array of integers")
        }
        var shape: [Int] = []
        for dimension in dimensions {
            guard let size = dimension.integer else {
                throw failure("\(tensor): \"shape\" contains \(dimension.briefDescription), which is not an integer that fits in 64 bits")
            }
            shape.append(size)
        }
        guard case .array(let offsets) = try field("data_offsets"), offsets.count == 2,
              let begin = offsets[0].nonNegativeInteger, let end = offsets[1].nonNegativeInteger else {
            throw failure("\(tensor): \"data_offsets\" must be an array of two non-negative integers [begin, end]")
        }
        return TensorDescriptor(name: name, dtype: dtype, shape: shape, begin: begin, end: end, headerIndex: headerIndex)
    }

    /// Checks each tensor's byte range against its shape and the buffer, and that the ranges
    /// tile the buffer, as the format requires; returns the tensors in buffer order.
    private static func validateLayout(
        of tensors: [TensorDescriptor], bufferSize: Int, failure: (String) -> SafetensorsError
    ) throws -> [TensorDescriptor] {
        for tensor in tensors {
            let name = "tensor \(jsonQuoted(tensor.name))"
            guard tensor.begin <= tensor.end else {
                throw failure("\(name) has data_offsets [\(tensor.begin), \(tensor.end)], which begin after they end")
            }
            guard tensor.end <= bufferSize else {
                throw failure("\(name) has data_offsets [\(tensor.begin), \(tensor.end)] past the end of the \(bufferSize)-byte data buffer; the file is truncated or corrupt")
            }
            if let problem = layoutProblem(shape: tensor.shape, dtype: tensor.dtype, actualBytes: tensor.end - tensor.begin) {
                throw failure("\(name) \(problem)")
            }
        }

        let ordered = tensors.sorted { ($0.begin, $0.end, $0.headerIndex) < ($1.begin, $1.end, $1.headerIndex) }
        var covered = 0
        var previous: TensorDescriptor?
        for tensor in ordered {
            if tensor.begin > covered {
                throw failure("bytes \(covered)..<\(tensor.begin) of the data buffer belong to no tensor; tensor data must be contiguous")
            }
            if tensor.begin < covered, let previous {
                throw failure("tensor \(jsonQuoted(tensor.name)) at bytes \(tensor.begin)..<\(tensor.end) overlaps tensor \(jsonQuoted(previous.name)) at bytes \(previous.begin)..<\(previous.end)")
            }
            covered = tensor.end
            previous = tensor
        }
        guard covered == bufferSize else {
            throw failure("bytes \(covered)..<\(bufferSize) at the end of the data buffer belong to no tensor")
        }
        return ordered
    }
}
