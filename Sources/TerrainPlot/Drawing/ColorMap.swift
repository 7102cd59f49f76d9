/// A colour map: t in 0...1 to a colour, by linear interpolation between evenly spaced anchors.
///
/// The anchors are ten samples of each map (matplotlib's viridis, cividis and magma, designed to be
/// perceptually uniform and readable in grey and by colour-blind viewers; a blue–grey–red diverging
/// map for signed data such as an eigenvalue ratio).
public struct ColorMap: Sendable {
    public let name: String
    /// Evenly spaced colours from t = 0 to t = 1 (the viewer page interpolates the same ones).
    public let anchors: [Color]

    public init(name: String, anchors: [Color]) {
        precondition(anchors.count >= 2)
        self.name = name
        self.anchors = anchors
    }

    /// The colour at `t`, clamped to 0...1; NaN gives `Color.missing`.
    public func color(at t: Double) -> Color {
        guard !t.isNaN else { return .missing }
        let u = min(max(t, 0), 1) * Double(anchors.count - 1)
        let i = min(Int(u), anchors.count - 2)
        return anchors[i].mixed(with: anchors[i + 1], u - Double(i))
    }

    public static let viridis = ColorMap(name: "viridis", anchors: [
        0x440154, 0x482878, 0x3e4a89, 0x31688e, 0x26828e, 0x1f9e89, 0x35b779, 0x6dcd59, 0xb4de2c, 0xfde725,
    ].map { Color(hex: $0) })

    public static let cividis = ColorMap(name: "cividis", anchors: [
        0x00204d, 0x00336f, 0x39486b, 0x575c6d, 0x707173, 0x8a8779, 0xa69d75, 0xc4b56c, 0xe4cf5b, 0xffea46,
    ].map { Color(hex: $0) })

    public static let magma = ColorMap(name: "magma", anchors: [
        0x000004, 0x180f3e, 0x451077, 0x721f81, 0x9f2f7f, 0xcd4071, 0xf1605d, 0xfd9567, 0xfec98d, 0xfcfdbf,
    ].map { Color(hex: $0) })

    /// Blue (negative) through light grey (zero) to red (positive).
    public static let diverging = ColorMap(name: "diverging", anchors: [
        0x3b4cc0, 0x6282ea, 0x8db0fe, 0xb8d0f9, 0xdddddd, 0xf5c4ad, 0xf49a7b, 0xde604d, 0xb40426,
    ].map { Color(hex: $0) })

    public static let all: [ColorMap] = [viridis, cividis, magma, diverging]

    public static func named(_ name: String) -> ColorMap? { all.first { $0.name == name.lowercased() } }
}
