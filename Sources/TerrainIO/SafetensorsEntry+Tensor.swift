import Foundation
import TerrainTensor

extension SafetensorsEntry {
    /// The entry's values as a tensor of the requested scalar type.
    ///
    /// Any dtype converts: F64, F32, F16 and BF16 by value (narrowing F64 to `Float` rounds),
    /// integers by value (64-bit integers beyond 2^24 or 2^53 round), and BOOL to 0 or 1. The
    /// entry's shape and byte count are checked first, since entries built in memory are not
    /// validated when they are made.
    public func tensor<T: TensorScalar>(as type: T.Type = T.self) throws -> Tensor<T> {
        if let problem = layoutProblem(shape: shape, dtype: dtype, actualBytes: data.count) {
            throw SafetensorsError(source: "tensor \(jsonQuoted(name))", problem: problem)
        }

        var result = Tensor<T>(uninitializedShape: shape)
        guard result.count > 0 else { return result }
        result.withUnsafeMutableBufferPointer { destination in
            data.withUnsafeBytes { raw in
                // Branch to concrete types so the decoding loops are specialized for them.
                if T.self == Float.self {
                    destination.withMemoryRebound(to: Float.self) { decode(raw, into: $0) }
                } else if T.self == Double.self {
                    destination.withMemoryRebound(to: Double.self) { decode(raw, into: $0) }
                } else {
                    decode(raw, into: destination)
                }
            }
        }
        return result
    }

    /// Converts `raw` (whose size has been checked against `destination`) element by element.
    private func decode<D: BinaryFloatingPoint>(_ raw: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<D>) {
        if copiesVerbatim(into: D.self), let target = UnsafeMutableRawBufferPointer(destination).baseAddress,
           let bytes = raw.baseAddress {
            target.copyMemory(from: bytes, byteCount: raw.count)
            return
        }
        func load<I: FixedWidthInteger>(_ index: Int, as: I.Type) -> I {
            I(littleEndian: raw.loadUnaligned(fromByteOffset: index * MemoryLayout<I>.size, as: I.self))
        }
        for i in destination.indices {
            switch dtype {
            case .f64: destination[i] = D(Double(bitPattern: load(i, as: UInt64.self)))
            case .f32: destination[i] = D(Float(bitPattern: load(i, as: UInt32.self)))
            case .f16: destination[i] = D(HalfPrecision.float(fromBinary16: load(i, as: UInt16.self)))
            case .bf16: destination[i] = D(HalfPrecision.float(fromBFloat16: load(i, as: UInt16.self)))
            case .i64: destination[i] = D(load(i, as: Int64.self))
            case .i32: destination[i] = D(load(i, as: Int32.self))
            case .i16: destination[i] = D(load(i, as: Int16.self))
            case .i8: destination[i] = D(Int8(bitPattern: raw[i]))
            case .u8: destination[i] = D(raw[i])
            case .bool: destination[i] = raw[i] == 0 ? 0 : 1
            }
        }
    }

    /// Whether the file's bytes are already the host's representation of `D`, so that a memory
    /// copy converts them.
    private func copiesVerbatim<D>(into type: D.Type) -> Bool {
        #if _endian(little)
        return (dtype == .f32 && D.self == Float.self) || (dtype == .f64 && D.self == Double.self)
        #else
        return false
        #endif
    }
}
