/// NumPy broadcasting on the CPU: binary operations between tensors of compatible shapes and
/// the adjoint reduction back to an operand's shape.
extension CPUBackend {
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func broadcast<T: TensorScalar>(_ operation: BinaryOperation, _ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T> {
        switch operation {
        case .add: return broadcastApply(a, b) { $0 + $1 }
        case .subtract: return broadcastApply(a, b) { $0 - $1 }
        case .multiply: return broadcastApply(a, b) { $0 * $1 }
        case .divide: return broadcastApply(a, b) { $0 / $1 }
        }
    }

    @inline(__always)
    func broadcastApply<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>, _ f: (T, T) -> T) -> Tensor<T> {
        guard let shape = BroadcastShape.of(a.shape, b.shape) else {
            preconditionFailure("broadcast: shapes \(a.shape) and \(b.shape) are not compatible")
        }
        var y = Tensor<T>(uninitializedShape: shape)
        let ap = a.pointer, bp = b.pointer, yp = y.mutablePointer()
        if a.shape == b.shape {
            Parallel.forEach(range: y.count, grain: Self.elementwiseGrain) { r in
                for i in r { yp[i] = f(ap[i], bp[i]) }
            }
            return y
        }
        // Rows of the last axis; each row's start in a and b from its index over the other axes.
        let full = shape.isEmpty ? [1] : shape
        let sa = BroadcastShape.strides(of: a.shape, in: full), sb = BroadcastShape.strides(of: b.shape, in: full)
        let rank = full.count, inner = full[rank - 1], rows = inner == 0 ? 0 : y.count / inner
        let ai = sa[rank - 1], bi = sb[rank - 1]
        Parallel.forEach(range: rows, grain: max(1, Self.elementwiseGrain / max(inner, 1))) { range in
            for row in range {
                var rest = row, ia = 0, ib = 0
                for axis in stride(from: rank - 2, through: 0, by: -1) {
                    let i = rest % full[axis]
                    rest /= full[axis]
                    ia += i * sa[axis]; ib += i * sb[axis]
                }
                let out = yp + row * inner
                for j in 0..<inner { out[j] = f(ap[ia + j * ai], bp[ib + j * bi]) }
            }
        }
        return y
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func sum<T: TensorScalar>(_ x: Tensor<T>, toShape shape: [Int]) -> Tensor<T> {
        if x.shape == shape { return x }
        precondition(BroadcastShape.of(shape, x.shape) == x.shape, "sum: \(x.shape) is not a broadcast of \(shape)")
        let full = x.shape.isEmpty ? [1] : x.shape
        let strides = BroadcastShape.strides(of: shape, in: full)
        let target = shape.reduce(1, *)
        var acc = [Double](repeating: 0, count: target)
        let xp = x.pointer
        // One pass in x's order; serial, hence deterministic.
        forEachStridedOffset(shape: full, strides: strides) { i, offset in acc[offset] += Double(xp[i]) }
        return Tensor(shape: shape, scalars: acc.map { T($0) })
    }
}

/// Shapes under NumPy's broadcasting rule.
public enum BroadcastShape {
    /// The shape both broadcast to, or nil when some aligned dimensions differ and neither is 1.
    public static func of(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for k in 0..<rank {
            let da = k < rank - a.count ? 1 : a[k - (rank - a.count)]
            let db = k < rank - b.count ? 1 : b[k - (rank - b.count)]
            if da == db || db == 1 { result[k] = da } else if da == 1 { result[k] = db } else { return nil }
        }
        return result
    }

    /// Element strides of a row-major tensor of `shape` seen inside the broadcast shape `full`:
    /// 0 along axes it repeats (missing or of size 1).
    static func strides(of shape: [Int], in full: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: full.count)
        var step = 1
        for k in stride(from: full.count - 1, through: 0, by: -1) {
            let j = k - (full.count - shape.count)
            guard j >= 0 else { continue }
            strides[k] = shape[j] == 1 ? 0 : step
            step *= shape[j]
        }
        return strides
    }
}
