import Numerics
import CTerrainKernels

/// Softmax and log-softmax along one axis, their Jacobian products and the second-order term of
/// Hessian-vector products. Each (outer, inner) position holds one distribution along the axis;
/// sums are taken in Double.
extension CPUBackend {
    /// Runs `body(base, stride, length)` once per distribution along `axis` of `shape`: the
    /// distribution's elements are at base + j·stride for j < length = shape[axis]. Distributions
    /// are spread over threads (attention has one per query of every head); each is computed
    /// alone, in the same order, so the bits do not depend on the thread count.
    @inline(__always)
    func forEachDistribution(_ shape: [Int], axis: Int, _ body: (Int, Int, Int) -> Void) {
        precondition(axis >= 0 && axis < shape.count, "softmax: axis \(axis) of \(shape)")
        let (outer, inner) = aroundAxis(shape, axis)
        let length = shape[axis]
        Parallel.forEach(range: outer * inner, grain: max(1, Self.elementwiseGrain / max(length, 1))) { distributions in
            for d in distributions {
                let (o, i) = d.quotientAndRemainder(dividingBy: inner)
                body(o * length * inner + i, inner, length)
            }
        }
    }

    /// The length of the distributions when they are contiguous rows (`axis` the last one, of a
    /// non-empty tensor), the layout the Float kernels take; nil otherwise.
    func contiguousRowLength(_ shape: [Int], axis: Int) -> Int? {
        guard axis == shape.count - 1, let length = shape.last, length > 0, shape.reduce(1, *) > 0 else { return nil }
        return length
    }

    /// Runs `body(firstRow, rowCount)` over blocks of the `count / length` rows, spread over
    /// threads by size only (rows are independent, so any cut gives the same bits).
    @inline(__always)
    func forEachRowBlock(count: Int, length: Int, _ body: (Int, Int) -> Void) {
        Parallel.forEach(range: count / length, grain: max(1, Self.elementwiseGrain / length)) { rows in
            body(rows.lowerBound, rows.count)
        }
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func softmax<T: TensorScalar>(_ x: Tensor<T>, axis: Int, logarithm: Bool) -> Tensor<T> {
        var y = Tensor<T>(uninitializedShape: x.shape)
        let xp = x.pointer, yp = y.mutablePointer()
        forEachDistribution(x.shape, axis: axis) { base, stride, length in
            var maxV = -Double.infinity
            for j in 0..<length { maxV = max(maxV, Double(xp[base + j * stride])) }
            var sumExp = 0.0
            for j in 0..<length { sumExp += Double.exp(Double(xp[base + j * stride]) - maxV) }
            let logZ = maxV + Double.log(sumExp)
            for j in 0..<length {
                let v = Double(xp[base + j * stride]) - logZ
                yp[base + j * stride] = T(logarithm ? v : Double.exp(v))
            }
        }
        return y
    }

    /// `attentionSoftmax` on `rows` rows of `length` scores from x into y (which may be x): row r
    /// is the query at position (firstRow + r) % length. Single-threaded.
    @inline(__always)
    func attentionSoftmaxRows<T: TensorScalar>(_ xp: UnsafePointer<T>, _ yp: UnsafeMutablePointer<T>, rows: Int, length: Int,
                                               firstRow: Int, scale: T, causal: Bool) {
        if T.self == Float.self {
            terrain_softmax_rows_f32(floats(xp), mutableFloats(yp), rows, length, Float(scale), causal ? 1 : 0, firstRow)
            return
        }
        for r in 0..<rows {
            let x = xp + r * length, out = yp + r * length
            let valid = causal ? (firstRow + r) % length + 1 : length
            var maxV = -Double.infinity
            for j in 0..<valid { maxV = max(maxV, Double(scale * x[j])) }
            var sumExp = 0.0
            for j in 0..<valid { sumExp += Double.exp(Double(scale * x[j]) - maxV) }
            let logZ = maxV + Double.log(sumExp)
            for j in 0..<valid { out[j] = T(Double.exp(Double(scale * x[j]) - logZ)) }
            for j in valid..<length { out[j] = 0 }
        }
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func attentionSoftmax<T: TensorScalar>(_ scores: Tensor<T>, scale: T, causal: Bool) -> Tensor<T> {
        precondition(scores.rank >= 2, "attentionSoftmax needs scores [..., T, T], got \(scores.shape)")
        let length = scores.shape[scores.rank - 1]
        precondition(!causal || scores.shape[scores.rank - 2] == length,
                     "causal attention needs square scores [..., T, T], got \(scores.shape)")
        var y = Tensor<T>(uninitializedShape: scores.shape)
        guard y.count > 0 else { return y }
        let xp = scores.pointer, yp = y.mutablePointer()
        forEachRowBlock(count: scores.count, length: length) { first, count in
            attentionSoftmaxRows(xp + first * length, yp + first * length, rows: count, length: length,
                                 firstRow: first, scale: scale, causal: causal)
        }
        return y
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func softmaxJacobian<T: TensorScalar>(output y: Tensor<T>, _ v: Tensor<T>, axis: Int, logarithm: Bool,
                                                 transposed: Bool) -> Tensor<T> {
        precondition(y.shape == v.shape, "softmax Jacobian: output \(y.shape), vector \(v.shape)")
        var out = Tensor<T>(uninitializedShape: y.shape)
        let yp = y.pointer, vp = v.pointer, op = out.mutablePointer()
        if T.self == Float.self && !logarithm, let length = contiguousRowLength(y.shape, axis: axis) {
            forEachRowBlock(count: y.count, length: length) { first, rows in
                terrain_softmax_jacobian_rows_f32(floats(yp) + first * length, floats(vp) + first * length,
                                                  mutableFloats(op) + first * length, rows, length)
            }
            return out
        }
        forEachDistribution(y.shape, axis: axis) { base, stride, length in
            if !logarithm {
                // y ⊙ (v − ⟨y, v⟩), either way (the Jacobian is symmetric).
                var dot = 0.0
                for j in 0..<length { let k = base + j * stride; dot += Double(yp[k]) * Double(vp[k]) }
                for j in 0..<length { let k = base + j * stride; op[k] = T(Double(yp[k]) * (Double(vp[k]) - dot)) }
            } else if !transposed {
                // v − ⟨s, v⟩
                var dot = 0.0
                for j in 0..<length { let k = base + j * stride; dot += Double.exp(Double(yp[k])) * Double(vp[k]) }
                for j in 0..<length { let k = base + j * stride; op[k] = T(Double(vp[k]) - dot) }
            } else {
                // v − s·Σv
                var total = 0.0
                for j in 0..<length { total += Double(vp[base + j * stride]) }
                for j in 0..<length { let k = base + j * stride; op[k] = T(Double(vp[k]) - Double.exp(Double(yp[k])) * total) }
            }
        }
        return out
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func softmaxSecondOrder<T: TensorScalar>(output y: Tensor<T>, outputTangent yDot: Tensor<T>, gradient g: Tensor<T>,
                                                    axis: Int, logarithm: Bool) -> Tensor<T> {
        precondition(y.shape == yDot.shape && y.shape == g.shape, "softmax second order: shapes \(y.shape), \(yDot.shape), \(g.shape)")
        var out = Tensor<T>(uninitializedShape: y.shape)
        let yp = y.pointer, tp = yDot.pointer, gp = g.pointer, op = out.mutablePointer()
        if T.self == Float.self && !logarithm, let length = contiguousRowLength(y.shape, axis: axis) {
            forEachRowBlock(count: y.count, length: length) { first, rows in
                terrain_softmax_second_order_rows_f32(floats(yp) + first * length, floats(tp) + first * length,
                                                      floats(gp) + first * length, mutableFloats(op) + first * length,
                                                      rows, length)
            }
            return out
        }
        forEachDistribution(y.shape, axis: axis) { base, stride, length in
            if logarithm {
                // −(s ⊙ ẏ)·Σg
                var total = 0.0
                for j in 0..<length { total += Double(gp[base + j * stride]) }
                for j in 0..<length {
                    let k = base + j * stride
                    op[k] = T(-Double.exp(Double(yp[k])) * Double(tp[k]) * total)
                }
            } else {
                // ẏ ⊙ (g − ⟨g, y⟩) − y·⟨g, ẏ⟩
                var gy = 0.0, gt = 0.0
                for j in 0..<length {
                    let k = base + j * stride
                    gy += Double(gp[k]) * Double(yp[k]); gt += Double(gp[k]) * Double(tp[k])
                }
                for j in 0..<length {
                    let k = base + j * stride
                    op[k] = T(Double(tp[k]) * (Double(gp[k]) - gy) - Double(yp[k]) * gt)
                }
            }
        }
        return out
    }
}
