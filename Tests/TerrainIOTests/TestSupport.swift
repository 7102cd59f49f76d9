import Foundation
import TerrainIO

/// A safetensors file assembled byte by byte, for feeding the reader malformed input:
/// a header-size field (the header's real length unless overridden), the header text and the
/// data buffer.
func rawSafetensors(header: String, buffer: [UInt8] = [], declaredHeaderSize: UInt64? = nil) -> Data {
    rawSafetensors(headerBytes: Array(header.utf8), buffer: buffer, declaredHeaderSize: declaredHeaderSize)
}

func rawSafetensors(headerBytes: [UInt8], buffer: [UInt8] = [], declaredHeaderSize: UInt64? = nil) -> Data {
    var data = Data()
    withUnsafeBytes(of: (declaredHeaderSize ?? UInt64(headerBytes.count)).littleEndian) { data.append(contentsOf: $0) }
    data.append(contentsOf: headerBytes)
    data.append(contentsOf: buffer)
    return data
}

/// The header-size field and JSON text of a serialized file.
func headerParts(of file: Data) -> (size: Int, text: String) {
    let bytes = [UInt8](file)
    var size = 0
    for i in (0..<8).reversed() { size = size << 8 | Int(bytes[i]) }
    return (size, String(decoding: bytes[8..<8 + size], as: UTF8.self))
}

/// Little-endian bytes of integers, for building entries of a given dtype by hand.
func littleEndianBytes<I: FixedWidthInteger>(_ values: [I]) -> Data {
    var data = Data()
    for value in values { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
    return data
}
