import Foundation

/// An append-only log of finished grid points beside a surface file (`S.h5.journal`).
///
/// Each point is appended and flushed to disk as soon as it is computed, so a run killed at any
/// moment (even `kill -9`) loses at most the point in flight. The surface file itself is
/// rewritten only now and then; on resume, the file's points and the journal's are merged.
///
/// Layout: a text header line `terrain-journal 1 <fields> <fingerprint>\n`, then records of
/// (point: Int64, values: fields × Float64, checksum: UInt64), little-endian. A record cut short
/// by a kill, or one whose checksum fails, ends the replay.
public final class PointJournal {
    public let path: String
    public let fields: Int
    public let fingerprint: String
    private var handle: FileHandle?

    public init(path: String, fields: Int, fingerprint: String) {
        self.path = path
        self.fields = fields
        self.fingerprint = fingerprint
    }

    var header: Data { Data("terrain-journal 1 \(fields) \(fingerprint)\n".utf8) }
    var recordSize: Int { 8 * (fields + 2) }

    /// The records of an existing journal written for the same fingerprint; empty if there is
    /// none, or if it belongs to another request.
    public func replay() -> [(point: Int, values: [Double])] {
        guard let data = FileManager.default.contents(atPath: path), data.starts(with: header) else { return [] }
        var records: [(Int, [Double])] = []
        var offset = header.count
        while offset + recordSize <= data.count {
            let words = (0..<(fields + 2)).map { k in
                data[(offset + 8 * k)..<(offset + 8 * k + 8)].withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
            }
            guard Self.checksum(words.dropLast()) == words.last! else { break }
            records.append((Int(Int64(bitPattern: words[0])), words[1...fields].map { Double(bitPattern: $0) }))
            offset += recordSize
        }
        return records
    }

    /// The records of an existing journal of this fingerprint, with the journal kept open after
    /// the last whole one (a record cut short by a kill is cut off, so appends follow whole
    /// records); an empty journal started when there is none of this fingerprint. For a journal
    /// that is the only copy of what it holds (a sampled surface's pilot), unlike `reset`.
    public func resume() throws -> [(point: Int, values: [Double])] {
        let records = replay()
        guard !records.isEmpty else {
            try reset()
            return []
        }
        close()
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.truncate(atOffset: UInt64(header.count + records.count * recordSize))
            try handle.seekToEnd()
            self.handle = handle
        } catch {
            throw LandscapeError.incompatibleFile(path, "cannot reopen the journal: \(error) (check permissions)")
        }
        return records
    }

    /// Starts an empty journal (after the surface file holds everything recorded so far).
    public func reset() throws {
        close()
        guard FileManager.default.createFile(atPath: path, contents: header) else {
            throw LandscapeError.incompatibleFile(path, "cannot create the journal (check permissions and free space)")
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle!.seekToEnd()
    }

    /// Appends one finished point and flushes it to disk.
    public func append(point: Int, values: [Double]) throws {
        precondition(values.count == fields)
        if handle == nil { try reset() }
        var words = [UInt64(bitPattern: Int64(point))] + values.map(\.bitPattern)
        words.append(Self.checksum(words[...]))
        var bytes = Data(capacity: recordSize)
        for w in words { withUnsafeBytes(of: w.littleEndian) { bytes.append(contentsOf: $0) } }
        do {
            try handle!.write(contentsOf: bytes)
            try handle!.synchronize()
        } catch {
            throw LandscapeError.incompatibleFile(path, "cannot append to the journal: \(error) (is the disk full?)")
        }
    }

    public func close() {
        try? handle?.close()
        handle = nil
    }

    public func remove() {
        close()
        unlink(path)
    }

    /// FNV-1a over the words' bytes (`FingerprintHasher`).
    static func checksum(_ words: ArraySlice<UInt64>) -> UInt64 {
        var h = FingerprintHasher()
        for w in words { h.mix(w) }
        return h.value
    }
}
