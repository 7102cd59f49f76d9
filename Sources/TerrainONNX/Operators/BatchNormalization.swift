import TerrainTensor

/// BatchNormalization in inference form (running statistics, as `torch.onnx.export` writes an
/// evaluation-mode model): with s = γ/√(v + ε) and x̂ = (x − μ)/√(v + ε), y = s·x + (β − μ·s).
///
/// Like Terrain's `BatchNorm` in evaluation mode: ẏ = γ̇·x̂ + s·ẋ + β̇; ∂x = s·g, ∂γ = Σ g·x̂,
/// ∂β = Σ g; R{∂x} = s·ġ + γ̇·g/√(v + ε), R{∂γ} = Σ ġ·x̂ + (Σ g·ẋ)/√(v + ε), R{∂β} = Σ ġ (sums over
/// every axis but the channel axis). The statistics are buffers: they get no gradient.
struct BatchNormalizationOperator: GraphOperator {
    var epsilon: Double

    /// Per-channel 1/√(v + ε), s and the shift β − μ·s, from the node's inputs.
    private func coefficients<S: TensorScalar>(_ gamma: Tensor<S>, _ beta: Tensor<S>, _ mean: Tensor<S>, _ variance: Tensor<S>)
        -> (invStd: [Double], scale: Tensor<S>, shift: Tensor<S>) {
        let c = gamma.count
        let invStd = (0..<c).map { 1 / (Double(variance[flat: $0]) + epsilon).squareRoot() }
        let scale = (0..<c).map { Double(gamma[flat: $0]) * invStd[$0] }
        let shift = (0..<c).map { Double(beta[flat: $0]) - Double(mean[flat: $0]) * scale[$0] }
        return (invStd, Tensor(shape: [c], scalars: scale.map { S($0) }), Tensor(shape: [c], scalars: shift.map { S($0) }))
    }

    /// x̂ = (x − μ)/√(v + ε).
    private func normalized<S: TensorScalar>(_ x: Tensor<S>, _ mean: Tensor<S>, _ invStd: [Double]) -> Tensor<S> {
        let c = invStd.count
        return Backends.current.featureAffine(x, scale: Tensor(shape: [c], scalars: invStd.map { S($0) }),
                                              shift: Tensor(shape: [c], scalars: (0..<c).map { S(-Double(mean[flat: $0]) * invStd[$0]) }))
    }

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        let x = try inputs.real(0)
        guard x.rank >= 2 else { throw OperatorFailure("input must be [N, C, …], got \(x.shape)") }
        let c = x.shape[1]
        let parts = try (1...4).map { try inputs.real($0) }
        for (i, p) in parts.enumerated() where p.shape != [c] {
            throw OperatorFailure("input \(i + 1) has shape \(p.shape), not [\(c)] for \(c) channels")
        }
        let (invStd, scale, shift) = coefficients(parts[0], parts[1], parts[2], parts[3])
        let backend = Backends.current
        let y = backend.featureAffine(x, scale: scale, shift: shift)
        var yDot = inputs.tangent(0).map { backend.featureAffine($0, scale: scale, shift: Tensor(zeros: [c])) }
        let gammaDot = inputs.tangent(1), betaDot = inputs.tangent(2)
        if gammaDot != nil || betaDot != nil {
            yDot = sumOf(yDot, backend.featureAffine(normalized(x, parts[2], invStd), scale: gammaDot ?? Tensor(zeros: [c]),
                                                     shift: betaDot ?? Tensor(zeros: [c])))
        }
        return .real(y, tangent: yDot)
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        let backend = Backends.current
        let x = r.x(0), gamma = r.x(1), mean = r.x(3)
        let c = gamma.count, zero = Tensor<S>(zeros: [c])
        let (invStd, scale, _) = coefficients(gamma, r.x(2), mean, r.x(4))
        let xhat = normalized(x, mean, invStd)
        let gx = backend.featureAffine(g, scale: scale, shift: zero)
        var gxDot = gDot.map { backend.featureAffine($0, scale: scale, shift: zero) }
        if let gammaDot = r.xDot(1) {
            let s = Tensor<S>(shape: [c], scalars: (0..<c).map { S(Double(gammaDot[flat: $0]) * invStd[$0]) })
            gxDot = sumOf(gxDot, backend.featureAffine(g, scale: s, shift: zero))
        }
        var gammaDotGradient = gDot.map { backend.sumPerFeature(backend.multiply($0, xhat)) }
        if let xDot = r.xDot(0) {
            let sums = backend.sumPerFeature(backend.multiply(g, xDot))
            gammaDotGradient = sumOf(gammaDotGradient, Tensor(shape: [c], scalars: (0..<c).map { S(Double(sums[flat: $0]) * invStd[$0]) }))
        }
        return [InputGradient(gx, gxDot),
                InputGradient(backend.sumPerFeature(backend.multiply(g, xhat)), gammaDotGradient),
                InputGradient(backend.sumPerFeature(g), gDot.map { backend.sumPerFeature($0) }),
                nil, nil]
    }
}
