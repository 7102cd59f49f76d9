/// The value of an HDF5 attribute, as `HDF5File.attribute(_:on:)` reads it.
///
/// Strings may be stored with variable or fixed length; floating-point scalars read as `double`,
/// integer scalars as `int`, and arrays of either (of any rank, flattened) as `doubles`.
public enum HDF5AttributeValue: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case double(Double)
    case int(Int)
    case doubles([Double])

    /// The text, when the attribute is a string.
    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The number, when the attribute is a scalar (an integer converted to `Double`).
    public var double: Double? {
        switch self {
        case .double(let value): return value
        case .int(let value): return Double(value)
        default: return nil
        }
    }

    /// The integer, when the attribute is an integer scalar.
    public var int: Int? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// The numbers, when the attribute is an array (or a scalar, as one element).
    public var doubles: [Double]? {
        switch self {
        case .doubles(let values): return values
        case .double(let value): return [value]
        case .int(let value): return [Double(value)]
        case .string: return nil
        }
    }

    public var description: String {
        switch self {
        case .string(let value): return jsonQuoted(value)
        case .double(let value): return "\(value)"
        case .int(let value): return "\(value)"
        case .doubles(let values): return "[" + values.map { "\($0)" }.joined(separator: ", ") + "]"
        }
    }
}
