/// A NumPy element type that the NPY reader and writer understand: floats of 2, 4 or 8 bytes,
/// signed and unsigned integers of 1, 2, 4 or 8 bytes, and booleans.
public struct NumpyDType: Sendable, Hashable, CustomStringConvertible {
    /// The family of values, spelled as in NumPy's type strings (`f`, `i`, `u`, `b`).
    public enum Kind: Character, Sendable {
        case float = "f"
        case signedInteger = "i"
        case unsignedInteger = "u"
        case boolean = "b"
    }

    public let kind: Kind
    /// Bytes per element.
    public let byteSize: Int

    public static let float16 = NumpyDType(kind: .float, byteSize: 2)
    public static let float32 = NumpyDType(kind: .float, byteSize: 4)
    public static let float64 = NumpyDType(kind: .float, byteSize: 8)
    public static let int8 = NumpyDType(kind: .signedInteger, byteSize: 1)
    public static let int16 = NumpyDType(kind: .signedInteger, byteSize: 2)
    public static let int32 = NumpyDType(kind: .signedInteger, byteSize: 4)
    public static let int64 = NumpyDType(kind: .signedInteger, byteSize: 8)
    public static let uint8 = NumpyDType(kind: .unsignedInteger, byteSize: 1)
    public static let uint16 = NumpyDType(kind: .unsignedInteger, byteSize: 2)
    public static let uint32 = NumpyDType(kind: .unsignedInteger, byteSize: 4)
    public static let uint64 = NumpyDType(kind: .unsignedInteger, byteSize: 8)
    public static let bool = NumpyDType(kind: .boolean, byteSize: 1)

    private init(kind: Kind, byteSize: Int) {
        self.kind = kind
        self.byteSize = byteSize
    }

    /// Whether values are integers or booleans (usable as class labels).
    public var isInteger: Bool { kind != .float }

    /// The little-endian NumPy type string, for example `<f4`, or `|u1` for single bytes.
    public var descr: String { (byteSize == 1 ? "|" : "<") + String(kind.rawValue) + String(byteSize) }

    public var description: String { descr }

    /// The type described by a NumPy type string such as `<f4`, `>i8` or `|b1`, and whether its
    /// bytes are big-endian; nil for anything else (objects, strings, structured types).
    static func parse(_ descr: String) -> (dtype: NumpyDType, bigEndian: Bool)? {
        var characters = Substring(descr)
        var bigEndian = false
        if let order = characters.first, "<>|=".contains(order) {
            bigEndian = order == ">"
            characters = characters.dropFirst()
        }
        guard let code = characters.first, let kind = Kind(rawValue: code),
              let size = Int(characters.dropFirst()) else { return nil }
        let dtype = NumpyDType(kind: kind, byteSize: size)
        let supported: Set<Int> = switch kind {
        case .float: [2, 4, 8]
        case .signedInteger, .unsignedInteger: [1, 2, 4, 8]
        case .boolean: [1]
        }
        guard supported.contains(size) else { return nil }
        return (dtype, bigEndian && size > 1)
    }
}
