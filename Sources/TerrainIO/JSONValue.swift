/// A parsed JSON value that keeps an object's members in document order, repeats included.
///
/// Foundation's JSON readers hand back dictionaries, which lose both the order of a safetensors
/// header and any repeated tensor name; this representation keeps both so the reader can
/// report duplicates and validate each member exactly.
enum JSONValue {
    case null
    case bool(Bool)
    /// A number as written in the text; callers convert it to the type they need, so that
    /// `2.0` or `1e3` is never silently taken for an integer.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    /// The kind of value with an article, for error messages: "a string", "an array".
    var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The value itself when it is short (a number, a boolean), else its kind, for error messages.
    var briefDescription: String {
        switch self {
        case .number(let text): text.count <= 24 ? text : "a number"
        case .bool(let value): value ? "true" : "false"
        default: kindDescription
        }
    }

    /// The value as a non-negative integer that fits `Int`, or nil when it is anything else.
    var nonNegativeInteger: Int? {
        guard case .number(let text) = self, let value = Int(text), value >= 0 else { return nil }
        return value
    }

    /// The value as an integer that fits `Int` (possibly negative), or nil when it is anything else.
    var integer: Int? {
        guard case .number(let text) = self else { return nil }
        return Int(text)
    }
}

/// One `"key": value` pair of a JSON object.
struct JSONMember {
    var key: String
    var value: JSONValue
}
