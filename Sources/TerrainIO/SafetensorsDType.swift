import TerrainTensor

/// The element types a safetensors file can declare, spelled as in the file's header.
///
/// Terrain computes in `Float` and `Double`, but reads every type here so that checkpoints saved
/// in half precision or with integer buffers (step counters, masks) can still be loaded.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case f64 = "F64"
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case i64 = "I64"
    case i32 = "I32"
    case i16 = "I16"
    case i8 = "I8"
    case u8 = "U8"
    case bool = "BOOL"

    /// Bytes one element occupies in the data buffer.
    public var byteSize: Int {
        switch self {
        case .f64, .i64: 8
        case .f32, .i32: 4
        case .f16, .bf16, .i16: 2
        case .i8, .u8, .bool: 1
        }
    }

    /// Whether the type holds floating-point numbers (as opposed to integers or booleans).
    public var isFloatingPoint: Bool {
        switch self {
        case .f64, .f32, .f16, .bf16: true
        case .i64, .i32, .i16, .i8, .u8, .bool: false
        }
    }

    /// The dtype that stores a tensor scalar type bit for bit: F32 for `Float`, F64 for `Double`.
    ///
    /// Chosen from the type's own `dtypeName`; the fallback on size only matters for a scalar
    /// type added to Terrain later that names a dtype this enum does not know.
    init<T: TensorScalar>(storing type: T.Type) {
        if let named = SafetensorsDType(rawValue: T.dtypeName),
           named.isFloatingPoint, named.byteSize == MemoryLayout<T>.size {
            self = named
        } else {
            switch MemoryLayout<T>.size {
            case 8: self = .f64
            case 2: self = .f16
            default: self = .f32
            }
        }
    }
}
