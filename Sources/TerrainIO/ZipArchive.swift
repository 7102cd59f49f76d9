import Foundation

/// A zip archive read from memory, and a writer of uncompressed archives: the container of NPZ files.
///
/// The reader finds the end-of-central-directory record, reads the central directory (zip64
/// sizes and offsets included, as `np.savez` writes them), and extracts entries that are stored
/// or deflated, checking each entry's CRC-32. Encrypted entries, other compression methods and
/// archives split over several disks are reported as unsupported.
public struct ZipArchive: Sendable {
    /// One file of the archive, as the central directory describes it.
    public struct Entry: Sendable, Equatable {
        public let name: String
        /// 0 for stored, 8 for deflated.
        public let method: UInt16
        public let crc32: UInt32
        public let compressedSize: Int
        public let uncompressedSize: Int
        let localHeaderOffset: Int
        let flags: UInt16
    }

    /// The archive's files in central-directory order.
    public let entries: [Entry]
    private let data: Data
    private let file: String

    private static let localHeaderSignature: UInt32 = 0x0403_4B50
    private static let centralHeaderSignature: UInt32 = 0x0201_4B50
    private static let endSignature: UInt32 = 0x0605_4B50
    private static let zip64EndSignature: UInt32 = 0x0606_4B50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    private static let zip64ExtraID: UInt16 = 0x0001
    /// The 32-bit (and 16-bit) fields' "see the zip64 record" values.
    private static let overflow32: UInt32 = 0xFFFF_FFFF
    private static let overflow16: UInt16 = 0xFFFF

    /// Whether `data` starts like a zip archive (a local file header, or the end record of an empty one).
    public static func isZip(_ data: Data) -> Bool {
        data.starts(withBytes: [0x50, 0x4B, 0x03, 0x04]) || data.starts(withBytes: [0x50, 0x4B, 0x05, 0x06])
    }

    /// Reads the central directory of the archive in `data`.
    ///
    /// - Parameter file: the name used in error messages.
    public init(_ data: Data, file: String) throws {
        self.data = data
        self.file = file
        let end = try Self.findEndRecord(in: data, file: file)
        guard data.uint16LittleEndian(at: end + 4) == 0, data.uint16LittleEndian(at: end + 6) == 0 else {
            throw DatasetError.unsupported(file: file, detail: "zip archives split over several disks")
        }
        var entryCount = Int(data.uint16LittleEndian(at: end + 10) ?? 0)
        var directorySize = Int(data.uint32LittleEndian(at: end + 12) ?? 0)
        var directoryOffset = Int(data.uint32LittleEndian(at: end + 16) ?? 0)
        if entryCount == Int(Self.overflow16) || directorySize == Int(Self.overflow32)
            || directoryOffset == Int(Self.overflow32)
        {
            (entryCount, directorySize, directoryOffset) = try Self.zip64Directory(in: data, endRecord: end, file: file)
        }
        guard directoryOffset <= data.count, directorySize <= data.count - directoryOffset else {
            throw DatasetError.truncated(
                file: file,
                detail: "the central directory (\(directorySize) bytes at offset \(directoryOffset)) lies beyond the "
                    + "end of the \(data.count)-byte archive")
        }
        var entries: [Entry] = []
        var position = directoryOffset
        for index in 0..<entryCount {
            let (entry, next) = try Self.centralEntry(in: data, at: position, index: index, file: file)
            entries.append(entry)
            position = next
        }
        self.entries = entries
    }

    /// The uncompressed bytes of `entry`, after checking their size and CRC-32.
    public func contents(of entry: Entry) throws -> Data {
        let location = "\(file) entry '\(entry.name)'"
        guard entry.flags & 1 == 0 else {
            throw DatasetError.unsupported(file: location, detail: "the entry is encrypted")
        }
        guard data.uint32LittleEndian(at: entry.localHeaderOffset) == Self.localHeaderSignature,
              let nameLength = data.uint16LittleEndian(at: entry.localHeaderOffset + 26),
              let extraLength = data.uint16LittleEndian(at: entry.localHeaderOffset + 28) else {
            throw DatasetError.malformed(
                file: location, detail: "no local file header at offset \(entry.localHeaderOffset)")
        }
        let start = entry.localHeaderOffset + 30 + Int(nameLength) + Int(extraLength)
        guard let stored = data.bytes(at: start, count: entry.compressedSize) else {
            throw DatasetError.truncated(
                file: location,
                detail: "\(entry.compressedSize) compressed bytes should start at offset \(start) "
                    + "but the archive has \(data.count) bytes")
        }
        let contents: Data
        switch entry.method {
        case 0:
            contents = Data(stored)
        case 8:
            // The recorded size only sizes the first buffer, bounded by what deflate can reach
            // (about 1032:1), so a damaged directory cannot ask for an absurd allocation.
            let sizeHint = min(entry.uncompressedSize, entry.compressedSize * 1032 + 1024)
            contents = try Inflater.inflate(stored, windowBits: -15, sizeHint: sizeHint,
                                            joinMembers: false, file: location)
        default:
            throw DatasetError.unsupported(
                file: location, detail: "compression method \(entry.method); only stored (0) and deflated (8) entries are read")
        }
        guard contents.count == entry.uncompressedSize else {
            throw DatasetError.malformed(
                file: location,
                detail: "the directory says \(entry.uncompressedSize) bytes but the entry holds \(contents.count)")
        }
        guard Inflater.crc32(of: contents) == entry.crc32 else {
            throw DatasetError.corruptCompression(file: location, detail: "CRC-32 check failed")
        }
        return contents
    }

    /// The uncompressed bytes of the entry named `name`, or nil if there is none.
    public func contents(named name: String) throws -> Data? {
        try entries.first { $0.name == name }.map(contents(of:))
    }

    // MARK: Reading the directory

    /// The offset of the end-of-central-directory record, searched backwards over the comment.
    private static func findEndRecord(in data: Data, file: String) throws -> Int {
        let minimumSize = 22
        guard data.count >= minimumSize else {
            throw DatasetError.truncated(file: file, detail: "\(data.count) bytes, too few for a zip archive")
        }
        let lowest = max(0, data.count - minimumSize - Int(UInt16.max))
        var offset = data.count - minimumSize
        while offset >= lowest {
            if data.uint32LittleEndian(at: offset) == endSignature { return offset }
            offset -= 1
        }
        throw DatasetError.truncated(
            file: file, detail: "no end-of-central-directory record: the zip archive is cut short or damaged")
    }

    /// Entry count, directory size and directory offset from the zip64 end record.
    private static func zip64Directory(in data: Data, endRecord: Int, file: String) throws
        -> (count: Int, size: Int, offset: Int)
    {
        guard data.uint32LittleEndian(at: endRecord - 20) == zip64LocatorSignature,
              let recordOffset = data.uint64LittleEndian(at: endRecord - 12).flatMap({ Int(exactly: $0) }),
              data.uint32LittleEndian(at: recordOffset) == zip64EndSignature,
              let count = data.uint64LittleEndian(at: recordOffset + 32).flatMap({ Int(exactly: $0) }),
              let size = data.uint64LittleEndian(at: recordOffset + 40).flatMap({ Int(exactly: $0) }),
              let offset = data.uint64LittleEndian(at: recordOffset + 48).flatMap({ Int(exactly: $0) }) else {
            throw DatasetError.malformed(
                file: file, detail: "the end record points to a zip64 directory record that is missing or damaged")
        }
        return (count, size, offset)
    }

    /// The central-directory entry at `position` and the position of the next one.
    private static func centralEntry(in data: Data, at position: Int, index: Int, file: String) throws
        -> (Entry, next: Int)
    {
        guard data.uint32LittleEndian(at: position) == centralHeaderSignature,
              let flags = data.uint16LittleEndian(at: position + 8),
              let method = data.uint16LittleEndian(at: position + 10),
              let crc = data.uint32LittleEndian(at: position + 16),
              let compressed32 = data.uint32LittleEndian(at: position + 20),
              let uncompressed32 = data.uint32LittleEndian(at: position + 24),
              let nameLength = data.uint16LittleEndian(at: position + 28).map(Int.init),
              let extraLength = data.uint16LittleEndian(at: position + 30).map(Int.init),
              let commentLength = data.uint16LittleEndian(at: position + 32).map(Int.init),
              let offset32 = data.uint32LittleEndian(at: position + 42),
              let nameBytes = data.bytes(at: position + 46, count: nameLength),
              let extra = data.bytes(at: position + 46 + nameLength, count: extraLength) else {
            throw DatasetError.malformed(
                file: file, detail: "central directory entry \(index) at offset \(position) is damaged")
        }
        // Zip64 extra field: 64-bit values for exactly those fields whose 32-bit value overflowed.
        var uncompressed = Int(uncompressed32), compressed = Int(compressed32), offset = Int(offset32)
        if uncompressed32 == overflow32 || compressed32 == overflow32 || offset32 == overflow32 {
            guard let wide = zip64Field(in: extra) else {
                throw DatasetError.malformed(file: file, detail: "entry \(index) lacks the zip64 sizes it announces")
            }
            var cursor = 0
            func nextWide() throws -> Int {
                guard let value = wide.uint64LittleEndian(at: cursor).flatMap({ Int(exactly: $0) }) else {
                    throw DatasetError.malformed(file: file, detail: "entry \(index) has a short zip64 field")
                }
                cursor += 8
                return value
            }
            if uncompressed32 == overflow32 { uncompressed = try nextWide() }
            if compressed32 == overflow32 { compressed = try nextWide() }
            if offset32 == overflow32 { offset = try nextWide() }
        }
        let name = String(decoding: nameBytes, as: UTF8.self)
        let entry = Entry(name: name, method: method, crc32: crc, compressedSize: compressed,
                          uncompressedSize: uncompressed, localHeaderOffset: offset, flags: flags)
        return (entry, position + 46 + nameLength + extraLength + commentLength)
    }

    /// The payload of the zip64 extra field among `extra`'s fields, if present.
    private static func zip64Field(in extra: Data) -> Data? {
        var cursor = 0
        while let id = extra.uint16LittleEndian(at: cursor), let size = extra.uint16LittleEndian(at: cursor + 2) {
            if id == zip64ExtraID { return extra.bytes(at: cursor + 4, count: Int(size)) }
            cursor += 4 + Int(size)
        }
        return nil
    }

    // MARK: Writing

    /// An archive storing each `(name, contents)` uncompressed, in order.
    ///
    /// Timestamps are fixed (1980-01-01) so the same input gives the same bytes. Entries or
    /// offsets of 4 GiB or more are written with zip64 fields.
    public static func write(_ files: [(String, Data)]) -> Data {
        write(files, zip64Threshold: Int(overflow32))
    }

    /// The fields an entry's local header and its central-directory record both hold, in the
    /// order both hold them (APPNOTE 4.3.7 and 4.3.12, from "version needed to extract" to
    /// "extra field length"): UTF-8 names, stored (no compression), and the fixed timestamp
    /// 1980-01-01 00:00 so that the same input gives the same bytes. `size32` is the size, or
    /// 0xFFFFFFFF where a zip64 field holds it; compressed and uncompressed sizes are equal.
    private static func appendCommonHeaderFields(to data: inout Data, version: UInt16, crc: UInt32, size32: UInt32,
                                                 nameLength: Int, extraLength: Int) {
        let dosTime: UInt16 = 0, dosDate: UInt16 = (1 << 5) | 1
        data.appendLittleEndian(version)
        data.appendLittleEndian(UInt16(1 << 11))  // names are UTF-8
        data.appendLittleEndian(UInt16(0))        // stored
        data.appendLittleEndian(dosTime)
        data.appendLittleEndian(dosDate)
        data.appendLittleEndian(crc)
        data.appendLittleEndian(size32)
        data.appendLittleEndian(size32)
        data.appendLittleEndian(UInt16(nameLength))
        data.appendLittleEndian(UInt16(extraLength))
    }

    /// `write` with a chosen size from which zip64 fields are used (lowered by tests).
    static func write(_ files: [(String, Data)], zip64Threshold: Int) -> Data {
        var archive = Data()
        var directory = Data()
        for (name, contents) in files {
            let offset = archive.count
            let crc = Inflater.crc32(of: contents)
            let nameBytes = Array(name.utf8.prefix(Int(UInt16.max)))
            let bigSize = contents.count >= zip64Threshold, bigOffset = offset >= zip64Threshold
            let version: UInt16 = bigSize || bigOffset ? 45 : 20

            var localExtra = Data()
            if bigSize {
                localExtra.appendLittleEndian(zip64ExtraID)
                localExtra.appendLittleEndian(UInt16(16))
                localExtra.appendLittleEndian(UInt64(contents.count))
                localExtra.appendLittleEndian(UInt64(contents.count))
            }
            let size32 = bigSize ? overflow32 : UInt32(contents.count)
            archive.appendLittleEndian(localHeaderSignature)
            appendCommonHeaderFields(to: &archive, version: version, crc: crc, size32: size32,
                                     nameLength: nameBytes.count, extraLength: localExtra.count)
            archive.append(contentsOf: nameBytes)
            archive.append(localExtra)
            archive.append(contents)

            var centralExtra = Data()
            if bigSize || bigOffset {
                centralExtra.appendLittleEndian(zip64ExtraID)
                centralExtra.appendLittleEndian(UInt16((bigSize ? 16 : 0) + (bigOffset ? 8 : 0)))
                if bigSize {
                    centralExtra.appendLittleEndian(UInt64(contents.count))
                    centralExtra.appendLittleEndian(UInt64(contents.count))
                }
                if bigOffset { centralExtra.appendLittleEndian(UInt64(offset)) }
            }
            directory.appendLittleEndian(centralHeaderSignature)
            directory.appendLittleEndian(UInt16(3 << 8 | 45))  // made by Unix, zip 4.5
            appendCommonHeaderFields(to: &directory, version: version, crc: crc, size32: size32,
                                     nameLength: nameBytes.count, extraLength: centralExtra.count)
            directory.appendLittleEndian(UInt16(0))            // comment length
            directory.appendLittleEndian(UInt16(0))            // disk
            directory.appendLittleEndian(UInt16(0))            // internal attributes
            directory.appendLittleEndian(UInt32(0o100644) << 16)  // regular file, rw-r--r--
            directory.appendLittleEndian(bigOffset ? overflow32 : UInt32(offset))
            directory.append(contentsOf: nameBytes)
            directory.append(centralExtra)
        }

        let directoryOffset = archive.count
        archive.append(directory)
        let needsZip64 = files.count >= Int(overflow16) || directory.count >= zip64Threshold
            || directoryOffset >= zip64Threshold
        if needsZip64 {
            let recordOffset = archive.count
            archive.appendLittleEndian(zip64EndSignature)
            archive.appendLittleEndian(UInt64(44))  // size of the rest of the record
            archive.appendLittleEndian(UInt16(3 << 8 | 45))
            archive.appendLittleEndian(UInt16(45))
            archive.appendLittleEndian(UInt32(0))
            archive.appendLittleEndian(UInt32(0))
            archive.appendLittleEndian(UInt64(files.count))
            archive.appendLittleEndian(UInt64(files.count))
            archive.appendLittleEndian(UInt64(directory.count))
            archive.appendLittleEndian(UInt64(directoryOffset))
            archive.appendLittleEndian(zip64LocatorSignature)
            archive.appendLittleEndian(UInt32(0))
            archive.appendLittleEndian(UInt64(recordOffset))
            archive.appendLittleEndian(UInt32(1))
        }
        archive.appendLittleEndian(endSignature)
        archive.appendLittleEndian(UInt16(0))
        archive.appendLittleEndian(UInt16(0))
        archive.appendLittleEndian(needsZip64 ? overflow16 : UInt16(files.count))
        archive.appendLittleEndian(needsZip64 ? overflow16 : UInt16(files.count))
        archive.appendLittleEndian(needsZip64 ? overflow32 : UInt32(directory.count))
        archive.appendLittleEndian(needsZip64 ? overflow32 : UInt32(directoryOffset))
        archive.appendLittleEndian(UInt16(0))
        return archive
    }
}
