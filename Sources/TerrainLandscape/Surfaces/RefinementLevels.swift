/// The contour levels an adaptive refinement must resolve: a rule from the values computed so far
/// to the levels a figure of them would draw.
///
/// The rule is passed in rather than chosen here, so that the levels are exactly the figures'
/// (`TerrainReport.FigureLevels.refinement()`) without this layer knowing how figures are drawn.
/// `evenlySpaced(count:)` is a plain rule for callers without figures (tests, other front ends).
public struct RefinementLevels: Sendable {
    /// Names the rule in a run's fingerprint: a run with other levels plans other points.
    public let name: String
    private let rule: @Sendable (_ finiteValues: [Double]) -> [Double]

    /// `rule` gets the finite values computed so far (never empty) and returns the levels.
    public init(name: String, _ rule: @escaping @Sendable (_ finiteValues: [Double]) -> [Double]) {
        self.name = name
        self.rule = rule
    }

    /// The same levels whatever the values.
    public static func fixed(_ levels: [Double]) -> RefinementLevels {
        RefinementLevels(name: "fixed " + levels.map { "\($0)" }.joined(separator: ",")) { _ in levels }
    }

    /// `count` levels evenly spaced strictly inside [min, max] of the values: min + k·(max − min)/(count + 1).
    public static func evenlySpaced(count: Int) -> RefinementLevels {
        RefinementLevels(name: "even \(count)") { values in
            guard count >= 1, let low = values.min(), let high = values.max(), low < high else { return [] }
            let step = (high - low) / Double(count + 1)
            return (1...count).map { low + Double($0) * step }
        }
    }

    /// The levels for `finiteValues`, ascending and distinct (non-finite levels dropped).
    public func levels(for finiteValues: [Double]) -> [Double] {
        guard !finiteValues.isEmpty else { return [] }
        let sorted = rule(finiteValues).filter(\.isFinite).sorted()
        return zip(sorted.indices, sorted).filter { $0.0 == 0 || sorted[$0.0 - 1] < $0.1 }.map(\.1)
    }
}

extension RefinementLevels {
    /// The contour spacing around the values low...high on a field whose finite values are
    /// `finiteValues`: the levels this rule draws over them (`levels(for:)`) and the smallest
    /// gap between neighbouring levels from the last level at or below `low` to the first at or
    /// above `high` (with fewer than two levels: the values' range, ∞ if it is 0). The one
    /// definition of "a contour level spacing", shared by adaptive refinement (its tolerance)
    /// and by bf16 runs (their error, in spacings).
    public func spacing(low: Double, high: Double, finiteValues: [Double]) -> Double {
        LevelSet(rule: self, finiteValues: finiteValues).spacing(low: low, high: high)
    }
}

/// Contour levels prepared for the questions a refinement asks of a cell.
struct LevelSet {
    let levels: [Double]
    /// Used when fewer than two levels give no gap: the range of the values the levels came from.
    let fallbackSpacing: Double

    init(levels: [Double], range: Double) {
        self.levels = levels
        fallbackSpacing = range > 0 ? range : .infinity
    }

    /// The levels `rule` draws over `finiteValues`, with their range as the fallback.
    init(rule: RefinementLevels, finiteValues: [Double]) {
        let range = (finiteValues.max() ?? 0) - (finiteValues.min() ?? 0)
        self.init(levels: rule.levels(for: finiteValues), range: range)
    }

    /// The levels v with low < v ≤ high (a contour at v separates a corner below v, v ≥ its
    /// other corners' — marching squares' convention: v ≥ level is above).
    func crossing(low: Double, high: Double) -> ArraySlice<Double> {
        levels[firstIndex(above: low)..<firstIndex(above: high)]
    }

    /// The smallest gap between neighbouring levels from the last one at or below `low` to the
    /// first one at or above `high`: the finest spacing a figure draws over that range.
    func spacing(low: Double, high: Double) -> Double {
        guard levels.count >= 2 else { return fallbackSpacing }
        let first = max(firstIndex(above: low) - 1, 0)
        let last = min(max(firstIndex(above: high), first + 1), levels.count - 1)
        var gap = Double.infinity
        for k in first..<last { gap = min(gap, levels[k + 1] - levels[k]) }
        return gap
    }

    /// The contour spacing at a value, for a sampling tolerance (`DataSampling`): the gap
    /// between the levels around v; below the lowest level the lowest gap scaled by v/lowest
    /// level when both are positive (log-spaced levels continued; evenly spaced ones only get a
    /// stricter bound); above the highest level the highest gap. `fallbackSpacing` with fewer
    /// than two levels.
    func localSpacing(at v: Double) -> Double {
        guard levels.count >= 2 else { return fallbackSpacing }
        let k = firstIndex(above: v)
        if k == 0 {
            let gap = levels[1] - levels[0]
            return v > 0 && levels[0] > 0 ? gap * min(v / levels[0], 1) : gap
        }
        if k == levels.count { return levels[k - 1] - levels[k - 2] }
        return levels[k] - levels[k - 1]
    }

    /// The index of the first level greater than `value` (levels.count if none).
    private func firstIndex(above value: Double) -> Int {
        var lo = 0, hi = levels.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if levels[mid] > value { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}
