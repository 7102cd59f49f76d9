/// Gathering along an axis and its adjoint, elementwise selection and constant powers: what
/// ONNX's Gather (token embeddings, picking q/k/v), Slice, Where (attention masks), Sqrt and
/// Pow need, as plain loops over contiguous blocks.
extension CPUBackend {
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func gather<T: TensorScalar>(_ x: Tensor<T>, axis: Int, indices: [Int]) -> Tensor<T> {
        precondition(axis >= 0 && axis < x.rank, "gather: axis \(axis) of \(x.shape)")
        let n = x.shape[axis]
        precondition(indices.allSatisfy { $0 >= 0 && $0 < n }, "gather: an index is outside 0..<\(n)")
        var shape = x.shape
        shape[axis] = indices.count
        var y = Tensor<T>(uninitializedShape: shape)
        guard y.count > 0 else { return y }
        let (outer, inner) = aroundAxis(x.shape, axis)
        let xp = x.pointer, yp = y.mutablePointer()
        for o in 0..<outer {
            for (k, i) in indices.enumerated() {
                (yp + (o * indices.count + k) * inner).update(from: xp + (o * n + i) * inner, count: inner)
            }
        }
        return y
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func gatherBackward<T: TensorScalar>(_ gradient: Tensor<T>, axis: Int, indices: [Int], inputShape: [Int]) -> Tensor<T> {
        precondition(axis >= 0 && axis < inputShape.count, "gatherBackward: axis \(axis) of \(inputShape)")
        var expected = inputShape
        expected[axis] = indices.count
        precondition(gradient.shape == expected, "gatherBackward: gradient \(gradient.shape) for \(expected)")
        let n = inputShape[axis]
        precondition(indices.allSatisfy { $0 >= 0 && $0 < n }, "gatherBackward: an index is outside 0..<\(n)")
        var x = Tensor<T>(zeros: inputShape)
        guard x.count > 0, gradient.count > 0 else { return x }
        let (outer, inner) = aroundAxis(inputShape, axis)
        let gp = gradient.pointer, xp = x.mutablePointer()
        for o in 0..<outer {
            for (k, i) in indices.enumerated() {
                let source = gp + (o * indices.count + k) * inner, target = xp + (o * n + i) * inner
                for j in 0..<inner { target[j] += source[j] }
            }
        }
        return x
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func select<T: TensorScalar>(_ condition: [Bool], _ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T> {
        precondition(a.shape == b.shape && condition.count == a.count, "select: \(condition.count) conditions for \(a.shape) and \(b.shape)")
        var y = Tensor<T>(uninitializedShape: a.shape)
        let ap = a.pointer, bp = b.pointer, yp = y.mutablePointer()
        for i in 0..<condition.count { yp[i] = condition[i] ? ap[i] : bp[i] }
        return y
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func power<T: TensorScalar>(_ x: Tensor<T>, _ exponent: Double) -> Tensor<T> {
        var y = Tensor<T>(uninitializedShape: x.shape)
        let xp = x.pointer, yp = y.mutablePointer(), p = T(exponent)
        switch exponent {
        case 2: for i in 0..<x.count { yp[i] = xp[i] * xp[i] }
        case 1: for i in 0..<x.count { yp[i] = xp[i] }
        case 0.5: for i in 0..<x.count { yp[i] = xp[i].squareRoot() }
        case -1: for i in 0..<x.count { yp[i] = 1 / xp[i] }
        default:
            // Whole exponents through the integer power, which is defined for negative bases.
            if let whole = Int(exactly: exponent) {
                for i in 0..<x.count { yp[i] = T.pow(xp[i], whole) }
            } else {
                for i in 0..<x.count { yp[i] = T.pow(xp[i], p) }
            }
        }
        return y
    }
}
