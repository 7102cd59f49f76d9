/// How rough a surface is: the mean absolute second difference along each axis,
///
///     R_α = mean over (i, j) of |f[j, i+1] − 2·f[j, i] + f[j, i−1]|,
///     R_β = mean over (i, j) of |f[j+1, i] − 2·f[j, i] + f[j−1, i]|,
///
/// over the triples whose three points are all valid (finite; the others are left out, so an
/// excluded point removes the three triples it belongs to on each axis).
///
/// **Scale.** R is in the quantity's own units (loss), per grid step, taken on the grid's indices:
/// it is not divided by the step h. For a smooth f on an evenly spaced axis it is ≈ mean |∂²f|·h²,
/// so halving the step divides it by about 4, while independent noise of standard deviation σ
/// adds about √6·σ·√(2/π) ≈ 1.95σ whatever the step. Compare surfaces on the same grid, or
/// divide by the surface's range (`relativeAlpha`/`relativeBeta`) to compare different losses.
/// On a `--cubic` axis the steps differ, and R mixes them.
public struct SurfaceRoughness: Sendable, Equatable {
    public var alpha: Double
    public var beta: Double
    /// The number of triples each mean is over (0: the mean is NaN).
    public var alphaCount: Int
    public var betaCount: Int
    /// R divided by the surface's max − min over valid points (NaN for a flat surface).
    public var relativeAlpha: Double
    public var relativeBeta: Double
}

extension GridField {
    public func roughness() -> SurfaceRoughness {
        func mean(step: Int, along count: Int, position: (Int) -> Int) -> (Double, Int) {
            var sum = 0.0, n = 0
            for p in values.indices {
                let k = position(p)
                guard k > 0, k + 1 < count else { continue }
                let (a, b, c) = (values[p - step], values[p], values[p + step])
                guard a.isFinite, b.isFinite, c.isFinite else { continue }
                sum += abs(c - 2 * b + a)
                n += 1
            }
            return (n > 0 ? sum / Double(n) : .nan, n)
        }
        let (alpha, alphaCount) = mean(step: 1, along: nx) { $0 % nx }
        let (beta, betaCount) = mean(step: nx, along: ny) { $0 / nx }
        let range = valueRange
        return SurfaceRoughness(alpha: alpha, beta: beta, alphaCount: alphaCount, betaCount: betaCount,
                                relativeAlpha: range > 0 ? alpha / range : .nan, relativeBeta: range > 0 ? beta / range : .nan)
    }
}
