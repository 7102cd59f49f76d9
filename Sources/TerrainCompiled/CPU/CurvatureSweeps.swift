import CTerrainKernels
import TerrainTensor

/// The memory sweeps of `OneDNNCurvatureProgram`: everything between its products, one pass per
/// step and direction, on pairs of n samples in blocked channels (`OneDNNCurvatureProgram.Layout`).
/// Forward pairs hold the value then its tangent; gradient pairs hold R{∂L/∂·} then ∂L/∂·.
///
/// The two sweeps that run over every activation are C (`CTerrainKernels`): the compiler
/// vectorizes them for the machine's widest vectors, which Swift's SIMD types did not (they
/// compiled to SSE with a loop per lane and ran slower than the convolutions they sit between).
enum CurvatureSweeps {
    typealias Layout = OneDNNCurvatureProgram.Layout

    /// z = A·y + C (+ r), ż = A·ẏ + Ȧ·y + Ċ (+ ṙ); then ReLU (z <= 0 ? 0 : z, and ż where not z <= 0: NaN
    /// passes, as in PyTorch)
    /// when `relu`. Missing coefficients are A = 1, C = Ȧ = Ċ = 0.
    static func forward(samples n: Int, _ layout: Layout, y: UnsafePointer<Float>,
                        scale: [Float]?, shift: [Float]?, scaleTangent: [Float]?, shiftTangent: [Float]?,
                        addend: UnsafePointer<Float>?, relu: Bool, into out: UnsafeMutablePointer<Float>) {
        let channels = layout.channels
        let one = [Float](repeating: 1, count: channels), zero = [Float](repeating: 0, count: channels)
        (scale ?? one).withUnsafeBufferPointer { a in
        (shift ?? zero).withUnsafeBufferPointer { c in
        (scaleTangent ?? zero).withUnsafeBufferPointer { aDot in
        (shiftTangent ?? zero).withUnsafeBufferPointer { cDot in
            terrain_curvature_forward(n, channels, layout.spatial, layout.block, y, a.baseAddress, c.baseAddress,
                                      aDot.baseAddress, cDot.baseAddress, addend, relu ? 1 : 0, out)
        }}}}
    }

    /// The forward sweep's adjoint. From the output's gradient pair [ġ; g] (and, for ReLU, the
    /// output, whose sign is z's): g_z and ġ_z; adds (or, when its flag is false, writes) them to
    /// the addend's gradient pair; writes the per-channel sums S₁ = Σ ġ_z·y + g_z·ẏ, S₂ = Σ ġ_z,
    /// S₃ = Σ g_z to `sums` (3 × channels, when `y` is given; summed in Float over each sample's
    /// positions, in Double over samples); then writes (or adds) the pair [A·ġ_z + Ȧ·g_z; A·g_z]
    /// to `target`, which may be `gradient` itself.
    static func backward(samples n: Int, _ layout: Layout, gradient: UnsafePointer<Float>, output: UnsafePointer<Float>,
                         relu: Bool, y: UnsafePointer<Float>?, scale: [Float]?, scaleTangent: [Float]?,
                         sums: UnsafeMutablePointer<Float>?,
                         addendGradient: (UnsafeMutablePointer<Float>, accumulate: Bool)?,
                         into target: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let channels = layout.channels
        let one = [Float](repeating: 1, count: channels), zero = [Float](repeating: 0, count: channels)
        var totals = [Double](repeating: 0, count: 3 * channels)
        (scale ?? one).withUnsafeBufferPointer { a in
        (scaleTangent ?? zero).withUnsafeBufferPointer { aDot in
        totals.withUnsafeMutableBufferPointer { totals in
            terrain_curvature_backward(n, channels, layout.spatial, layout.block, gradient, relu ? output : nil, y,
                                       a.baseAddress, aDot.baseAddress, totals.baseAddress,
                                       addendGradient?.0, addendGradient?.accumulate == true ? 1 : 0, target, accumulate ? 1 : 0)
        }}}
        if let sums {
            for i in 0..<(3 * channels) { sums[i] = Float(totals[i]) }
        }
    }

    /// The mean over positions of each channel: `samples` samples of `layout` into [samples, C].
    static func averagePool(samples m: Int, _ layout: Layout, _ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let b = layout.block, spatial = layout.spatial
        let scale = 1 / Float(spatial)
        forEachChannelBlock(samples: m, layout) { base, pooled in
            let o = out + pooled
            for l in 0..<b { o[l] = 0 }
            for s in 0..<spatial {
                let xs = x + base + s * b
                for l in 0..<b { o[l] += xs[l] }
            }
            for l in 0..<b { o[l] *= scale }
        }
    }

    /// `averagePool`'s adjoint: each position gets its channel's gradient / S (added when
    /// `accumulate`).
    static func averagePoolBackward(samples m: Int, _ layout: Layout, gradient: UnsafePointer<Float>,
                                    into target: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let b = layout.block, spatial = layout.spatial
        let scale = 1 / Float(spatial)
        forEachChannelBlock(samples: m, layout) { base, pooled in
            let g = gradient + pooled
            for s in 0..<spatial {
                let t = target + base + s * b
                if accumulate {
                    for l in 0..<b { t[l] += g[l] * scale }
                } else {
                    for l in 0..<b { t[l] = g[l] * scale }
                }
            }
        }
    }

    /// Walks the channel blocks of `samples` samples of `layout`, sample by sample: calls
    /// `body(base, pooled)` for sample i and block cb with the offset of the block's first
    /// position in the blocked value, (i·C/B + cb)·S·B, and of its B channels in a pooled
    /// [samples, C] matrix, i·C + cb·B. Average pooling and its adjoint share it, so both map
    /// a block to the same pooled channels.
    @inline(__always)
    private static func forEachChannelBlock(samples m: Int, _ layout: Layout, _ body: (_ base: Int, _ pooled: Int) -> Void) {
        let channels = layout.channels, b = layout.block, spatial = layout.spatial, blocks = channels / b
        for i in 0..<m {
            for cb in 0..<blocks {
                body((i * blocks + cb) * spatial * b, i * channels + cb * b)
            }
        }
    }

    /// into[i] += from[i].
    static func add(_ from: UnsafePointer<Float>, into: UnsafeMutablePointer<Float>, count: Int) {
        terrain_add(from, into, count)
    }
}
