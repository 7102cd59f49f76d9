/// Moving elements without arithmetic: concatenation and splitting along any axis, transposes.
extension CPUBackend {
    /// (product of the axes before `axis`, product of those after it) of a shape.
    @inline(__always)
    func aroundAxis(_ shape: [Int], _ axis: Int) -> (outer: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[(axis + 1)...].reduce(1, *))
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func concatenate<T: TensorScalar>(_ parts: [Tensor<T>], axis: Int) -> Tensor<T> {
        precondition(!parts.isEmpty && axis >= 0 && axis < parts[0].rank, "concatenate: axis \(axis) of \(parts.map(\.shape))")
        var shape = parts[0].shape
        for p in parts {
            var a = p.shape, b = shape
            precondition(a.count == b.count, "concatenate: ranks differ in \(parts.map(\.shape))")
            a[axis] = 0; b[axis] = 0
            precondition(a == b, "concatenate: shapes \(parts.map(\.shape)) differ outside axis \(axis)")
        }
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        var y = Tensor<T>(uninitializedShape: shape)
        let yp = y.mutablePointer()
        let (outer, inner) = aroundAxis(shape, axis)
        let rowLength = shape[axis] * inner
        var offset = 0
        for p in parts {
            let block = p.shape[axis] * inner, src = p.pointer
            for o in 0..<outer { (yp + o * rowLength + offset).update(from: src + o * block, count: block) }
            offset += block
        }
        return y
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func split<T: TensorScalar>(_ x: Tensor<T>, axis: Int, sizes: [Int]) -> [Tensor<T>] {
        precondition(axis >= 0 && axis < x.rank && sizes.reduce(0, +) == x.shape[axis],
                     "split: sizes \(sizes) along axis \(axis) of \(x.shape)")
        let (outer, inner) = aroundAxis(x.shape, axis)
        let rowLength = x.shape[axis] * inner
        var offset = 0
        return sizes.map { size in
            var shape = x.shape
            shape[axis] = size
            var part = Tensor<T>(uninitializedShape: shape)
            let pp = part.mutablePointer(), block = size * inner
            for o in 0..<outer { (pp + o * block).update(from: x.pointer + o * rowLength + offset, count: block) }
            offset += block
            return part
        }
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func transpose<T: TensorScalar>(_ x: Tensor<T>, permutation: [Int]) -> Tensor<T> {
        precondition(permutation.count == x.rank && Set(permutation) == Set(0..<x.rank),
                     "transpose: \(permutation) is not a permutation of the axes of \(x.shape)")
        let shape = permutation.map { x.shape[$0] }
        var y = Tensor<T>(uninitializedShape: shape)
        guard y.count > 0 else { return y }
        var sourceStrides = [Int](repeating: 1, count: x.rank)
        for k in stride(from: x.rank - 2, through: 0, by: -1) { sourceStrides[k] = sourceStrides[k + 1] * x.shape[k + 1] }
        // y's axis k steps through x with x's stride of axis permutation[k].
        let strides = permutation.map { sourceStrides[$0] }
        let xp = x.pointer, yp = y.mutablePointer()
        let run = shape[shape.count - 1]
        if strides[strides.count - 1] == 1 && run >= 8 {
            // The last axis stays last (attention's heads: [B, T, H, D] ↔ [B, H, T, D]): copy whole
            // runs of it, rows of y spread over threads. Each row's source offset comes from its
            // own index, so any cut gives the same result.
            let outerShape = Array(shape.dropLast()), outerStrides = Array(strides.dropLast())
            Parallel.forEach(range: y.count / run, grain: max(1, Self.elementwiseGrain / run)) { rows in
                for row in rows {
                    var rest = row, offset = 0
                    for axis in stride(from: outerShape.count - 1, through: 0, by: -1) {
                        let (q, r) = rest.quotientAndRemainder(dividingBy: outerShape[axis])
                        offset += r * outerStrides[axis]
                        rest = q
                    }
                    (yp + row * run).update(from: xp + offset, count: run)
                }
            }
            return y
        }
        forEachStridedOffset(shape: shape, strides: strides) { i, offset in yp[i] = xp[offset] }
        return y
    }
}
