import CZlib
import Foundation

/// Gzip compression and decompression through the system zlib.
///
/// Dataset files are often shipped gzipped (`train-images-idx3-ubyte.gz`, `digits.csv.gz`);
/// readers call `decompressIfNeeded` so that a file is accepted whether or not it is compressed,
/// telling the two apart by the gzip magic bytes `1f 8b` rather than by the file name.
public enum Gzip {
    /// The two bytes every gzip member starts with.
    public static let magic: [UInt8] = [0x1f, 0x8b]

    /// Whether `data` starts with the gzip magic bytes.
    public static func isCompressed(_ data: Data) -> Bool { data.starts(withBytes: magic) }

    /// The inflated content of a gzip (or zlib) stream; concatenated gzip members are joined,
    /// and bytes after the last member that do not start another one are ignored, as `gzip` does.
    ///
    /// - Parameter file: the name used in error messages.
    /// - Throws: `DatasetError.corruptCompression` for damaged data, `.truncated` when the stream
    ///   ends before its end marker.
    public static func decompress(_ data: Data, file: String = "gzip data") throws -> Data {
        try Inflater.inflate(data, windowBits: 15 + 32, sizeHint: gzipSizeHint(data),
                             joinMembers: true, file: file)
    }

    /// `data` inflated if it starts with the gzip magic bytes, otherwise `data` itself.
    public static func decompressIfNeeded(_ data: Data, file: String) throws -> Data {
        isCompressed(data) ? try decompress(data, file: file) : data
    }

    /// A gzip stream holding `data` (one member, default compression level).
    public static func compress(_ data: Data, level: Int32 = Z_DEFAULT_COMPRESSION) throws -> Data {
        var stream = z_stream()
        let status = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                   ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            throw DatasetError.corruptCompression(file: "gzip output", detail: "zlib deflateInit2 failed (\(status))")
        }
        defer { deflateEnd(&stream) }
        var output = Data(count: Int(deflateBound(&stream, uLong(data.count))) + 64)
        let produced: Int = try data.withUnsafeBytes { input in
            try output.withUnsafeMutableBytes { out in
                stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = out.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(out.count)
                let result = deflate(&stream, Z_FINISH)
                guard result == Z_STREAM_END else {
                    throw DatasetError.corruptCompression(file: "gzip output", detail: "zlib deflate failed (\(result))")
                }
                return out.count - Int(stream.avail_out)
            }
        }
        output.count = produced
        return output
    }

    /// The uncompressed size recorded in the gzip trailer (modulo 2³²), bounded by the largest
    /// size the input could possibly inflate to, used only to size the first output buffer.
    private static func gzipSizeHint(_ data: Data) -> Int {
        let recorded = Int(data.uint32LittleEndian(at: data.count - 4) ?? 0)
        let largestPossible = data.count * 1032 + 1024
        return recorded > 0 ? min(recorded, largestPossible) : min(data.count * 4, largestPossible)
    }
}

/// A zlib `inflate` loop shared by gzip files and deflated zip entries.
enum Inflater {
    /// Inflates `data`.
    ///
    /// - Parameters:
    ///   - windowBits: `15 + 32` for gzip or zlib with automatic header detection, `-15` for the
    ///     raw deflate streams stored in zip archives.
    ///   - sizeHint: the expected output size; the buffer grows if it is too small.
    ///   - joinMembers: whether to continue after the end of a gzip member when another follows.
    static func inflate(_ data: Data, windowBits: Int32, sizeHint: Int, joinMembers: Bool,
                        file: String) throws -> Data {
        var stream = z_stream()
        let initStatus = inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else {
            throw DatasetError.corruptCompression(file: file, detail: "zlib inflateInit2 failed (\(initStatus))")
        }
        defer { inflateEnd(&stream) }

        var output = Data(count: max(sizeHint, 1024))
        var produced = 0
        var consumed = 0
        let inputCount = data.count

        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            guard let inputBase = input.bindMemory(to: Bytef.self).baseAddress else {
                throw DatasetError.truncated(file: file, detail: "the compressed stream is empty")
            }
            while true {
                if produced == output.count { output.count = output.count * 2 }
                let inputChunk = min(inputCount - consumed, Int(UInt32.max))
                let status: Int32 = output.withUnsafeMutableBytes { out in
                    let outputChunk = min(out.count - produced, Int(UInt32.max))
                    stream.next_in = UnsafeMutablePointer(mutating: inputBase + consumed)
                    stream.avail_in = uInt(inputChunk)
                    stream.next_out = out.bindMemory(to: Bytef.self).baseAddress! + produced
                    stream.avail_out = uInt(outputChunk)
                    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    produced += outputChunk - Int(stream.avail_out)
                    return status
                }
                consumed += inputChunk - Int(stream.avail_in)

                switch status {
                case Z_STREAM_END:
                    let rest = data.bytes(at: consumed, count: inputCount - consumed) ?? Data()
                    if joinMembers && Gzip.isCompressed(rest) {
                        inflateReset(&stream)
                        continue
                    }
                    return
                case Z_OK:
                    continue
                case Z_BUF_ERROR:
                    // No progress was possible: either the output is full (grow it and go on)
                    // or the input ran out before the end marker.
                    if produced == output.count { continue }
                    throw DatasetError.truncated(
                        file: file,
                        detail: "the compressed stream ends before its end marker (\(produced) bytes inflated so far)")
                case Z_DATA_ERROR:
                    let reason = stream.msg.map { String(cString: $0) } ?? "invalid data"
                    throw DatasetError.corruptCompression(file: file, detail: "\(reason) at compressed byte \(consumed)")
                case Z_MEM_ERROR:
                    throw DatasetError.corruptCompression(file: file, detail: "out of memory while inflating")
                case Z_NEED_DICT:
                    throw DatasetError.unsupported(file: file, detail: "the stream needs a preset dictionary")
                default:
                    throw DatasetError.corruptCompression(file: file, detail: "zlib inflate failed (\(status))")
                }
            }
        }
        output.count = produced
        return output
    }

    /// The CRC-32 that zip archives record for each entry.
    static func crc32(of data: Data) -> UInt32 {
        data.withUnsafeBytes { raw in
            var crc = CZlib.crc32(0, nil, 0)
            var offset = 0
            guard let base = raw.bindMemory(to: Bytef.self).baseAddress else { return UInt32(crc) }
            while offset < raw.count {
                let chunk = min(raw.count - offset, 1 << 30)
                crc = CZlib.crc32(crc, base + offset, uInt(chunk))
                offset += chunk
            }
            return UInt32(crc)
        }
    }
}
