import Foundation
import TerrainTensor

/// One named tensor of a safetensors file: its element type, shape, and raw bytes.
///
/// The bytes are kept exactly as they appear in the file (little-endian, row-major), so an entry
/// of any dtype survives a read and a write unchanged even when Terrain cannot compute in it;
/// `tensor(as:)` converts to a `Tensor` when the values are needed.
public struct SafetensorsEntry: Sendable {
    public var name: String
    public var dtype: SafetensorsDType
    public var shape: [Int]
    /// Raw little-endian element bytes in row-major (C) order.
    public var data: Data

    /// An entry with the given raw contents, taken as they are; they are checked when the entry
    /// is written or converted.
    public init(name: String, dtype: SafetensorsDType, shape: [Int], data: Data) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    /// An entry holding a tensor's values bit for bit: F32 for `Float` tensors, F64 for `Double`.
    public init<T: TensorScalar>(name: String, tensor: Tensor<T>) {
        self.name = name
        self.dtype = SafetensorsDType(storing: T.self)
        self.shape = tensor.shape
        var bytes = tensor.withUnsafeBufferPointer { Data(buffer: $0) }
        #if _endian(big)
        bytes.reverseBytes(inGroupsOf: MemoryLayout<T>.size)
        #endif
        self.data = bytes
    }
}

#if _endian(big)
extension Data {
    /// Swaps native big-endian elements to the little-endian order of the file, or back.
    mutating func reverseBytes(inGroupsOf size: Int) {
        guard size > 1 else { return }
        withUnsafeMutableBytes { raw in
            var start = 0
            while start + size <= raw.count {
                raw[start..<start + size].reverse()
                start += size
            }
        }
    }
}
#endif
