import CHDF5
import Foundation

/// Everything a read-only `HDF5File` can be asked, read by the child process of `HDF5FileCheck`
/// (`CHDF5Check`'s snapshot, whose encoding `hdf5_check.h` gives): the objects at every link
/// path, every object's attributes, every dataset's type, shape and values, and the library's
/// reason wherever a read failed. The readers answer from it, with the messages they would give
/// reading the file themselves, so the HDF5 library never parses a file's content in the
/// calling process.
struct HDF5Snapshot: Sendable {
    /// What a link leads to.
    enum Kind: UInt8, Sendable { case group = 0, dataset = 1, other = 2 }

    /// A dataset's or an attribute's type, shape and values.
    struct Value: Sendable {
        var typeClass: H5T_class_t
        var isVariableString: Bool
        var typeSize: Int
        /// nil: no readable shape; `isNull`: a null dataspace (no data at all).
        var shape: [Int]?
        var isNull: Bool
        var content: Content
    }

    enum Content: Sendable {
        case doubles([Double])
        case strings([String])
        case integer(Int64)
        /// The library could not read the values; its reason.
        case failed(String)
        /// Not read: no values, more than the limit, or a type the readers refuse.
        case notRead
        /// Larger than the snapshot keeps: read on demand by another child (`HDF5FileCheck`).
        case deferred
    }

    /// An attribute as the child found it.
    enum Attribute: Sendable {
        case absent
        case value(Value)
        case lookupFailed(String)
        case openFailed(String)
        case unreadable(String)
    }

    /// Why the file could not be opened, when it could not.
    var openFailure: String?
    /// The file as it was when read (to tell whether it changed before a deferred read).
    var identity: HDF5FileCheck.Identity?
    /// Link paths ("/a/b") to what they lead to.
    var kinds: [String: Kind] = [:]
    /// Groups whose links could not all be listed, and why.
    var listingFailures: [String: String] = [:]
    /// Each object's attribute names, or why they could not be listed.
    var attributeNames: [String: Result<[String], SnapshotReason>] = [:]
    var attributes: [String: [String: Attribute]] = [:]
    /// Each dataset's value, or why its type or shape could not be read.
    var datasets: [String: Result<Value, SnapshotReason>] = [:]

    /// A library reason carried as an error.
    struct SnapshotReason: Error, Sendable { var text: String }

    /// Parses the child's snapshot; nil when it is malformed or unfinished (the child stopped
    /// midway), which the caller reports as damage.
    init?(_ data: Data) {
        var reader = Reader(bytes: [UInt8](data))
        guard let parsed = try? Self.parse(&reader) else { return nil }
        self = parsed
    }

    private init() {}

    private static func parse(_ r: inout Reader) throws -> HDF5Snapshot {
        var s = HDF5Snapshot()
        while true {
            switch try r.byte() {
            case UInt8(ascii: "F"):
                s.openFailure = try r.text()
                return s
            case UInt8(ascii: "E"):
                return s
            case UInt8(ascii: "N"):
                let object = try r.text()
                if try r.byte() == 1 {
                    let count = try r.count()
                    s.attributeNames[object] = .success(try (0..<count).map { _ in try r.text() })
                } else {
                    s.attributeNames[object] = .failure(SnapshotReason(text: try r.text()))
                }
            case UInt8(ascii: "A"):
                let object = try r.text(), name = try r.text()
                let attribute: Attribute
                switch try r.byte() {
                case 0: attribute = .absent
                case 1: attribute = .value(try value(&r))
                case 2: attribute = .lookupFailed(try r.text())
                case 3: attribute = .openFailed(try r.text())
                case 4: attribute = .unreadable(try r.text())
                default: throw Reader.Malformed()
                }
                s.attributes[object, default: [:]][name] = attribute
            case UInt8(ascii: "G"):
                let group = try r.text()
                if try r.byte() == 0 { s.listingFailures[group] = try r.text() }
            case UInt8(ascii: "L"):
                let path = try r.text()
                guard let kind = Kind(rawValue: try r.byte()) else { throw Reader.Malformed() }
                s.kinds[path] = kind
            case UInt8(ascii: "D"):
                let path = try r.text()
                s.datasets[path] = try r.byte() == 1 ? .success(try value(&r)) : .failure(SnapshotReason(text: try r.text()))
            default:
                throw Reader.Malformed()
            }
        }
    }

    private static func value(_ r: inout Reader) throws -> Value {
        let typeClass = H5T_class_t(rawValue: Int32(truncatingIfNeeded: try r.integer()))
        let variable = try r.byte() == 1
        let size = try r.integer()
        let rank = try r.integer()
        guard rank >= -2, rank <= 32 else { throw Reader.Malformed() }
        var shape: [Int]? = nil
        if rank >= 0 {
            shape = try (0..<Int(rank)).map { _ in
                let d = try r.integer()
                guard d >= 0 else { throw Reader.Malformed() }
                return Int(d)
            }
        }
        let content: Content
        switch try r.byte() {
        case 0:
            let count = try r.count()
            content = .doubles(try r.doubles(count))
        case 1:
            let count = try r.count()
            content = .strings(try (0..<count).map { _ in try r.text() })
        case 2: content = .integer(try r.integer())
        case 3: content = .failed(try r.text())
        case 4: content = .notRead
        case 5: content = .deferred
        default: throw Reader.Malformed()
        }
        return Value(typeClass: typeClass, isVariableString: variable, typeSize: Int(max(size, 0)), shape: shape,
                     isNull: rank == -1, content: content)
    }

    /// Bounds-checked reading of the snapshot's bytes.
    struct Reader {
        struct Malformed: Error {}
        let bytes: [UInt8]
        var offset = 0

        mutating func byte() throws -> UInt8 {
            guard offset < bytes.count else { throw Malformed() }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func integer() throws -> Int64 {
            guard bytes.count - offset >= 8 else { throw Malformed() }
            defer { offset += 8 }
            return bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: Int64.self) }
        }

        /// A count of items of at least one byte each that the rest of the snapshot can hold.
        mutating func count() throws -> Int {
            let n = try integer()
            guard n >= 0, n <= Int64(bytes.count - offset) else { throw Malformed() }
            return Int(n)
        }

        mutating func text() throws -> String {
            let n = try count()
            defer { offset += n }
            return String(decoding: bytes[offset..<(offset + n)], as: UTF8.self)  // invalid UTF-8 becomes U+FFFD
        }

        mutating func doubles(_ n: Int) throws -> [Double] {
            guard n <= (bytes.count - offset) / 8 else { throw Malformed() }
            defer { offset += 8 * n }
            return bytes.withUnsafeBytes { raw in
                (0..<n).map { raw.loadUnaligned(fromByteOffset: offset + 8 * $0, as: Double.self) }
            }
        }
    }

    // MARK: - Answers

    /// What `path` (normalized) leads to, as `HDF5File.resolve` answers for an open file.
    func resolve(_ path: String) -> HDF5Object {
        if path == "/" { return .group }
        let components = path.split(separator: "/")
        var prefix = ""
        for (index, component) in components.enumerated() {
            prefix += "/" + component
            guard let kind = kinds[prefix] else { return .missing }
            let object: HDF5Object = kind == .group ? .group : kind == .dataset ? .dataset : .other
            if index < components.count - 1, object != .group { return .blocked(by: prefix) }
            if index == components.count - 1 { return object }
        }
        return .missing
    }

    /// The names of the links directly inside `group` (normalized) leading to `kind`.
    func children(of group: String, kind: Kind) -> [String] {
        let prefix = group == "/" ? "/" : group + "/"
        return kinds.compactMap { path, k in
            guard k == kind, path.hasPrefix(prefix) else { return nil }
            let name = path.dropFirst(prefix.count)
            return name.contains("/") ? nil : String(name)
        }
    }
}
