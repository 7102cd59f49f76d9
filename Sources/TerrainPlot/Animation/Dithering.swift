/// How colours missing from a palette are approximated when an image is indexed.
public enum Dithering: String, Sendable, CaseIterable {
    /// Each pixel takes its nearest palette colour: flat areas stay flat, gradients band.
    case none
    /// An 8×8 Bayer threshold pattern added before the nearest colour is taken: gradients look
    /// smooth, and the pattern is fixed to the pixel grid, so an unchanged region of an
    /// animation stays unchanged from frame to frame (no shimmer).
    case ordered
    /// Floyd–Steinberg error diffusion (7/16 right, 3/16, 5/16, 1/16 below): the most faithful
    /// average colour, but a change anywhere can move the pattern downstream of it.
    case floydSteinberg = "floyd-steinberg"
}

extension ColorPalette {
    /// The palette index of every pixel of `image` (alpha ignored), row-major.
    ///
    /// Pixels whose colour the palette holds exactly keep it under every method (so a lossless
    /// palette gives a lossless image); dithering only touches the colours it lacks.
    public func indices(of image: RGBAImage, dithering: Dithering = .none) -> [UInt8] {
        var lookup = NearestColorCache(palette: self)
        let w = image.width, h = image.height
        var result = [UInt8](repeating: 0, count: w * h)
        switch dithering {
        case .none:
            for p in 0..<(w * h) {
                result[p] = lookup.index(of: Self.color(image.bytes, p))
            }
        case .ordered:
            let amplitude = orderedAmplitude
            for y in 0..<h {
                for x in 0..<w {
                    let p = y * w + x, color = Self.color(image.bytes, p)
                    if let exact = lookup.exactIndex(of: color) { result[p] = exact; continue }
                    let t = (Double(Self.bayer[(y & 7) * 8 + (x & 7)]) + 0.5) / 64 - 0.5
                    let shift = Int((t * amplitude).rounded())
                    result[p] = lookup.index(of: Self.offset(color, by: shift))
                }
            }
        case .floydSteinberg:
            // Errors carried to the current and the next row, 3 channels per pixel, with one
            // pixel of padding on each side.
            var current = [Double](repeating: 0, count: 3 * (w + 2)), next = current
            for y in 0..<h {
                for x in 0..<w {
                    let p = y * w + x, color = Self.color(image.bytes, p)
                    var wanted = [0.0, 0.0, 0.0]
                    for c in 0..<3 {
                        wanted[c] = min(255, max(0, Double((color >> UInt32(16 - 8 * c)) & 0xff) + current[3 * (x + 1) + c]))
                    }
                    let rounded = wanted.map { UInt32($0.rounded()) }
                    let index = lookup.index(of: rounded[0] << 16 | rounded[1] << 8 | rounded[2])
                    result[p] = index
                    let chosen = colors[Int(index)]
                    for c in 0..<3 {
                        let error = wanted[c] - Double((chosen >> UInt32(16 - 8 * c)) & 0xff)
                        current[3 * (x + 2) + c] += error * 7 / 16
                        next[3 * x + c] += error * 3 / 16
                        next[3 * (x + 1) + c] += error * 5 / 16
                        next[3 * (x + 2) + c] += error * 1 / 16
                    }
                }
                swap(&current, &next)
                for i in next.indices { next[i] = 0 }
            }
        }
        return result
    }

    /// The 8×8 Bayer matrix (values 0..<64, each once).
    static let bayer: [Int] = {
        var m = [0]
        var size = 1
        while size < 8 {
            var bigger = [Int](repeating: 0, count: 4 * size * size)
            for y in 0..<size {
                for x in 0..<size {
                    let v = 4 * m[y * size + x]
                    bigger[y * 2 * size + x] = v
                    bigger[y * 2 * size + x + size] = v + 2
                    bigger[(y + size) * 2 * size + x] = v + 3
                    bigger[(y + size) * 2 * size + x + size] = v + 1
                }
            }
            m = bigger
            size *= 2
        }
        return m
    }()

    /// The spread of the ordered pattern: the median distance from a palette colour to its
    /// nearest other entry, so that the pattern reaches about one neighbour away.
    var orderedAmplitude: Double {
        guard colors.count > 1 else { return 0 }
        let distances = colors.indices.map { i -> Double in
            var best = Int.max
            for j in colors.indices where j != i {
                var d = 0
                for c in 0..<3 {
                    let delta = Int((colors[i] >> UInt32(16 - 8 * c)) & 0xff) - Int((colors[j] >> UInt32(16 - 8 * c)) & 0xff)
                    d += delta * delta
                }
                best = min(best, d)
            }
            return Double(best).squareRoot()
        }.sorted()
        return distances[distances.count / 2]
    }

    static func color(_ bytes: [UInt8], _ pixel: Int) -> UInt32 {
        UInt32(bytes[4 * pixel]) << 16 | UInt32(bytes[4 * pixel + 1]) << 8 | UInt32(bytes[4 * pixel + 2])
    }

    /// Every channel moved by `shift`, clamped to 0...255.
    static func offset(_ color: UInt32, by shift: Int) -> UInt32 {
        var result: UInt32 = 0
        for c in 0..<3 {
            let v = Int((color >> UInt32(16 - 8 * c)) & 0xff) + shift
            result |= UInt32(min(255, max(0, v))) << UInt32(16 - 8 * c)
        }
        return result
    }
}

/// `ColorPalette.nearest` remembered per colour: an image has far fewer distinct colours than pixels.
struct NearestColorCache {
    let palette: ColorPalette
    private var known: [UInt32: UInt8] = [:]
    private let exact: [UInt32: UInt8]

    init(palette: ColorPalette) {
        self.palette = palette
        var exact: [UInt32: UInt8] = [:]
        for (k, c) in palette.colors.enumerated() where exact[c] == nil { exact[c] = UInt8(k) }
        self.exact = exact
    }

    func exactIndex(of color: UInt32) -> UInt8? { exact[color] }

    mutating func index(of color: UInt32) -> UInt8 {
        if let k = exact[color] ?? known[color] { return k }
        let k = UInt8(palette.nearest(color))
        known[color] = k
        return k
    }
}
