import TerrainTensor

/// y = xᵖ for a constant p: Sqrt (p = ½), Reciprocal (p = −1), and Pow with a constant exponent
/// (input 1, a number that no parameter moves: LayerNorm written out squares with Pow(x, 2)).
///
/// ẏ = p·xᵖ⁻¹·ẋ; ∂x = p·xᵖ⁻¹·g; R{∂x} = p·xᵖ⁻¹·ġ + p(p − 1)·xᵖ⁻²·ẋ·g.
struct PowerOperator: GraphOperator {
    /// nil: read from input 1 (Pow).
    var exponent: Double?

    private func power<S>(_ inputs: NodeInputs<S>) throws -> Double {
        if let exponent { return exponent }
        let p = try inputs.constantScalar(1)
        guard p.isFinite else { throw OperatorFailure("exponent \(p)") }
        return p
    }

    /// p·xᵖ⁻¹, the derivative.
    private func slope<S: TensorScalar>(_ x: Tensor<S>, _ p: Double) -> Tensor<S> {
        scaled(Backends.current.power(x, p - 1), p)
    }

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        let x = try inputs.real(0)
        let p = try power(inputs)
        let backend = Backends.current
        return .real(backend.power(x, p), tangent: inputs.tangent(0).map { backend.multiply(slope(x, p), $0) })
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        guard let p = try? power(r.inputs) else { return [] }
        let backend = Backends.current, x = r.x(0), d = slope(x, p)
        var gxDot = gDot.map { backend.multiply(d, $0) }
        if let xDot = r.xDot(0), p != 1 {
            gxDot = sumOf(gxDot, backend.multiply(scaled(backend.power(x, p - 2), p * (p - 1)), backend.multiply(xDot, g)))
        }
        return [InputGradient(backend.multiply(d, g), gxDot), nil]
    }
}

/// Neg: y = −x, on real numbers (linear: the tangent and both backward terms change sign) and
/// on integers.
struct NegationOperator: GraphOperator {
    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        guard inputs.has(0), let value = inputs.values[0] else { throw OperatorFailure("input 0 is missing") }
        switch value {
        case .integers(let t): return NodeOutput(.integers(IntegerTensor(shape: t.shape, values: t.values.map { 0 &- $0 })))
        case .real(let x): return .real(negated(x), tangent: inputs.tangent(0).map(negated))
        }
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        guard case .real = r.output.value else { return [] }
        return [InputGradient(negated(g), gDot.map(negated))]
    }
}
