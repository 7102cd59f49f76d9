import Foundation

/// Bounds-checked reads of fixed-width integers from a byte buffer.
///
/// File headers come from untrusted files, so every read returns `nil` past the end instead of
/// trapping; readers turn that `nil` into a `DatasetError.truncated` that names the file.
/// Offsets are counted from the start of the buffer, whatever the `Data`'s own `startIndex`.
extension Data {
    /// The bytes `offset..<offset+count`, or nil if they are not all present.
    package func bytes(at offset: Int, count: Int) -> Data? {
        guard offset >= 0, count >= 0, offset <= self.count, count <= self.count - offset else { return nil }
        let start = startIndex + offset
        return self[start..<(start + count)]
    }

    package func uint8(at offset: Int) -> UInt8? {
        guard offset >= 0, offset < count else { return nil }
        return self[startIndex + offset]
    }

    package func uint16LittleEndian(at offset: Int) -> UInt16? { fixedWidth(at: offset).map(UInt16.init(littleEndian:)) }
    package func uint32LittleEndian(at offset: Int) -> UInt32? { fixedWidth(at: offset).map(UInt32.init(littleEndian:)) }
    package func uint64LittleEndian(at offset: Int) -> UInt64? { fixedWidth(at: offset).map(UInt64.init(littleEndian:)) }
    package func uint32BigEndian(at offset: Int) -> UInt32? { fixedWidth(at: offset).map(UInt32.init(bigEndian:)) }

    private func fixedWidth<T: FixedWidthInteger>(at offset: Int) -> T? {
        let size = MemoryLayout<T>.size
        guard offset >= 0, offset <= count - size else { return nil }
        return withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }

    /// Whether the buffer starts with `prefix`.
    package func starts(withBytes prefix: [UInt8]) -> Bool {
        count >= prefix.count && zip(self, prefix).allSatisfy { $0 == $1 }
    }
}

/// Appending fixed-width integers in a chosen byte order, for the writers.
extension Data {
    package mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    package mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}

