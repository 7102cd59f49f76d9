/// The coordinates along one direction: `min:max:num` as in the reference's `--x=-1:1:51`.
public struct Axis: Sendable, Equatable, Codable {
    public enum Spacing: String, Sendable, Codable {
        /// Evenly spaced, as numpy's `linspace` (both ends included).
        case linear
        /// Dense near zero: t ↦ t³ / max(|min|, |max|)² over an even t grid, which keeps the ends
        /// and puts more points near the minimizer (the Keras loss-surface tutorial's choice).
        case cubic
    }

    /// The most points one axis may have (`SurfaceGrid.checkSize` bounds the grid as a whole).
    public static let maximumCount = 100_000

    public var minimum: Double
    public var maximum: Double
    public var count: Int
    public var spacing: Spacing

    public init(minimum: Double, maximum: Double, count: Int, spacing: Spacing = .linear) {
        self.minimum = minimum; self.maximum = maximum; self.count = count; self.spacing = spacing
    }

    /// Parses `min:max:num` (e.g. `-1:1:51`; a leading minus works).
    public static func parse(_ text: String, spacing: Spacing = .linear) throws -> Axis {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 3, let lo = Double(parts[0]), let hi = Double(parts[1]), let n = Int(parts[2]) else {
            throw LandscapeError.invalidRequest("a range is min:max:num, e.g. -1:1:51; got '\(text)'")
        }
        guard lo.isFinite, hi.isFinite, (hi - lo).isFinite, n >= 1 else {
            throw LandscapeError.invalidRequest("range '\(text)': bounds must be finite numbers and num at least 1")
        }
        guard n == 1 || lo < hi else {
            throw LandscapeError.invalidRequest("range '\(text)': min must be below max")
        }
        guard n <= maximumCount else { throw LandscapeError.invalidRequest("range '\(text)': at most \(maximumCount) points per axis") }
        return Axis(minimum: lo, maximum: hi, count: n, spacing: spacing)
    }

    public var coordinates: [Double] {
        guard count > 1 else { return [minimum] }
        let step = (maximum - minimum) / Double(count - 1)
        var t = (0..<count).map { minimum + Double($0) * step }
        t[count - 1] = maximum
        switch spacing {
        case .linear:
            return t
        case .cubic:
            let scale = max(abs(minimum), abs(maximum))
            return t.map { $0 * $0 * $0 / (scale * scale) }
        }
    }

    public var text: String { "\(minimum):\(maximum):\(count)" }
}

import Foundation
