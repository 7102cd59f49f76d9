import TerrainTensor

/// The number of data bytes a tensor of `shape` and `dtype` occupies, or nil when the shape is
/// invalid or the size overflows `Int`.
func byteCount(of shape: [Int], dtype: SafetensorsDType) -> Int? {
    guard let count = checkedElementCount(shape) else { return nil }
    let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
    return overflow ? nil : bytes
}

/// Why `actualBytes` bytes cannot hold a tensor of `shape` and `dtype`, as a phrase to follow
/// the tensor's name ("has a negative dimension in shape [-1]"), or nil when they can.
///
/// The one check of an entry's layout shared by reading, writing and conversion, so that all
/// three accept exactly the same entries.
func layoutProblem(shape: [Int], dtype: SafetensorsDType, actualBytes: Int) -> String? {
    if shape.contains(where: { $0 < 0 }) {
        return "has a negative dimension in shape \(describe(shape: shape))"
    }
    guard let expected = byteCount(of: shape, dtype: dtype) else {
        return "has shape \(describe(shape: shape)), too many elements to address"
    }
    guard actualBytes == expected else {
        return "holds \(actualBytes) bytes, but shape \(describe(shape: shape)) of \(dtype.rawValue) needs \(expected)"
    }
    return nil
}

/// A shape written the way Python prints it, for error messages: `[2, 3]`.
func describe(shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
