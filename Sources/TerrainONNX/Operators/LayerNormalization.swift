import TerrainTensor

/// LayerNormalization over the axes from `axis` on (operator set 17; PyTorch's nn.LayerNorm):
/// per row of the n normalized values, μ = mean(x), r = (mean((x − μ)²) + ε)^(−½),
/// x̂ = (x − μ)·r, y = γ·x̂ + β.
///
/// Tangent: x̂̇ = r·(ẋ − mean(ẋ) − x̂·mean(x̂·ẋ)), ẏ = γ·x̂̇ + γ̇·x̂ + β̇.
/// Backward, with h = γ·g and a = mean(h·x̂): ∂x = r·(h − mean(h) − x̂·a), ∂γ = Σ g·x̂, ∂β = Σ g
/// (sums over the rows). R-operator, with ḣ = γ·ġ + γ̇·g and ṙ/r = −r·mean(x̂·ẋ):
/// R{∂x} = (ṙ/r)·∂x + r·(ḣ − mean(ḣ) − x̂̇·a − x̂·mean(ḣ·x̂ + h·x̂̇)),
/// R{∂γ} = Σ (ġ·x̂ + g·x̂̇), R{∂β} = Σ ġ. The normalized axes are seen as one (a row-major
/// reshape), and each pass is one of the back end's fused layer-norm kernels (`Backend.layerNorm`,
/// `layerNormTangent`, `layerNormTangentBackward`), the ones Terrain's LayerNorm layer runs.
///
/// Only the first output is computed (the optional mean and inverse deviation are refused where used).
struct LayerNormalizationOperator: GraphOperator {
    var axis: Int
    var epsilon: Double

    /// x seen as [rows, n] for the n values of the normalized axes; γ and β must hold n values.
    private func matrixShape<S>(_ x: Tensor<S>, _ parameters: [Tensor<S>]) throws -> [Int] {
        let a = try normalizedAxis(axis, rank: x.rank)
        let normalized = Array(x.shape[a...])
        let n = normalized.reduce(1, *)
        guard n > 0 else { throw OperatorFailure("nothing to normalize in \(x.shape) from axis \(a)") }
        for p in parameters where p.count != n || BroadcastShape.of(normalized, p.shape) != normalized {
            throw OperatorFailure("scale or bias \(p.shape) does not fit the normalized axes \(normalized)")
        }
        return [x.count / n, n]
    }

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        let x0 = try inputs.real(0), gamma0 = try inputs.real(1)
        let beta0 = inputs.has(2) ? try inputs.real(2) : nil
        let shape = try matrixShape(x0, [gamma0] + (beta0.map { [$0] } ?? []))
        let n = shape[1], backend = Backends.current
        let x = x0.reshaped(shape), gamma = gamma0.reshaped([n])
        let (y, statistics) = backend.layerNorm(x, gamma: gamma, beta: beta0?.reshaped([n]), epsilon: epsilon)
        let xDot = inputs.tangent(0), gammaDot = inputs.tangent(1), betaDot = inputs.tangent(2)
        var yDot: Tensor<S>?
        if xDot != nil || gammaDot != nil || betaDot != nil {
            yDot = backend.layerNormTangent(input: x, inputTangent: xDot?.reshaped(shape), statistics: statistics, gamma: gamma,
                                            gammaTangent: gammaDot?.reshaped([n]), betaTangent: betaDot?.reshaped([n])).reshaped(x0.shape)
        }
        return .real(y.reshaped(x0.shape), tangent: yDot)
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        let x0 = r.x(0), gamma0 = r.x(1)
        guard let shape = try? matrixShape(x0, [gamma0]) else { return [] }
        let n = shape[1], backend = Backends.current
        let x = x0.reshaped(shape), gamma = gamma0.reshaped([n])
        // The row statistics again (one sweep), rather than kept for every node of a graph.
        let statistics = backend.layerNorm(x, gamma: gamma, beta: nil, epsilon: epsilon).statistics
        let pulled = backend.layerNormTangentBackward(input: x, inputTangent: r.xDot(0)?.reshaped(shape), gradient: g.reshaped(shape),
                                                      gradientTangent: gDot?.reshaped(shape), statistics: statistics, gamma: gamma,
                                                      gammaTangent: r.xDot(1)?.reshaped([n]), parameterGradients: true)
        var result: [InputGradient<S>?] = [
            InputGradient(pulled.input.reshaped(x0.shape), pulled.inputTangent?.reshaped(x0.shape)),
            InputGradient(pulled.gamma!.reshaped(gamma0.shape), pulled.gammaCurvature?.reshaped(gamma0.shape)),
        ]
        if r.inputs.has(2) {
            let betaShape = r.x(2).shape
            result.append(InputGradient(pulled.beta!.reshaped(betaShape), pulled.betaCurvature?.reshaped(betaShape)))
        }
        return result
    }
}
