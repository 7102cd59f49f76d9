/// The attributes of an HDF5 file as Terrain writes them: text and numbers, by name.
///
/// A file's metadata is a `Codable` value (`SurfaceMetadata`, `DirectionMetadata`,
/// `CurvatureMapMetadata`) whose coding keys are the attribute names; `FileAttributes(encoding:)`
/// turns it into attributes and `decode(_:)` reads it back, so every attribute is named and typed
/// in one place. The mapping follows the files Terrain has always written:
/// - `String` and `String`-backed enums: text attributes;
/// - whole numbers (`Int`, `UInt64`, …): text attributes in decimal (seeds: `terrain.seed = "123"`);
/// - `Double`: number attributes;
/// - `Bool`: the text "1" when true, no attribute when false;
/// - an optional that is nil: no attribute.
/// - a nested `Codable` struct (`DirectionOrigin`): its attributes beside its parent's, under
///   their own names (the property's key names nothing).
public struct FileAttributes: Equatable, Sendable {
    public var text: [String: String]
    public var numbers: [String: Double]

    public init(text: [String: String] = [:], numbers: [String: Double] = [:]) {
        self.text = text
        self.numbers = numbers
    }

    /// The attributes of `value`, one per stored property (see the type's rules).
    public init<T: Encodable>(encoding value: T) throws {
        let encoder = AttributeEncoder()
        try value.encode(to: encoder)
        self = encoder.storage.attributes
    }

    /// The value these attributes hold; attributes it does not name are ignored.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try T(from: AttributeDecoder(attributes: self, key: nil))
    }

    /// Both sets of `other` over these (`other` wins where a name is in both).
    public func merging(_ other: FileAttributes) -> FileAttributes {
        FileAttributes(text: text.merging(other.text) { $1 }, numbers: numbers.merging(other.numbers) { $1 })
    }
}

/// Shared by the encoder and its containers: the attributes written so far.
private final class AttributeStorage {
    var attributes = FileAttributes()
}

private struct AttributeEncoder: Encoder {
    var storage = AttributeStorage()
    /// The attribute a single value is written to (nil at the top level).
    var key: String? = nil
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(KeyedAttributes<Key>(storage: storage))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        preconditionFailure("file attributes are flat: a list cannot be an attribute")
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleAttribute(storage: storage, key: key) }
}

private struct KeyedAttributes<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let storage: AttributeStorage
    var codingPath: [any CodingKey] = []

    mutating func encodeNil(forKey key: Key) throws {}
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try value.encode(to: AttributeEncoder(storage: storage, key: key.stringValue))
    }
    mutating func nestedContainer<N: CodingKey>(keyedBy keyType: N.Type, forKey key: Key) -> KeyedEncodingContainer<N> {
        preconditionFailure("file attributes are flat: \(key.stringValue) cannot hold a nested value")
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        preconditionFailure("file attributes are flat: \(key.stringValue) cannot hold a list")
    }
    mutating func superEncoder() -> any Encoder { AttributeEncoder(storage: storage) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { AttributeEncoder(storage: storage) }
}

private struct SingleAttribute: SingleValueEncodingContainer {
    let storage: AttributeStorage
    let key: String?
    var codingPath: [any CodingKey] = []

    private func name() throws -> String {
        guard let key else { throw EncodingError.invalidValue((), .init(codingPath: [], debugDescription: "a single value is not a file's attributes")) }
        return key
    }
    private func text(_ value: String) throws { storage.attributes.text[try name()] = value }

    mutating func encodeNil() throws {}
    mutating func encode(_ value: Bool) throws { if value { try text("1") } }
    mutating func encode(_ value: String) throws { try text(value) }
    mutating func encode(_ value: Double) throws { storage.attributes.numbers[try name()] = value }
    mutating func encode(_ value: Float) throws { storage.attributes.numbers[try name()] = Double(value) }
    mutating func encode(_ value: Int) throws { try text(String(value)) }
    mutating func encode(_ value: Int8) throws { try text(String(value)) }
    mutating func encode(_ value: Int16) throws { try text(String(value)) }
    mutating func encode(_ value: Int32) throws { try text(String(value)) }
    mutating func encode(_ value: Int64) throws { try text(String(value)) }
    mutating func encode(_ value: UInt) throws { try text(String(value)) }
    mutating func encode(_ value: UInt8) throws { try text(String(value)) }
    mutating func encode(_ value: UInt16) throws { try text(String(value)) }
    mutating func encode(_ value: UInt32) throws { try text(String(value)) }
    mutating func encode(_ value: UInt64) throws { try text(String(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try value.encode(to: AttributeEncoder(storage: storage, key: key))
    }
}

private struct AttributeDecoder: Decoder {
    let attributes: FileAttributes
    let key: String?
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(KeyedAttributeReader<Key>(attributes: attributes))
    }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: codingPath, debugDescription: "file attributes hold no lists"))
    }
    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        guard let key else {
            throw DecodingError.typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "file attributes are named values"))
        }
        return SingleAttributeReader(attributes: attributes, key: key)
    }
}

private struct KeyedAttributeReader<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let attributes: FileAttributes
    var codingPath: [any CodingKey] = []
    var allKeys: [Key] { (Array(attributes.text.keys) + Array(attributes.numbers.keys)).compactMap(Key.init(stringValue:)) }

    func contains(_ key: Key) -> Bool {
        attributes.text[key.stringValue] != nil || attributes.numbers[key.stringValue] != nil
    }
    func decodeNil(forKey key: Key) throws -> Bool { !contains(key) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { attributes.text[key.stringValue] == "1" }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try T(from: AttributeDecoder(attributes: attributes, key: key.stringValue))
    }
    func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
        throw DecodingError.typeMismatch(type, .init(codingPath: codingPath, debugDescription: "file attributes are flat"))
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: codingPath, debugDescription: "file attributes hold no lists"))
    }
    func superDecoder() throws -> any Decoder { AttributeDecoder(attributes: attributes, key: nil) }
    func superDecoder(forKey key: Key) throws -> any Decoder { AttributeDecoder(attributes: attributes, key: nil) }
}

private struct SingleAttributeReader: SingleValueDecodingContainer {
    let attributes: FileAttributes
    let key: String
    var codingPath: [any CodingKey] = []

    private func mismatch<T>(_ type: T.Type, _ what: String) -> DecodingError {
        .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "attribute \(key): \(what)"))
    }
    private func text() throws -> String {
        guard let value = attributes.text[key] else { throw mismatch(String.self, "not a text attribute") }
        return value
    }
    private func whole<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard let value = T(try text()) else { throw mismatch(type, "not a whole number") }
        return value
    }

    func decodeNil() -> Bool { attributes.text[key] == nil && attributes.numbers[key] == nil }
    func decode(_ type: Bool.Type) throws -> Bool { attributes.text[key] == "1" }
    func decode(_ type: String.Type) throws -> String { try text() }
    func decode(_ type: Double.Type) throws -> Double {
        guard let value = attributes.numbers[key] else { throw mismatch(type, "not a number attribute") }
        return value
    }
    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func decode(_ type: Int.Type) throws -> Int { try whole(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try whole(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try whole(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try whole(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try whole(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try whole(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try whole(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try whole(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try whole(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try whole(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: AttributeDecoder(attributes: attributes, key: key)) }
}
