import Foundation

/// A data range mapped onto a page interval, linearly or logarithmically (base 10).
public struct AxisScale: Sendable, Equatable {
    public var minimum: Double
    public var maximum: Double
    public var logarithmic: Bool
    /// Linear ticks at whole numbers only (epochs): a range of a few units keeps ticks at its
    /// units instead of being cut into fractions.
    public var wholeNumberTicks = false

    public init(minimum: Double, maximum: Double, logarithmic: Bool = false) {
        self.minimum = minimum
        self.maximum = maximum
        self.logarithmic = logarithmic
    }

    /// A scale that covers `values` (non-finite ones and, when logarithmic, non-positive ones
    /// left out), padded by `padding` of the span; a single value gets a span of its own.
    public static func covering(_ values: [Double], logarithmic: Bool = false, padding: Double = 0) -> AxisScale {
        let usable = values.filter { $0.isFinite && (!logarithmic || $0 > 0) }
        guard var lo = usable.min(), var hi = usable.max() else {
            return AxisScale(minimum: logarithmic ? 1 : 0, maximum: logarithmic ? 10 : 1, logarithmic: logarithmic)
        }
        if logarithmic {
            if hi / lo < 1.0001 { lo /= 2; hi *= 2 }
            let pad = pow(hi / lo, padding)
            return AxisScale(minimum: lo / pad, maximum: hi * pad, logarithmic: true)
        }
        if hi - lo < 1e-12 * max(1, abs(hi)) { lo -= max(0.5, abs(lo) * 0.1); hi += max(0.5, abs(hi) * 0.1) }
        let pad = (hi - lo) * padding
        return AxisScale(minimum: lo - pad, maximum: hi + pad)
    }

    /// Where `value` falls between 0 (minimum) and 1 (maximum); NaN for values a log scale cannot show.
    public func fraction(of value: Double) -> Double {
        if logarithmic {
            guard value > 0 else { return .nan }
            return (log10(value) - log10(minimum)) / (log10(maximum) - log10(minimum))
        }
        return (value - minimum) / (maximum - minimum)
    }

    /// The data value at `fraction` of the way.
    public func value(atFraction t: Double) -> Double {
        logarithmic ? pow(10, log10(minimum) + t * (log10(maximum) - log10(minimum))) : minimum + t * (maximum - minimum)
    }

    /// Tick values inside the range, with their labels.
    public func ticks(maximumCount: Int = 6) -> [(value: Double, label: String)] {
        guard logarithmic else {
            if wholeNumberTicks {
                let step = max(1, NiceScale.step(from: minimum, to: maximum, maximumCount: maximumCount))
                guard step.isFinite else { return [] }
                let first = (minimum / step).rounded(.up), last = (maximum / step).rounded(.down)
                guard first <= last else { return [] }
                return stride(from: first, through: last, by: 1).map { ($0 * step, NiceScale.label($0 * step, step: step)) }
            }
            let step = NiceScale.step(from: minimum, to: maximum, maximumCount: maximumCount)
            return NiceScale.ticks(from: minimum, to: maximum, maximumCount: maximumCount).map { ($0, NiceScale.label($0, step: step)) }
        }
        // Decades, thinned to fit; with less than two decades, 1-2-5 steps inside them. A range
        // narrower than one such step (perplexities 240..400 hold none of 100, 200, 500) gets the
        // linear scale's nice ticks instead, placed on the log axis: a bar without labels says nothing.
        let lo = Int(floor(log10(minimum) + 1e-9)), hi = Int(ceil(log10(maximum) - 1e-9))
        var values: [Double] = []
        let multiples: [Double] = hi - lo <= 2 ? [1, 2, 5] : hi - lo <= 4 ? [1, 3] : [1]
        let every = multiples.count == 1 ? max(1, (hi - lo + maximumCount - 1) / maximumCount) : 1
        for e in stride(from: lo, through: hi, by: every) {
            for m in multiples { values.append(m * pow(10, Double(e))) }
        }
        let inside = values.filter { $0 >= minimum * (1 - 1e-9) && $0 <= maximum * (1 + 1e-9) }
        guard inside.count >= 2 else {
            return AxisScale(minimum: minimum, maximum: maximum).ticks(maximumCount: maximumCount)
        }
        return inside.map { ($0, Self.logLabel($0)) }
    }

    /// "0.01", "1", "200", "1e+06": short labels for powers and 1-2-5 multiples.
    public static func logLabel(_ v: Double) -> String {
        if v >= 1e5 || v < 1e-3 { return String(format: "%.0e", v) }
        return String(format: "%g", v)
    }
}
