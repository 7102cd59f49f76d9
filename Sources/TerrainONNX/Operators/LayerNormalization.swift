import TerrainTensor

/// LayerNormalization over the axes from `axis` on (operator set 17; PyTorch's nn.LayerNorm):
/// per row of the n normalized values, μ = mean(x), r = (mean((x − μ)²) + ε)^(−½),
/// x̂ = (x − μ)·r, y = γ·x̂ + β.
///
/// Tangent: x̂̇ = r·(ẋ − mean(ẋ) − x̂·mean(x̂·ẋ)), ẏ = γ·x̂̇ + γ̇·x̂ + β̇.
/// Backward, with h = γ·g and a = mean(h·x̂): ∂x = r·(h − mean(h) − x̂·a), ∂γ = Σ g·x̂, ∂β = Σ g
/// (sums over the rows). R-operator, with ḣ = γ·ġ + γ̇·g and ṙ/r = −r·mean(x̂·ẋ):
/// R{∂x} = (ṙ/r)·∂x + r·(ḣ − mean(ḣ) − x̂̇·a − x̂·mean(ḣ·x̂ + h·x̂̇)),
/// R{∂γ} = Σ (ġ·x̂ + g·x̂̇), R{∂β} = Σ ġ.
///
/// Only the first output is computed (the optional mean and inverse deviation are refused where used).
struct LayerNormalizationOperator: GraphOperator {
    var axis: Int
    var epsilon: Double

    /// x is seen as a matrix [rows, n], γ and β as rows [1, n].
    private struct Layout {
        var rows: Int
        var n: Int
    }

    private func layout<S>(_ x: Tensor<S>, _ parameters: [Tensor<S>]) throws -> Layout {
        let a = try normalizedAxis(axis, rank: x.rank)
        let normalized = Array(x.shape[a...])
        let n = normalized.reduce(1, *)
        guard n > 0 else { throw OperatorFailure("nothing to normalize in \(x.shape) from axis \(a)") }
        for p in parameters where p.count != n || !(p.shape == normalized || p.shape == [n] || BroadcastShape.of(normalized, p.shape) == normalized) {
            throw OperatorFailure("scale or bias \(p.shape) does not fit the normalized axes \(normalized)")
        }
        return Layout(rows: x.count / n, n: n)
    }

    /// The mean of each row of t [rows, n], as [rows, 1].
    private func rowMean<S: TensorScalar>(_ t: Tensor<S>) -> Tensor<S> {
        scaled(Backends.current.sum(t, toShape: [t.shape[0], 1]), 1 / Double(t.shape[1]))
    }

    /// The statistics of the rows: x̂ [rows, n] and r [rows, 1].
    private func normalize<S: TensorScalar>(_ x: Tensor<S>) -> (xhat: Tensor<S>, r: Tensor<S>) {
        let backend = Backends.current
        let centred = backend.broadcast(.subtract, x, rowMean(x))
        let variance = rowMean(backend.multiply(centred, centred))
        let r = backend.power(backend.broadcast(.add, variance, Tensor(repeating: S(epsilon), shape: [1, 1])), -0.5)
        return (backend.broadcast(.multiply, centred, r), r)
    }

    /// x̂̇ = r·(ẋ − mean(ẋ) − x̂·mean(x̂·ẋ)), and mean(x̂·ẋ).
    private func normalizedTangent<S: TensorScalar>(_ xDot: Tensor<S>, _ xhat: Tensor<S>, _ r: Tensor<S>) -> (Tensor<S>, Tensor<S>) {
        let backend = Backends.current
        let m = rowMean(backend.multiply(xhat, xDot))
        let inner = backend.broadcast(.subtract, backend.broadcast(.subtract, xDot, rowMean(xDot)), backend.broadcast(.multiply, xhat, m))
        return (backend.broadcast(.multiply, inner, r), m)
    }

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        let x0 = try inputs.real(0), gamma0 = try inputs.real(1)
        let beta0 = inputs.has(2) ? try inputs.real(2) : nil
        let l = try layout(x0, [gamma0] + (beta0.map { [$0] } ?? []))
        let backend = Backends.current
        let x = x0.reshaped([l.rows, l.n]), gamma = gamma0.reshaped([1, l.n])
        let (xhat, r) = normalize(x)
        var y = backend.broadcast(.multiply, xhat, gamma)
        if let beta0 { y = backend.broadcast(.add, y, beta0.reshaped([1, l.n])) }
        var yDot = inputs.tangent(0).map { backend.broadcast(.multiply, normalizedTangent($0.reshaped(x.shape), xhat, r).0, gamma) }
        if let gammaDot = inputs.tangent(1) { yDot = sumOf(yDot, backend.broadcast(.multiply, xhat, gammaDot.reshaped([1, l.n]))) }
        if let betaDot = inputs.tangent(2) { yDot = sumOf(yDot, expanded(betaDot.reshaped([1, l.n]), to: x.shape)) }
        return .real(y.reshaped(x0.shape), tangent: yDot?.reshaped(x0.shape))
    }

    func pullback<S: TensorScalar>(_ rec: NodeRecord<S>, _ g0: Tensor<S>, _ gDot0: Tensor<S>?) -> [InputGradient<S>?] {
        let x0 = rec.x(0), gamma0 = rec.x(1)
        guard let l = try? layout(x0, [gamma0]) else { return [] }
        let backend = Backends.current
        let shape = [l.rows, l.n]
        let x = x0.reshaped(shape), gamma = gamma0.reshaped([1, l.n]), g = g0.reshaped(shape), gDot = gDot0?.reshaped(shape)
        let (xhat, r) = normalize(x)
        func columnSum(_ t: Tensor<S>) -> Tensor<S> { backend.sum(t, toShape: [1, l.n]) }
        // ∂x = r·(h − mean(h) − x̂·a), a = mean(h·x̂).
        let h = backend.broadcast(.multiply, g, gamma)
        let a = rowMean(backend.multiply(h, xhat))
        let gx = backend.broadcast(.multiply, backend.broadcast(.subtract, backend.broadcast(.subtract, h, rowMean(h)),
                                                                backend.broadcast(.multiply, xhat, a)), r)
        let xDot = rec.xDot(0)?.reshaped(shape), gammaDot = rec.xDot(1)?.reshaped([1, l.n])
        let tangent = xDot.map { normalizedTangent($0, xhat, r) }
        var hDot = gDot.map { backend.broadcast(.multiply, $0, gamma) }
        if let gammaDot { hDot = sumOf(hDot, backend.broadcast(.multiply, g, gammaDot)) }
        var gxDot: Tensor<S>?
        if let (xhatDot, m) = tangent {
            // (ṙ/r)·∂x with ṙ/r = −r·mean(x̂·ẋ), and the terms of x̂̇.
            gxDot = backend.broadcast(.multiply, gx, negated(backend.multiply(r, m)))
            let inner = backend.broadcast(.add, backend.broadcast(.multiply, xhatDot, a),
                                          backend.broadcast(.multiply, xhat, rowMean(backend.multiply(h, xhatDot))))
            gxDot = sumOf(gxDot, negated(backend.broadcast(.multiply, inner, r)))
        }
        if let hDot {
            let inner = backend.broadcast(.subtract, backend.broadcast(.subtract, hDot, rowMean(hDot)),
                                          backend.broadcast(.multiply, xhat, rowMean(backend.multiply(hDot, xhat))))
            gxDot = sumOf(gxDot, backend.broadcast(.multiply, inner, r))
        }
        let gammaGradient = columnSum(backend.multiply(g, xhat))
        var gammaCurvature = gDot.map { columnSum(backend.multiply($0, xhat)) }
        if let (xhatDot, _) = tangent { gammaCurvature = sumOf(gammaCurvature, columnSum(backend.multiply(g, xhatDot))) }
        var result: [InputGradient<S>?] = [InputGradient(gx.reshaped(x0.shape), gxDot?.reshaped(x0.shape)),
                                           InputGradient(gammaGradient.reshaped(gamma0.shape), gammaCurvature?.reshaped(gamma0.shape))]
        if rec.inputs.has(2) {
            let betaShape = rec.x(2).shape
            result.append(InputGradient(columnSum(g).reshaped(betaShape), gDot.map { columnSum($0).reshaped(betaShape) }))
        }
        return result
    }
}
