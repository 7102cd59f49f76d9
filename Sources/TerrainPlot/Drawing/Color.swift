/// An sRGB colour with alpha, components in 0...1.
public struct Color: Sendable, Equatable {
    public var red: Double, green: Double, blue: Double, alpha: Double

    public init(red: Double, green: Double, blue: Double, alpha: Double = 1) {
        self.red = red; self.green = green; self.blue = blue; self.alpha = alpha
    }

    /// From a 0xRRGGBB literal.
    public init(hex: UInt32, alpha: Double = 1) {
        self.init(red: Double((hex >> 16) & 0xff) / 255, green: Double((hex >> 8) & 0xff) / 255,
                  blue: Double(hex & 0xff) / 255, alpha: alpha)
    }

    public func withAlpha(_ alpha: Double) -> Color { Color(red: red, green: green, blue: blue, alpha: alpha) }

    /// Componentwise linear mix: `t` = 0 gives self, 1 gives `other`.
    public func mixed(with other: Color, _ t: Double) -> Color {
        Color(red: red + (other.red - red) * t, green: green + (other.green - green) * t,
              blue: blue + (other.blue - blue) * t, alpha: alpha + (other.alpha - alpha) * t)
    }

    /// "#rrggbb", for SVG and HTML.
    public var hexString: String {
        func byte(_ v: Double) -> Int { Int((min(max(v, 0), 1) * 255).rounded()) }
        return "#" + [red, green, blue].map { String(format: "%02x", byte($0)) }.joined()
    }

    public static let black = Color(hex: 0x000000)
    public static let white = Color(hex: 0xffffff)
    public static let text = Color(hex: 0x222222)
    public static let grid = Color(hex: 0xdddddd)
    /// The series colours of line charts, distinguishable in colour-blind vision.
    public static let series: [Color] = [0x1f77b4, 0xd62728, 0x2ca02c, 0x9467bd, 0xff7f0e, 0x17becf, 0x8c564b, 0xe377c2]
        .map { Color(hex: $0) }
    /// Points not computed yet (NaN).
    public static let missing = Color(hex: 0xd9d9d9)
    /// Points computed to NaN (`ScalarGrid.isInvalid`): darker than the grey of missing ones.
    public static let invalid = Color(hex: 0x8c8c8c)
    /// Diverged points (+∞ loss).
    public static let diverged = Color(hex: 0xffffff)
}

import Foundation
