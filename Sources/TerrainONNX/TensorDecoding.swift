import Foundation

/// The contents of an ONNX `TensorProto` (an initializer or a Constant's value): real numbers
/// (float, double) or integers (int64, int32, int8, uint8, bool).
///
/// Values are read from `raw_data` (little-endian, packed) when present, else from the typed
/// field (`float_data`, `double_data`, `int64_data`, `int32_data`, which also holds the narrow
/// integer types). The element count must equal the product of `dims` exactly; external data and
/// other element types are refused with a clear error.
enum DecodedTensor {
    case reals(shape: [Int], values: [Double])
    case integers(IntegerTensor)

    /// The most elements one tensor may have (2³¹): far above any model Terrain handles, and a
    /// bound that keeps a corrupted `dims` from asking for absurd memory.
    static let maximumCount = 1 << 31

    init(_ t: Onnx_TensorProto) throws {
        if t.dataLocation == .external || !t.externalData.isEmpty {
            throw OperatorFailure("tensor '\(t.name)' keeps its data in an external file, which Terrain does not read")
        }
        if t.hasSegment { throw OperatorFailure("tensor '\(t.name)' is a segment of a larger tensor, which Terrain does not read") }
        var shape: [Int] = []
        var count = 1
        for d in t.dims {
            guard d >= 0, d <= Int64(Self.maximumCount) else { throw OperatorFailure("tensor '\(t.name)' has dimension \(d)") }
            shape.append(Int(d))
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(d))
            guard !overflow, product <= Self.maximumCount else {
                throw OperatorFailure("tensor '\(t.name)' has \(t.dims) elements: too many")
            }
            count = product
        }
        let raw = t.hasRawData ? t.rawData : nil
        func check(_ n: Int, _ field: String) throws {
            guard n == count else {
                throw OperatorFailure("tensor '\(t.name)' of shape \(shape) holds \(n) values in \(field), not \(count)")
            }
        }
        switch Onnx_TensorProto.DataType(rawValue: Int(t.dataType)) {
        case .float?:
            if let raw {
                guard raw.count == 4 * count else { throw OperatorFailure("tensor '\(t.name)': raw_data of \(raw.count) bytes for \(count) floats") }
                let values = raw.withUnsafeBytes { bytes in
                    (0..<count).map { Double(Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))) }
                }
                self = .reals(shape: shape, values: values)
            } else {
                try check(t.floatData.count, "float_data")
                self = .reals(shape: shape, values: t.floatData.map { Double($0) })
            }
        case .double?:
            if let raw {
                guard raw.count == 8 * count else { throw OperatorFailure("tensor '\(t.name)': raw_data of \(raw.count) bytes for \(count) doubles") }
                let values = raw.withUnsafeBytes { bytes in
                    (0..<count).map { Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))) }
                }
                self = .reals(shape: shape, values: values)
            } else {
                try check(t.doubleData.count, "double_data")
                self = .reals(shape: shape, values: t.doubleData)
            }
        case .int64?:
            if let raw {
                guard raw.count == 8 * count else { throw OperatorFailure("tensor '\(t.name)': raw_data of \(raw.count) bytes for \(count) int64 values") }
                let values = raw.withUnsafeBytes { bytes in
                    (0..<count).map { Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
                }
                self = .integers(IntegerTensor(shape: shape, values: values))
            } else {
                try check(t.int64Data.count, "int64_data")
                self = .integers(IntegerTensor(shape: shape, values: t.int64Data))
            }
        case .int32?:
            if let raw {
                guard raw.count == 4 * count else { throw OperatorFailure("tensor '\(t.name)': raw_data of \(raw.count) bytes for \(count) int32 values") }
                let values = raw.withUnsafeBytes { bytes in
                    (0..<count).map { Int64(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
                }
                self = .integers(IntegerTensor(shape: shape, values: values))
            } else {
                try check(t.int32Data.count, "int32_data")
                self = .integers(IntegerTensor(shape: shape, values: t.int32Data.map { Int64($0) }))
            }
        case .int8?, .uint8?, .bool?:
            let signed = Onnx_TensorProto.DataType(rawValue: Int(t.dataType)) == .int8
            if let raw {
                guard raw.count == count else { throw OperatorFailure("tensor '\(t.name)': raw_data of \(raw.count) bytes for \(count) bytes") }
                self = .integers(IntegerTensor(shape: shape, values: raw.map { signed ? Int64(Int8(bitPattern: $0)) : Int64($0) }))
            } else {
                try check(t.int32Data.count, "int32_data")
                self = .integers(IntegerTensor(shape: shape, values: t.int32Data.map { Int64($0) }))
            }
        default:
            let name = Onnx_TensorProto.DataType(rawValue: Int(t.dataType)).map { "\($0)" } ?? "\(t.dataType)"
            throw OperatorFailure("tensor '\(t.name)' has element type \(name); Terrain reads float, double, int64, int32, int8, uint8 and bool")
        }
    }
}
