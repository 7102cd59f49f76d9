import TerrainTensor

/// MatMul of stacks of matrices, as attention computes scores q·kᵀ and mixes values:
/// A [..., m, k] · B [..., k, n] = Y [..., m, n], the leading (batch) axes broadcast as in NumPy.
///
/// Bilinear: Ẏ = Ȧ·B + A·Ḃ; ∂A = Σ g·Bᵀ, ∂B = Σ Aᵀ·g (Σ over the axes broadcasting repeated);
/// R{∂A} = Σ (ġ·Bᵀ + g·Ḃᵀ), R{∂B} = Σ (Aᵀ·ġ + Ȧᵀ·g).
enum BatchedMatrixProduct {
    struct Layout {
        var batch: [Int]
        var m: Int, k: Int, n: Int
        var count: Int { batch.reduce(1, *) }
    }

    static func layout(_ a: [Int], _ b: [Int]) throws -> Layout {
        guard a.count >= 2, b.count >= 2 else { throw OperatorFailure("MatMul of a vector (\(a) · \(b)) is not supported") }
        let (m, k) = (a[a.count - 2], a[a.count - 1]), (kb, n) = (b[b.count - 2], b[b.count - 1])
        guard k == kb else { throw OperatorFailure("inner dimensions differ: A \(a), B \(b)") }
        guard let batch = BroadcastShape.of(Array(a.dropLast(2)), Array(b.dropLast(2))) else {
            throw OperatorFailure("the batch axes of \(a) and \(b) do not broadcast")
        }
        _ = try elementCount(batch + [m, n])
        return Layout(batch: batch, m: m, k: k, n: n)
    }

    /// op(A)·op(B) for each matrix of stacks [count, rows, columns] (equal counts).
    private static func stacked<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>, transposeA: Bool, transposeB: Bool) -> Tensor<S> {
        let backend = Backends.current
        let count = a.shape[0]
        let rows = transposeA ? a.shape[2] : a.shape[1], columns = transposeB ? b.shape[1] : b.shape[2]
        // Empty stacks or matrices (a batch or a sum over nothing): zeros, without a kernel call.
        if count == 0 || rows == 0 || columns == 0 || a.shape[1] * a.shape[2] == 0 { return Tensor(zeros: [count, rows, columns]) }
        let ones = [Int](repeating: 1, count: count)
        let aParts = backend.split(a, axis: 0, sizes: ones), bParts = backend.split(b, axis: 0, sizes: ones)
        let products = zip(aParts, bParts).map { x, y -> Tensor<S> in
            let p = backend.matmul(x.reshaped(Array(x.shape.dropFirst())), y.reshaped(Array(y.shape.dropFirst())),
                                   transposeA: transposeA, transposeB: transposeB)
            return p.reshaped([1] + p.shape)
        }
        return backend.concatenate(products, axis: 0)
    }

    /// x repeated over the batch axes and seen as [count, rows, columns].
    private static func stack<S: TensorScalar>(_ x: Tensor<S>, _ l: Layout) -> Tensor<S> {
        let matrix = Array(x.shape.suffix(2))
        return expanded(x, to: l.batch + matrix).reshaped([l.count] + matrix)
    }

    /// A·B for A [..., m, k] and B [..., k, n] as laid out.
    static func product<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>, _ l: Layout) -> Tensor<S> {
        stacked(stack(a, l), stack(b, l), transposeA: false, transposeB: false).reshaped(l.batch + [l.m, l.n])
    }

    /// (∂A, ∂B) of A·B for the output gradient g [..., m, n], summed back to A's and B's shapes.
    static func gradients<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>, _ g: Tensor<S>, _ l: Layout,
                                           needsA: Bool = true, needsB: Bool = true) -> (Tensor<S>?, Tensor<S>?) {
        let backend = Backends.current
        let gs = g.reshaped([l.count, l.m, l.n])
        let ga = needsA ? backend.sum(stacked(gs, stack(b, l), transposeA: false, transposeB: true).reshaped(l.batch + [l.m, l.k]),
                                      toShape: a.shape) : nil
        let gb = needsB ? backend.sum(stacked(stack(a, l), gs, transposeA: true, transposeB: false).reshaped(l.batch + [l.k, l.n]),
                                      toShape: b.shape) : nil
        return (ga, gb)
    }

    static func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        let a = try inputs.real(0), b = try inputs.real(1)
        let l = try layout(a.shape, b.shape)
        let aDot = inputs.tangent(0), bDot = inputs.tangent(1)
        return .real(product(a, b, l), tangent: sumOf(aDot.map { product($0, b, l) }, bDot.map { product(a, $0, l) }))
    }

    static func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        let a = r.x(0), b = r.x(1)
        guard let l = try? layout(a.shape, b.shape) else { return [] }
        let (ga, gb) = gradients(a, b, g, l)
        var gaDot: Tensor<S>?, gbDot: Tensor<S>?
        if let gDot { (gaDot, gbDot) = gradients(a, b, gDot, l) }
        if let bDot = r.xDot(1) { gaDot = sumOf(gaDot, gradients(a, bDot, g, l, needsB: false).0) }
        if let aDot = r.xDot(0) { gbDot = sumOf(gbDot, gradients(aDot, b, g, l, needsA: false).1) }
        return [InputGradient(ga!, gaDot), InputGradient(gb!, gbDot)]
    }
}
