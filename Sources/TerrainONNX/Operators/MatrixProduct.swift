import TerrainTensor

/// Gemm, Y = α·op(A)·op(B) + β·C (op: an optional transpose, C broadcast), and MatMul, Y = A·B
/// for A of rank ≥ 2 (its leading axes taken as rows) and B a matrix; MatMul of stacks (B of
/// rank 3 or more) is `BatchedMatrixProduct`'s.
///
/// The product is bilinear: Ẏ = α(op(Ȧ)op(B) + op(A)op(Ḃ)) + βĊ, and R{∂A}, R{∂B} are the
/// backward formulas applied to (ġ, B) + (g, Ḃ) and (A, ġ) + (Ȧ, g).
struct MatrixProductOperator: GraphOperator {
    var transposeA = false
    var transposeB = false
    var alpha = 1.0
    var beta = 1.0
    /// MatMul: A may have more than two axes; there is no C.
    var isMatMul = false

    /// A as a matrix: Gemm's A must be one, MatMul's leading axes fold into rows.
    private func matrixA<S>(_ a: Tensor<S>) throws -> Tensor<S> {
        if isMatMul {
            guard a.rank >= 2 else { throw OperatorFailure("MatMul of a vector \(a.shape) is not supported") }
            return a.reshaped([a.count / max(a.shape[a.rank - 1], 1), a.shape[a.rank - 1]])
        }
        guard a.rank == 2 else { throw OperatorFailure("Gemm needs a matrix A, got \(a.shape)") }
        return a
    }

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        let a0 = try inputs.real(0), b = try inputs.real(1)
        if isMatMul, b.rank > 2 { return try BatchedMatrixProduct.apply(inputs) }
        guard b.rank == 2 else { throw OperatorFailure("B must be a matrix, got \(b.shape) (batched products are not supported)") }
        let a = try matrixA(a0)
        let k = transposeA ? a.shape[0] : a.shape[1], kb = transposeB ? b.shape[1] : b.shape[0]
        guard k == kb else { throw OperatorFailure("inner dimensions differ: A \(a0.shape), B \(b.shape)") }
        let backend = Backends.current
        let m = transposeA ? a.shape[1] : a.shape[0], n = transposeB ? b.shape[0] : b.shape[1]
        var y = scaled(backend.matmul(a, b, transposeA: transposeA, transposeB: transposeB), alpha)
        let aDot = inputs.tangent(0).map { $0.reshaped(a.shape) }, bDot = inputs.tangent(1)
        var yDot = sumOf(aDot.map { backend.matmul($0, b, transposeA: transposeA, transposeB: transposeB) },
                         bDot.map { backend.matmul(a, $0, transposeA: transposeA, transposeB: transposeB) }).map { scaled($0, alpha) }
        if !isMatMul, inputs.has(2) {
            let c = try inputs.real(2)
            guard BroadcastShape.of([m, n], c.shape) == [m, n] else { throw OperatorFailure("C \(c.shape) does not broadcast to [\(m), \(n)]") }
            y = backend.broadcast(.add, y, scaled(c, beta))
            if let cDot = inputs.tangent(2) { yDot = sumOf(yDot, expanded(scaled(cDot, beta), to: [m, n])) }
        }
        if isMatMul && a0.rank > 2 {
            let shape = Array(a0.shape.dropLast()) + [n]
            return .real(y.reshaped(shape), tangent: yDot?.reshaped(shape))
        }
        return .real(y, tangent: yDot)
    }

    /// (∂A, ∂B) of α·op(A)·op(B) for the output gradient g.
    private func gradients<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>, _ g: Tensor<S>) -> (Tensor<S>, Tensor<S>) {
        let backend = Backends.current
        let ga = transposeA ? backend.matmul(b, g, transposeA: transposeB, transposeB: true)
                            : backend.matmul(g, b, transposeA: false, transposeB: !transposeB)
        let gb = transposeB ? backend.matmul(g, a, transposeA: true, transposeB: transposeA)
                            : backend.matmul(a, g, transposeA: !transposeA, transposeB: false)
        return (scaled(ga, alpha), scaled(gb, alpha))
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g0: Tensor<S>, _ gDot0: Tensor<S>?) -> [InputGradient<S>?] {
        let a0 = r.x(0), b = r.x(1)
        if isMatMul, b.rank > 2 { return BatchedMatrixProduct.pullback(r, g0, gDot0) }
        let a = (try? matrixA(a0)) ?? a0
        let rows = transposeA ? a.shape[1] : a.shape[0]
        let g = g0.reshaped([rows, g0.count / max(rows, 1)]), gDot = gDot0.map { $0.reshaped(g.shape) }
        let aDot = r.xDot(0).map { $0.reshaped(a.shape) }, bDot = r.xDot(1)
        let (ga, gb) = gradients(a, b, g)
        var gaDot: Tensor<S>?, gbDot: Tensor<S>?
        if let gDot { (gaDot, gbDot) = gradients(a, b, gDot) }
        if let bDot { gaDot = sumOf(gaDot, gradients(a, bDot, g).0) }
        if let aDot { gbDot = sumOf(gbDot, gradients(aDot, b, g).1) }
        var result: [InputGradient<S>?] = [InputGradient(ga.reshaped(a0.shape), gaDot?.reshaped(a0.shape)), InputGradient(gb, gbDot)]
        if !isMatMul, r.inputs.has(2) {
            let c = r.x(2), backend = Backends.current
            result.append(InputGradient(scaled(backend.sum(g, toShape: c.shape), beta), gDot.map { scaled(backend.sum($0, toShape: c.shape), beta) }))
        }
        return result
    }
}
