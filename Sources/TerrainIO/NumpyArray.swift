import Foundation
import TerrainTensor

/// An n-dimensional array as NumPy stores it: a shape, an element type, and the elements'
/// bytes in C (row-major) order and little-endian byte order.
///
/// This is the exchange type of the NPY and NPZ readers and writers, usable outside datasets
/// (for example to export a loss surface that Python then plots).
public struct NumpyArray: Sendable, Equatable {
    public let shape: [Int]
    public let dtype: NumpyDType
    /// `count × dtype.byteSize` bytes, little-endian, row-major.
    public let bytes: Data

    /// An array over existing bytes; throws if their number does not match the shape and type.
    public init(shape: [Int], dtype: NumpyDType, bytes: Data) throws {
        guard let count = checkedElementCount(shape), let size = checkedElementCount([count, dtype.byteSize]),
              size == bytes.count else {
            throw DatasetError.malformed(
                file: "array", detail: "shape \(shape) of \(dtype) needs a different byte count than the \(bytes.count) given")
        }
        self.shape = shape
        self.dtype = dtype
        self.bytes = bytes
    }

    /// An array of `values`, which must number the product of `shape`.
    public init(_ values: [Float], shape: [Int]) { self.init(elements: values, shape: shape, dtype: .float32) }
    public init(_ values: [Double], shape: [Int]) { self.init(elements: values, shape: shape, dtype: .float64) }
    public init(_ values: [Int64], shape: [Int]) { self.init(elements: values, shape: shape, dtype: .int64) }
    public init(_ values: [Int32], shape: [Int]) { self.init(elements: values, shape: shape, dtype: .int32) }
    public init(_ values: [UInt8], shape: [Int]) { self.init(elements: values, shape: shape, dtype: .uint8) }

    /// The tensor's values and shape, as `float32` or `float64` according to its scalar type.
    public init<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>) {
        let bytes = tensor.withUnsafeBufferPointer { Data(buffer: $0) }
        shape = tensor.shape
        dtype = MemoryLayout<Scalar>.size == 8 ? .float64 : .float32
        self.bytes = bytes
    }

    private init<Element>(elements: [Element], shape: [Int], dtype: NumpyDType) {
        precondition(checkedElementCount(shape) == elements.count,
                     "NumpyArray: shape \(shape) needs \(checkedElementCount(shape) ?? -1) values, got \(elements.count)")
        self.shape = shape
        self.dtype = dtype
        bytes = elements.withUnsafeBufferPointer { Data(buffer: $0) }
    }

    /// The number of elements: the product of the shape.
    public var count: Int { shape.reduce(1, *) }

    /// The elements converted to `Float`, in row-major order.
    public func floats() -> [Float] { converted(Float.self) }

    /// The elements converted to `Double`, in row-major order.
    public func doubles() -> [Double] { converted(Double.self) }

    /// The elements as integers (booleans as 0 and 1), or nil for a floating-point array.
    public func integers() -> [Int64]? {
        guard dtype.isInteger else { return nil }
        return bytes.withUnsafeBytes { raw in
            switch (dtype.kind, dtype.byteSize) {
            case (.signedInteger, 1): raw.loadElements(Int8.self, count: count) { Int64($0) }
            case (.signedInteger, 2): raw.loadElements(Int16.self, count: count) { Int64($0) }
            case (.signedInteger, 4): raw.loadElements(Int32.self, count: count) { Int64($0) }
            case (.signedInteger, _): raw.loadElements(Int64.self, count: count) { $0 }
            case (.unsignedInteger, 2): raw.loadElements(UInt16.self, count: count) { Int64($0) }
            case (.unsignedInteger, 4): raw.loadElements(UInt32.self, count: count) { Int64($0) }
            case (.unsignedInteger, 8): raw.loadElements(UInt64.self, count: count) { Int64(truncatingIfNeeded: $0) }
            default: raw.loadElements(UInt8.self, count: count) { Int64($0) }
            }
        }
    }

    /// The elements as a `Float` tensor of the same shape.
    public func tensor() -> Tensor<Float> { Tensor(shape: shape, scalars: floats()) }

    private func converted<Target: BinaryFloatingPoint>(_: Target.Type) -> [Target] {
        bytes.withUnsafeBytes { raw in
            switch (dtype.kind, dtype.byteSize) {
            case (.float, 2): raw.loadElements(UInt16.self, count: count) { Target(floatFromHalf($0)) }
            case (.float, 4): raw.loadElements(Float.self, count: count) { Target($0) }
            case (.float, _): raw.loadElements(Double.self, count: count) { Target($0) }
            case (.signedInteger, 1): raw.loadElements(Int8.self, count: count) { Target($0) }
            case (.signedInteger, 2): raw.loadElements(Int16.self, count: count) { Target($0) }
            case (.signedInteger, 4): raw.loadElements(Int32.self, count: count) { Target($0) }
            case (.signedInteger, _): raw.loadElements(Int64.self, count: count) { Target($0) }
            case (.unsignedInteger, 2): raw.loadElements(UInt16.self, count: count) { Target($0) }
            case (.unsignedInteger, 4): raw.loadElements(UInt32.self, count: count) { Target($0) }
            case (.unsignedInteger, 8): raw.loadElements(UInt64.self, count: count) { Target($0) }
            default: raw.loadElements(UInt8.self, count: count) { Target($0) }
            }
        }
    }
}

extension UnsafeRawBufferPointer {
    /// `count` consecutive values of type `Element`, possibly unaligned, each transformed.
    func loadElements<Element: BitwiseCopyable, Result>(_: Element.Type, count: Int, _ transform: (Element) -> Result) -> [Result] {
        let stride = MemoryLayout<Element>.size
        return [Result](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count {
                (buffer.baseAddress! + i).initialize(to: transform(loadUnaligned(fromByteOffset: i * stride, as: Element.self)))
            }
            initialized = count
        }
    }
}

/// The value of an IEEE 754 half-precision number given by its bits.
func floatFromHalf(_ bits: UInt16) -> Float {
    let sign: UInt32 = UInt32(bits & 0x8000) << 16
    let exponent = Int(bits >> 10) & 0x1F
    let mantissa = UInt32(bits & 0x3FF)
    switch exponent {
    case 0:
        // Zero or subnormal: mantissa × 2⁻²⁴.
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    case 0x1F:
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    default:
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }
}
