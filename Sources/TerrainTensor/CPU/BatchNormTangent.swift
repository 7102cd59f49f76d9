/// Evaluation-mode batch normalization's tangent passes, each one sweep over memory.
///
/// In evaluation mode the layer is affine per feature, so its R-operator terms are a handful of
/// per-element products and per-feature sums. Computed one term at a time they cost ten passes
/// over the activations, each with its own temporary; here every feature's planes are read once.
/// Features are spread over threads and each feature's sums run in a fixed order (Double
/// accumulators, as `sumPerFeature`): the same bits for any thread count.
extension CPUBackend {
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func batchNormEvaluationTangent<T: TensorScalar>(input x: Tensor<T>, inputTangent xDot: Tensor<T>?,
                                                            statistics st: BatchNormEvaluationStatistics<T>,
                                                            gammaTangent: Tensor<T>?, betaTangent: Tensor<T>?) -> Tensor<T> {
        let (n, c, s) = featureLayout(x.shape)
        precondition(xDot == nil || xDot!.shape == x.shape, "batch norm tangent: ẋ \(xDot!.shape) for x \(x.shape)")
        var yDot = Tensor<T>(uninitializedShape: x.shape)
        let xp = x.pointer, dp = xDot?.pointer, yp = yDot.mutablePointer()
        let mean = st.mean.pointer, r = st.invStd.pointer, a = st.scale.pointer
        let gammaDot = gammaTangent?.pointer, betaDot = betaTangent?.pointer
        Parallel.forEach(range: n, grain: max(1, Self.elementwiseGrain / max(1, c * s))) { rows in
            for i in rows {
                for f in 0..<c {
                    let off = (i * c + f) * s
                    // ẏ = a·ẋ + k·x + b with k = γ̇·r and b = β̇ − γ̇·r·μ.
                    let k = gammaDot.map { $0[f] * r[f] } ?? 0
                    let b = (betaDot?[f] ?? 0) - k * mean[f]
                    let af = a[f]
                    if let dp {
                        for j in 0..<s { yp[off + j] = af * dp[off + j] + k * xp[off + j] + b }
                    } else {
                        for j in 0..<s { yp[off + j] = k * xp[off + j] + b }
                    }
                }
            }
        }
        return yDot
    }

    @_specialize(where T == Float) @_specialize(where T == Double)
    public func batchNormEvaluationTangentBackward<T: TensorScalar>(input x: Tensor<T>, inputTangent xDot: Tensor<T>?,
                                                                    gradient g: Tensor<T>, gradientTangent gDot: Tensor<T>?,
                                                                    statistics st: BatchNormEvaluationStatistics<T>,
                                                                    gammaTangent: Tensor<T>?, parameterGradients: Bool)
        -> BatchNormTangentGradients<T> {
        let (n, c, s) = featureLayout(x.shape)
        precondition(g.shape == x.shape && (gDot == nil || gDot!.shape == x.shape) && (xDot == nil || xDot!.shape == x.shape),
                     "batch norm tangent backward: shapes differ from x \(x.shape)")
        var gx = Tensor<T>(uninitializedShape: x.shape)
        let hasRInput = gDot != nil || gammaTangent != nil
        var gxDot: Tensor<T>? = hasRInput ? Tensor<T>(uninitializedShape: x.shape) : nil
        // Per feature: Σ g·x̂, Σ g, Σ (ġ·x̂ + r·g·ẋ), Σ ġ.
        var sums = [Double](repeating: 0, count: 4 * c)
        let xp = x.pointer, dp = xDot?.pointer, gp = g.pointer, gdp = gDot?.pointer
        let gxp = gx.mutablePointer(), gxdp = gxDot?.mutablePointer()
        let mean = st.mean.pointer, r = st.invStd.pointer, a = st.scale.pointer
        let gammaDot = gammaTangent?.pointer
        sums.withUnsafeMutableBufferPointer { sums in
            let sp = sums.baseAddress!
            Parallel.forEach(range: c, grain: max(1, Self.elementwiseGrain / max(1, n * s))) { features in
                for f in features {
                    let af = a[f], rf = r[f], mf = mean[f]
                    let k = gammaDot.map { $0[f] * rf } ?? 0   // γ̇·r
                    var gXhat = 0.0, gSum = 0.0, rGamma = 0.0, rBeta = 0.0
                    for i in 0..<n {
                        let off = (i * c + f) * s
                        for j in 0..<s {
                            let gv = gp[off + j], xhat = (xp[off + j] - mf) * rf
                            gxp[off + j] = af * gv
                            if parameterGradients {
                                gXhat += Double(gv * xhat)
                                gSum += Double(gv)
                            }
                            var rdx = k * gv
                            if let gdp {
                                let gd = gdp[off + j]
                                rdx += af * gd
                                rGamma += Double(gd * xhat)
                                rBeta += Double(gd)
                            }
                            if let dp { rGamma += Double(rf * gv * dp[off + j]) }
                            gxdp?[off + j] = rdx
                        }
                    }
                    sp[4 * f] = gXhat; sp[4 * f + 1] = gSum; sp[4 * f + 2] = rGamma; sp[4 * f + 3] = rBeta
                }
            }
        }
        func column(_ k: Int) -> Tensor<T> {
            Tensor(shape: [c], scalars: (0..<c).map { T(sums[4 * $0 + k]) })
        }
        return BatchNormTangentGradients(
            input: gx, inputTangent: gxDot,
            gamma: parameterGradients ? column(0) : nil, beta: parameterGradients ? column(1) : nil,
            gammaCurvature: (gDot != nil || xDot != nil) ? column(2) : nil,
            betaCurvature: gDot != nil ? column(3) : nil)
    }
}
