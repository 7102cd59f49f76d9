import Foundation

/// Round numbers for axis ticks and contour levels.
///
/// A *nice* step is m × 10^e with m ∈ {1, 2, 2.5, 5}: numbers a reader can count along without
/// arithmetic. Ticks are the multiples k × step that fall inside a range. Each one is computed as
/// the integer k × (m × 10) divided (or multiplied) by an exact power of ten, never by
/// accumulating steps, so a tick is the double nearest its decimal value: 3 × 0.1 comes out as
/// 0.3, not 0.30000000000000004.
public enum NiceScale {
    /// The mantissas of nice steps, times ten so that 2.5 is an integer too.
    private static let mantissasTimesTen: [Double] = [10, 20, 25, 50]

    /// A nice step, m × 10^e, kept as an integer and a power of ten so that its multiples can be
    /// formed exactly: value = units × 10^exponent.
    struct DecimalStep: Equatable {
        /// m × 10 (10, 20, 25 or 50).
        var units: Double
        /// e − 1, the power of ten that `units` is counted in.
        var exponent: Int

        var value: Double { Self.scaled(units, by: exponent) }

        /// k steps: k × units scaled by 10^exponent. Powers of ten up to 10^22 are exact doubles,
        /// so the product of two integers divided by one is correctly rounded.
        func multiple(_ k: Double) -> Double { Self.scaled(k * units, by: exponent) }

        static func scaled(_ integer: Double, by exponent: Int) -> Double {
            if exponent >= 0 { return integer * powerOfTen(exponent) }
            // Dividing by an exact power of ten rounds once; multiplying by 10^-n (inexact) would
            // round twice and bring back the noise we are avoiding.
            return integer / powerOfTen(-exponent)
        }

        static func powerOfTen(_ n: Int) -> Double {
            // Exact for n <= 22; beyond, pow's nearest double is as good as it gets.
            n <= 22 ? (0..<n).reduce(1.0) { value, _ in value * 10 } : pow(10, Double(n))
        }

        /// The nice steps in increasing order, starting at the decade containing `near`.
        static func candidates(startingNear near: Double) -> some Sequence<DecimalStep> {
            let decade = Int(floor(log10(near)))
            return (decade - 1...decade + 2).lazy.flatMap { e in
                mantissasTimesTen.map { DecimalStep(units: $0, exponent: e - 1) }
            }
        }
    }

    /// The smallest nice step whose multiples inside [from, to] number at most `maximumCount`.
    ///
    /// For from == to the range has no width to divide, so the step is sized as for
    /// [0, |from|] (or [0, 1] at zero). Returns NaN when the range is not finite, wider than the
    /// largest double or narrower than doubles can divide, or when `maximumCount` < 1.
    public static func step(from: Double, to: Double, maximumCount: Int) -> Double {
        decimalStep(from: from, to: to, maximumCount: maximumCount)?.value ?? .nan
    }

    /// The nice values inside [from, to], in increasing order whichever way the range is given;
    /// at most `maximumCount`. An end that is a multiple of the step is included, also when
    /// rounding put its double a hair outside (within 10⁻⁹ of a step).
    ///
    /// The step is the smallest nice step that keeps the count within `maximumCount`, so
    /// `ticks(from: 0, to: 1, maximumCount: 5)` is [0, 0.25, 0.5, 0.75, 1] and with 6 it is
    /// [0, 0.2, 0.4, 0.6, 0.8, 1]. A zero-width range gives the value itself; a non-finite range
    /// or `maximumCount` < 1 gives no ticks.
    public static func ticks(from: Double, to: Double, maximumCount: Int) -> [Double] {
        guard from.isFinite, to.isFinite, maximumCount >= 1 else { return [] }
        if from == to { return [from] }
        guard let step = decimalStep(from: from, to: to, maximumCount: maximumCount) else { return [] }
        let (first, last) = multipleIndices(of: step, in: min(from, to), max(from, to))
        guard first <= last else { return [] }
        // Counted in integers: far from zero a Double stride of 1 would not advance.
        return (0..<Int(last - first + 1)).map { step.multiple(first + Double($0)) }
    }

    /// `value` as a tick label with just enough decimals to tell ticks `step` apart: the step's
    /// own decimals (0.25 → "0.50", 0.1 → "0.3", 50 → "150"), so labels along one axis line up.
    /// Steps below 10^-4 and values of 10^6 or more are written in scientific notation as
    /// Python's %g does ("1e-05", "2.5e+06"). A value that rounds to zero has no minus sign
    /// ("0.0", not "-0.0"). Without a usable step (zero or not finite) the value is written in
    /// the shortest form that reads back exactly.
    public static func label(_ value: Double, step: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
        let step = abs(step)
        guard step > 0, step.isFinite else { return value == 0 ? "0" : "\(value)" }
        if (step > 0 && step < 1e-4) || abs(value) >= 1e6 {
            return scientificLabel(value, step: step)
        }
        let digits = decimals(of: step)
        let text = String(format: "%.\(digits)f", value)
        return isNegativeZero(text) ? String(text.dropFirst()) : text
    }

    // MARK: - Internals

    static func decimalStep(from: Double, to: Double, maximumCount: Int) -> DecimalStep? {
        guard from.isFinite, to.isFinite, maximumCount >= 1 else { return nil }
        var lower = min(from, to), upper = max(from, to)
        if lower == upper {
            // No width to divide: size the step as for [0, value] ([0, 1] at zero).
            (lower, upper) = from == 0 ? (0, 1) : (min(0, from), max(0, from))
        }
        let span = upper - lower
        guard span.isFinite else { return nil }
        let near = span / Double(maximumCount)
        guard near.isNormal else { return nil }     // subnormal ranges have no decade to start from
        // Candidates start one decade below the step that splits the span into maximumCount
        // parts, so the first acceptable one is the smallest. Growing the step never jumps from
        // two or more ticks to none (each nice step is at most 2.5 times the previous and any
        // range holding two multiples of the smaller holds one of the larger), so the answer
        // always has at least one tick.
        for candidate in DecimalStep.candidates(startingNear: near) {
            let (first, last) = multipleIndices(of: candidate, in: lower, upper)
            if last - first + 1 <= Double(maximumCount) { return candidate }
        }
        return nil
    }

    /// The first and last k with k × step in [lower, upper], forgiving 10⁻⁹ of a step at the ends
    /// so that an end that is a tick in decimal (0.3) counts even if its double is not.
    static func multipleIndices(of step: DecimalStep, in lower: Double, _ upper: Double) -> (Double, Double) {
        let size = step.value
        let slack = 1e-9
        return (ceil(lower / size - slack), floor(upper / size + slack))
    }

    /// The decimals needed to write `step` exactly: 0 for integers, 1 for 0.5, 2 for 0.25.
    static func decimals(of step: Double) -> Int {
        guard step.isFinite, step > 0 else { return 0 }
        for digits in 0...15 {
            let scaled = step * DecimalStep.powerOfTen(digits)
            if abs(scaled - scaled.rounded()) <= 1e-9 * scaled { return digits }
        }
        return 15
    }

    static func scientificLabel(_ value: Double, step: Double) -> String {
        if value == 0 { return "0" }
        // Mantissa digits: enough to resolve the step at the value's magnitude (at most 15),
        // then trailing zeros dropped as %g does.
        func writtenMantissa(at exponent: Int) -> String {
            let digits = min(15, decimals(of: step / pow(10, Double(exponent))))
            return String(format: "%.\(digits)f", value / pow(10, Double(exponent)))
        }
        var exponent = Int(floor(log10(abs(value))))
        var mantissa = writtenMantissa(at: exponent)
        // log10 may land one off near powers of ten, and rounding may carry 9.96 to 10.0: bring
        // the written mantissa back into [1, 10).
        if let m = Double(mantissa), abs(m) >= 10 {
            exponent += 1
            mantissa = writtenMantissa(at: exponent)
        } else if let m = Double(mantissa), abs(m) < 1 {
            exponent -= 1
            mantissa = writtenMantissa(at: exponent)
        }
        if mantissa.contains(".") {
            while mantissa.hasSuffix("0") { mantissa.removeLast() }
            if mantissa.hasSuffix(".") { mantissa.removeLast() }
        }
        let sign = exponent < 0 ? "-" : "+"
        let magnitude = abs(exponent)
        return "\(mantissa)e\(sign)\(magnitude < 10 ? "0" : "")\(magnitude)"
    }

    private static func isNegativeZero(_ text: String) -> Bool {
        text.hasPrefix("-") && text.dropFirst().allSatisfy { $0 == "0" || $0 == "." }
    }
}
