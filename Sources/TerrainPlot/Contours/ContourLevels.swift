import Foundation

/// The values at which contours are drawn.
public enum ContourLevels {
    /// The reference's `numpy.arange(minimum, maximum, step)`, bit for bit: minimum + k·δ for
    /// k = 0, 1, …, ⌈(maximum − minimum) / step⌉ − 1, so the minimum is included and the maximum
    /// is not. Like numpy, δ is (minimum + step) − minimum, the step as actually realized between
    /// the first two levels, and the second level is minimum + step itself. Each level is
    /// computed from k, never by adding steps, so the last one carries no accumulated rounding
    /// (`stepped(from: 0.1, to: 10, step: 0.5)` ends at 9.6). An empty range gives no levels.
    ///
    /// Throws `PlotError.invalidData` when a bound or the step is not finite, when step ≤ 0, or
    /// when the range would need more than a million levels (a step typed in the wrong unit).
    public static func stepped(from minimum: Double, to maximum: Double, step: Double) throws -> [Double] {
        guard minimum.isFinite, maximum.isFinite, step.isFinite else {
            throw PlotError.invalidData("contour levels need finite bounds and step (got \(minimum), \(maximum), \(step))")
        }
        guard step > 0 else { throw PlotError.invalidData("the contour level step must be positive (got \(step))") }
        guard maximum > minimum else { return [] }
        // numpy's length: ceil((stop - start) / step), in the same floating-point arithmetic.
        let count = ((maximum - minimum) / step).rounded(.up)
        guard count <= 1_000_000 else {
            throw PlotError.invalidData("a contour step of \(step) from \(minimum) to \(maximum) gives \(Int(count)) levels")
        }
        let realizedStep = (minimum + step) - minimum
        return (0..<Int(count)).map { k in
            k == 1 ? minimum + step : minimum + Double(k) * realizedStep
        }
    }

    /// `count` levels in geometric progression from `from` to `to`, both included exactly:
    /// from · (to / from)^(k / (count − 1)). Equal ratios between neighbours put as many levels
    /// in each decade, which is what a loss surface spanning decades needs.
    ///
    /// Throws `PlotError.invalidData` unless 0 < from < to (both finite) and count ≥ 2.
    public static func logSpaced(from: Double, to: Double, count: Int) throws -> [Double] {
        guard from > 0, from < to, to.isFinite else {
            throw PlotError.invalidData("logarithmic contour levels need 0 < from < to (got \(from), \(to))")
        }
        guard count >= 2 else { throw PlotError.invalidData("logarithmic contour levels need at least 2 levels (got \(count))") }
        let ratio = to / from
        return (0..<count).map { k in
            // The ends are set, not computed, so that they are exact.
            if k == 0 { return from }
            if k == count - 1 { return to }
            return from * pow(ratio, Double(k) / Double(count - 1))
        }
    }

    /// About `count` levels (at most `count`) strictly between the smallest and the largest finite
    /// value of `grid`, so that each one draws a contour; none when the grid has no finite value
    /// or is flat.
    ///
    /// - Linear: multiples of a nice step (1, 2, 2.5 or 5 × 10^k), the same rule as axis ticks
    ///   (`NiceScale`), so levels read as round numbers.
    /// - Logarithmic: over the positive values only, `count` levels geometrically spaced strictly
    ///   inside [min, max] (the ends are dropped from a `count + 2`-point progression), hence dense
    ///   near the minimum where a loss surface's basin is. Each level is rounded to the fewest
    ///   significant digits (2 to 6) that keep them all distinct, for readable labels.
    public static func automatic(for grid: ScalarGrid, count: Int = 10, logarithmic: Bool) -> [Double] {
        guard count >= 1 else { return [] }
        let values = logarithmic ? grid.values.filter { $0.isFinite && $0 > 0 } : grid.finiteValues
        guard let lowest = values.min(), let highest = values.max(), lowest < highest else { return [] }
        if !logarithmic {
            return NiceScale.ticks(from: lowest, to: highest, maximumCount: count)
                .filter { $0 > lowest && $0 < highest }
        }
        guard let progression = try? logSpaced(from: lowest, to: highest, count: count + 2) else { return [] }
        let inside = Array(progression.dropFirst().dropLast())
        for digits in 2...6 {
            let rounded = inside.map { roundedToSignificantDigits($0, digits) }
            let distinct = zip(rounded, rounded.dropFirst()).allSatisfy { $0 < $1 }
            if distinct, rounded.allSatisfy({ $0 > lowest && $0 < highest }) { return rounded }
        }
        return inside
    }

    /// `value` rounded to `digits` significant decimal digits, computed as an integer divided by
    /// (or multiplied by) a power of ten so that the result is the double nearest that decimal.
    static func roundedToSignificantDigits(_ value: Double, _ digits: Int) -> Double {
        guard value != 0, value.isFinite else { return value }
        let shift = digits - 1 - Int(floor(log10(abs(value))))
        if shift >= 0 {
            let scale = pow(10, Double(shift))
            return (value * scale).rounded() / scale
        }
        let scale = pow(10, Double(-shift))
        return (value / scale).rounded() * scale
    }
}
