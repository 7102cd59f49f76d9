/// Walks every index of `shape` in row-major order (the last axis fastest), calling
/// `body(i, offset)` with the index's position i and its offset Σₐ index[a]·strides[a] in another
/// layout. The offset is kept by an odometer: one addition per step, and where an axis wraps,
/// its whole span strides[a]·shape[a] taken back before the carry. Serial, hence deterministic:
/// transposes read with it and broadcast sums accumulate with it, and ONNX graphs broadcast
/// their integer tensors with it (hence `package`).
@inline(__always)
package func forEachStridedOffset(shape: [Int], strides: [Int], _ body: (_ i: Int, _ offset: Int) -> Void) {
    let rank = shape.count, count = shape.reduce(1, *)
    var index = [Int](repeating: 0, count: rank)
    var offset = 0
    for i in 0..<count {
        body(i, offset)
        var axis = rank - 1
        while axis >= 0 {
            index[axis] += 1
            offset += strides[axis]
            if index[axis] < shape[axis] { break }
            offset -= strides[axis] * shape[axis]
            index[axis] = 0
            axis -= 1
        }
    }
}
