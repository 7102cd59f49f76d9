import CTerrainKernels

/// Layer normalization over the last axis, and its backward and tangent (R-operator) passes,
/// each one sweep over the rows. Float rows go to CTerrainKernels' row kernels: the same float
/// arithmetic per element, the row sums in interleaved Double lanes so that they vectorize.
///
/// A row is the `width` = shape.last elements that share one mean and variance. Row statistics
/// are accumulated in Double. Rows are spread over threads in chunks whose size depends on the
/// shape only, and the sums over rows that parameter gradients need are added per chunk, then
/// chunk by chunk in order: the same bits for any thread count.
///
/// With x̂ = (x − μ)·r, r = 1/√(σ² + ε), the Jacobian of x̂ with respect to its row is the
/// symmetric J = r·(I − 11ᵀ/D − x̂x̂ᵀ/D), so J·v = r·(v − mean(v) − x̂·mean(x̂ ⊙ v)); the
/// formulas of each pass are derived from it where the pass is.
extension CPUBackend {
    /// (rows, width) of a tensor normalized over its last axis, checked against γ and β.
    @inline(__always)
    func layerNormLayout<T>(_ x: Tensor<T>, gamma: Tensor<T>, beta: Tensor<T>? = nil) -> (rows: Int, width: Int) {
        precondition(x.rank >= 1, "layer norm needs a tensor of rank ≥ 1, got \(x.shape)")
        let width = x.shape[x.rank - 1]
        precondition(gamma.count == width && (beta == nil || beta!.count == width),
                     "layer norm over \(width) features: γ has \(gamma.count), β \(beta.map { "\($0.count)" } ?? "none")")
        return (width == 0 ? 0 : x.count / width, width)
    }

    /// Rows per chunk: about `elementwiseGrain` elements, a function of the shape only.
    @inline(__always)
    func layerNormRowsPerChunk(width: Int) -> Int { max(1, Self.elementwiseGrain / max(1, width)) }

    /// Runs `body(rows, sums)` over chunks of rows in parallel, each chunk with its own
    /// `vectors`·`width` Double accumulators (zeroed), and returns their sum, chunk by chunk in
    /// order: per-feature sums over rows that do not depend on the thread count.
    func layerNormRowChunks(rows: Int, width: Int, vectors: Int,
                            _ body: (Range<Int>, UnsafeMutablePointer<Double>) -> Void) -> [Double] {
        let perChunk = layerNormRowsPerChunk(width: width)
        let chunks = max(1, (rows + perChunk - 1) / perChunk)
        let stride = vectors * width
        var partials = [Double](repeating: 0, count: chunks * stride)
        partials.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            Parallel.forEach(chunks: chunks) { c in
                let lo = c * perChunk, hi = min(rows, lo + perChunk)
                if lo < hi { body(lo..<hi, base + c * stride) }
            }
        }
        var total = [Double](repeating: 0, count: stride)
        for c in 0..<chunks {
            for k in 0..<stride { total[k] += partials[c * stride + k] }
        }
        return total
    }

    /// The k-th of `vectors` per-feature sums returned by `layerNormRowChunks`, as a tensor.
    func layerNormSumVector<T: TensorScalar>(_ sums: [Double], _ k: Int, width: Int) -> Tensor<T> {
        Tensor(shape: [width], scalars: (0..<width).map { T(sums[k * width + $0]) })
    }

    /// y = γ ⊙ x̂ + β with x̂ = (x − μ)·r per row, μ and the biased variance σ² in Double (two
    /// passes: the centred sum of squares does not cancel as E[x²] − μ² would).
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func layerNorm<T: TensorScalar>(_ x: Tensor<T>, gamma: Tensor<T>, beta: Tensor<T>?,
                                           epsilon: Double) -> (output: Tensor<T>, statistics: LayerNormStatistics<T>) {
        let (rows, d) = layerNormLayout(x, gamma: gamma, beta: beta)
        var y = Tensor<T>(uninitializedShape: x.shape)
        var mean = Tensor<T>(uninitializedShape: [rows]), invStd = Tensor<T>(uninitializedShape: [rows])
        let xp = x.pointer, yp = y.mutablePointer(), mp = mean.mutablePointer(), rp = invStd.mutablePointer()
        let gp = gamma.pointer, bp = beta?.pointer
        Parallel.forEach(range: rows, grain: layerNormRowsPerChunk(width: d)) { range in
            if T.self == Float.self {
                // The same formulas, the sums vectorized (CTerrainKernels).
                terrain_layer_norm_rows_f32(floats(xp) + range.lowerBound * d, floats(gp), bp.map { floats($0) },
                                            mutableFloats(yp) + range.lowerBound * d, mutableFloats(mp) + range.lowerBound,
                                            mutableFloats(rp) + range.lowerBound, range.count, d, epsilon)
                return
            }
            for row in range {
                let xr = xp + row * d, yr = yp + row * d
                var sum = 0.0
                for j in 0..<d { sum += Double(xr[j]) }
                let mu = sum / Double(d)
                var squares = 0.0
                for j in 0..<d { let v = Double(xr[j]) - mu; squares += v * v }
                // The rounded statistics are those the backward pass sees: x̂ is the same in both.
                let m = T(mu), r = T(1 / (squares / Double(d) + epsilon).squareRoot())
                mp[row] = m; rp[row] = r
                if let bp {
                    for j in 0..<d { yr[j] = gp[j] * ((xr[j] - m) * r) + bp[j] }
                } else {
                    for j in 0..<d { yr[j] = gp[j] * ((xr[j] - m) * r) }
                }
            }
        }
        return (y, LayerNormStatistics(mean: mean, invStd: invStd))
    }

    /// ∂L/∂x = J·u with u = γ ⊙ g: r·(u − mean(u) − x̂·mean(x̂ ⊙ u)) per row; ∂L/∂γ = Σ g ⊙ x̂ and
    /// ∂L/∂β = Σ g over the rows (when `parameterGradients`).
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func layerNormBackward<T: TensorScalar>(input x: Tensor<T>, gradient g: Tensor<T>,
                                                   statistics st: LayerNormStatistics<T>, gamma: Tensor<T>,
                                                   parameterGradients: Bool) -> LayerNormGradients<T> {
        let (rows, d) = layerNormLayout(x, gamma: gamma)
        precondition(g.shape == x.shape && st.mean.count == rows && st.invStd.count == rows,
                     "layer norm backward: gradient \(g.shape) for x \(x.shape), \(st.mean.count) row statistics")
        var gx = Tensor<T>(uninitializedShape: x.shape)
        let xp = x.pointer, gp = g.pointer, gxp = gx.mutablePointer(), gam = gamma.pointer
        let mp = st.mean.pointer, rp = st.invStd.pointer
        let invD = 1 / Double(d)
        let sums = layerNormRowChunks(rows: rows, width: d, vectors: parameterGradients ? 2 : 0) { range, acc in
            if T.self == Float.self {
                // The same formulas, the row sums vectorized (CTerrainKernels).
                let first = range.lowerBound
                terrain_layer_norm_backward_rows_f32(floats(xp) + first * d, floats(gp) + first * d, floats(mp) + first,
                                                     floats(rp) + first, floats(gam), mutableFloats(gxp) + first * d,
                                                     parameterGradients ? acc : nil, range.count, d)
                return
            }
            for row in range {
                let off = row * d, m = mp[row], r = rp[row]
                var uSum = 0.0, xhatU = 0.0
                for j in 0..<d {
                    let xhat = (xp[off + j] - m) * r, u = gam[j] * gp[off + j]
                    uSum += Double(u); xhatU += Double(xhat * u)
                    if parameterGradients {
                        acc[j] += Double(gp[off + j] * xhat)
                        acc[d + j] += Double(gp[off + j])
                    }
                }
                let uMean = T(uSum * invD), xhatUMean = T(xhatU * invD)
                for j in 0..<d {
                    let xhat = (xp[off + j] - m) * r
                    gxp[off + j] = r * (gam[j] * gp[off + j] - uMean - xhat * xhatUMean)
                }
            }
        }
        return LayerNormGradients(input: gx, gamma: parameterGradients ? layerNormSumVector(sums, 0, width: d) : nil,
                                  beta: parameterGradients ? layerNormSumVector(sums, 1, width: d) : nil)
    }

    /// ẏ = γ ⊙ R{x̂} + γ̇ ⊙ x̂ + β̇ with R{x̂} = J·ẋ = r·(ẋ − mean(ẋ) − x̂·a), a = mean(x̂ ⊙ ẋ)
    /// (from R{σ²} = 2·mean((x − μ) ⊙ ẋ), so R{r} = −r²·a). Nil tangents are zero.
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func layerNormTangent<T: TensorScalar>(input x: Tensor<T>, inputTangent xDot: Tensor<T>?,
                                                  statistics st: LayerNormStatistics<T>, gamma: Tensor<T>,
                                                  gammaTangent: Tensor<T>?, betaTangent: Tensor<T>?) -> Tensor<T> {
        let (rows, d) = layerNormLayout(x, gamma: gamma, beta: betaTangent)
        precondition((xDot == nil || xDot!.shape == x.shape) && (gammaTangent == nil || gammaTangent!.count == d),
                     "layer norm tangent: ẋ \(xDot?.shape ?? []), γ̇ \(gammaTangent?.shape ?? []) for x \(x.shape)")
        var yDot = Tensor<T>(uninitializedShape: x.shape)
        let xp = x.pointer, dp = xDot?.pointer, yp = yDot.mutablePointer(), gam = gamma.pointer
        let gdp = gammaTangent?.pointer, bdp = betaTangent?.pointer
        let mp = st.mean.pointer, rp = st.invStd.pointer
        let invD = 1 / Double(d)
        Parallel.forEach(range: rows, grain: layerNormRowsPerChunk(width: d)) { range in
            if T.self == Float.self {
                let first = range.lowerBound
                terrain_layer_norm_tangent_rows_f32(floats(xp) + first * d, dp.map { floats($0) + first * d },
                                                    floats(mp) + first, floats(rp) + first, floats(gam),
                                                    gdp.map { floats($0) }, bdp.map { floats($0) },
                                                    mutableFloats(yp) + first * d, range.count, d)
                return
            }
            for row in range {
                let off = row * d, m = mp[row], r = rp[row]
                var dotMean: T = 0, a: T = 0
                if let dp {
                    var s = 0.0, sx = 0.0
                    for j in 0..<d { s += Double(dp[off + j]); sx += Double((xp[off + j] - m) * r * dp[off + j]) }
                    dotMean = T(s * invD); a = T(sx * invD)
                }
                for j in 0..<d {
                    let xhat = (xp[off + j] - m) * r
                    var v: T = 0
                    if let dp { v = gam[j] * (r * (dp[off + j] - dotMean - xhat * a)) }
                    if let gdp { v += gdp[j] * xhat }
                    if let bdp { v += bdp[j] }
                    yp[off + j] = v
                }
            }
        }
        return yDot
    }

    /// The backward pass and its R-operator in one sweep per row. With u = γ ⊙ g, ∂L/∂x = J·u
    /// = r·(u − ū − x̂·m) where ū = mean(u), m = mean(x̂ ⊙ u). Its tangent along (ẋ, γ̇, ġ):
    /// R{∂L/∂x} = J·w + R{J}·u with w = γ̇ ⊙ g + γ ⊙ ġ, and differentiating J·u with u fixed,
    /// R{J}·u = (R{r}/r)·J·u − r·(R{x̂}·m + x̂·ṁ) = −r·a·∂L/∂x − r·(R{x̂}·m + x̂·ṁ), where
    /// a = mean(x̂ ⊙ ẋ), R{x̂} = r·(ẋ − mean(ẋ) − x̂·a) and ṁ = mean(R{x̂} ⊙ u) (the term
    /// −R{ū} vanishes: ū does not depend on x). Over the rows, R{∂L/∂γ} = Σ (ġ ⊙ x̂ + g ⊙ R{x̂})
    /// and R{∂L/∂β} = Σ ġ.
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func layerNormTangentBackward<T: TensorScalar>(input x: Tensor<T>, inputTangent xDot: Tensor<T>?,
                                                          gradient g: Tensor<T>, gradientTangent gDot: Tensor<T>?,
                                                          statistics st: LayerNormStatistics<T>, gamma: Tensor<T>,
                                                          gammaTangent: Tensor<T>?, parameterGradients: Bool)
        -> LayerNormTangentGradients<T> {
        let (rows, d) = layerNormLayout(x, gamma: gamma, beta: gammaTangent)
        precondition(g.shape == x.shape && (gDot == nil || gDot!.shape == x.shape) && (xDot == nil || xDot!.shape == x.shape),
                     "layer norm tangent backward: shapes differ from x \(x.shape)")
        var gx = Tensor<T>(uninitializedShape: x.shape)
        let hasInputTangent = xDot != nil || gDot != nil || gammaTangent != nil
        var gxDot: Tensor<T>? = hasInputTangent ? Tensor<T>(uninitializedShape: x.shape) : nil
        let xp = x.pointer, dp = xDot?.pointer, gp = g.pointer, gdp = gDot?.pointer
        let gxp = gx.mutablePointer(), gxdp = gxDot?.mutablePointer()
        let gam = gamma.pointer, gamDot = gammaTangent?.pointer
        let mp = st.mean.pointer, rp = st.invStd.pointer
        let invD = 1 / Double(d)
        // Per feature: Σ g·x̂, Σ g, Σ (ġ·x̂ + g·R{x̂}), Σ ġ.
        let sums = layerNormRowChunks(rows: rows, width: d, vectors: 4) { range, acc in
            if T.self == Float.self {
                let first = range.lowerBound
                terrain_layer_norm_tangent_backward_rows_f32(
                    floats(xp) + first * d, dp.map { floats($0) + first * d }, floats(gp) + first * d,
                    gdp.map { floats($0) + first * d }, floats(mp) + first, floats(rp) + first, floats(gam),
                    gamDot.map { floats($0) }, mutableFloats(gxp) + first * d, gxdp.map { mutableFloats($0) + first * d },
                    acc, parameterGradients ? 1 : 0, range.count, d)
                return
            }
            for row in range {
                let off = row * d, m = mp[row], r = rp[row]
                // First sweep: the row means that every element's terms need.
                var uSum = 0.0, xhatU = 0.0, wSum = 0.0, xhatW = 0.0, dotSum = 0.0, xhatDot = 0.0
                for j in 0..<d {
                    let xhat = (xp[off + j] - m) * r, gv = gp[off + j]
                    let u = gam[j] * gv
                    uSum += Double(u); xhatU += Double(xhat * u)
                    var w: T = 0
                    if let gamDot { w += gamDot[j] * gv }
                    if let gdp { w += gam[j] * gdp[off + j] }
                    wSum += Double(w); xhatW += Double(xhat * w)
                    if let dp { dotSum += Double(dp[off + j]); xhatDot += Double(xhat * dp[off + j]) }
                }
                let uMean = T(uSum * invD), mU = T(xhatU * invD), wMean = T(wSum * invD), mW = T(xhatW * invD)
                let dotMean = T(dotSum * invD), a = T(xhatDot * invD)
                // ṁ = mean(R{x̂} ⊙ u) needs R{x̂}, known only now.
                var mDot: T = 0
                if let dp {
                    var s = 0.0
                    for j in 0..<d {
                        let xhat = (xp[off + j] - m) * r
                        s += Double(r * (dp[off + j] - dotMean - xhat * a) * gam[j] * gp[off + j])
                    }
                    mDot = T(s * invD)
                }
                // Second sweep: every element's values and the per-feature sums.
                for j in 0..<d {
                    let xhat = (xp[off + j] - m) * r, gv = gp[off + j]
                    let dx = r * (gam[j] * gv - uMean - xhat * mU)
                    gxp[off + j] = dx
                    if parameterGradients {
                        acc[j] += Double(gv * xhat)
                        acc[d + j] += Double(gv)
                    }
                    var w: T = 0
                    if let gamDot { w += gamDot[j] * gv }
                    if let gdp {
                        let gd = gdp[off + j]
                        w += gam[j] * gd
                        acc[2 * d + j] += Double(gd * xhat)
                        acc[3 * d + j] += Double(gd)
                    }
                    var rdx = r * (w - wMean - xhat * mW)
                    if let dp {
                        let xhatDotJ = r * (dp[off + j] - dotMean - xhat * a)
                        rdx += -r * a * dx - r * (xhatDotJ * mU + xhat * mDot)
                        acc[2 * d + j] += Double(gv * xhatDotJ)
                    }
                    gxdp?[off + j] = rdx
                }
            }
        }
        return LayerNormTangentGradients(
            input: gx, inputTangent: gxDot,
            gamma: parameterGradients ? layerNormSumVector(sums, 0, width: d) : nil,
            beta: parameterGradients ? layerNormSumVector(sums, 1, width: d) : nil,
            gammaCurvature: (gDot != nil || xDot != nil) ? layerNormSumVector(sums, 2, width: d) : nil,
            betaCurvature: gDot != nil ? layerNormSumVector(sums, 3, width: d) : nil)
    }
}
