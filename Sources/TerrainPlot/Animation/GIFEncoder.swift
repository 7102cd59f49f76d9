/// A GIF89a animation, written by Terrain itself: one global palette, one image per frame
/// covering the whole screen, each with its own delay, and the NETSCAPE2.0 application
/// extension that makes viewers loop.
///
/// Layout: `GIF89a`, the logical screen descriptor (size, global colour table of 2^(n+1)
/// entries), the colour table, the loop extension, then per frame a graphic control extension
/// (delay in 1/100 s, disposal "leave in place") and an image (descriptor, LZW minimum code
/// size, the LZW stream in sub-blocks of at most 255 bytes, a zero-length block), and the
/// trailer `;`.
public struct GIFEncoder {
    public let width: Int
    public let height: Int
    public let palette: ColorPalette
    /// nil: no loop extension (most viewers play once); 0: loop for ever; n: n more times.
    public var loopCount: Int?
    private var frames: [[UInt8]] = []

    public init(width: Int, height: Int, palette: ColorPalette, loopCount: Int? = 0) throws {
        guard width >= 1, height >= 1, width <= 65535, height <= 65535 else {
            throw PlotError.invalidData("a GIF is 1 to 65535 pixels wide and high, not \(width)x\(height)")
        }
        if let loopCount, !(0...65535).contains(loopCount) {
            throw PlotError.invalidData("a GIF loop count is 0 (for ever) to 65535, not \(loopCount)")
        }
        self.width = width; self.height = height; self.palette = palette; self.loopCount = loopCount
    }

    /// Bits per index of the colour table: 2^bits ≥ palette size (1...8).
    var tableBits: Int {
        var bits = 1
        while (1 << bits) < palette.colors.count { bits += 1 }
        return bits
    }

    /// Adds a frame of palette indices (row-major, `width` × `height`) shown for `delay`
    /// hundredths of a second (0...65535).
    public mutating func addFrame(indices: [UInt8], delay: Int) throws {
        guard indices.count == width * height else {
            throw PlotError.invalidData("a frame of \(indices.count) pixels for a \(width)x\(height) GIF")
        }
        guard (0...65535).contains(delay) else { throw PlotError.invalidData("a GIF frame delay is 0 to 65535 hundredths of a second, not \(delay)") }
        if let bad = indices.first(where: { Int($0) >= palette.colors.count }) {
            throw PlotError.invalidData("palette index \(bad) outside a palette of \(palette.colors.count) colours")
        }
        var bytes: [UInt8] = [0x21, 0xF9, 0x04, 0x04]   // graphic control: disposal 1 (leave in place), no transparency
        bytes += Self.le16(delay) + [0x00, 0x00]
        bytes += [0x2C] + Self.le16(0) + Self.le16(0) + Self.le16(width) + Self.le16(height) + [0x00]   // image descriptor
        let codeSize = GIFLZW.minimumCodeSize(paletteSize: 1 << tableBits)
        bytes.append(UInt8(codeSize))
        let stream = GIFLZW.encode(indices, minimumCodeSize: codeSize)
        var start = 0
        while start < stream.count {
            let end = min(start + 255, stream.count)
            bytes.append(UInt8(end - start))
            bytes += stream[start..<end]
            start = end
        }
        bytes.append(0x00)
        frames.append(bytes)
    }

    public var frameCount: Int { frames.count }

    /// The whole file.
    public func encoded() -> [UInt8] {
        var bytes = Array("GIF89a".utf8)
        let bits = tableBits
        bytes += Self.le16(width) + Self.le16(height)
        bytes += [0x80 | 0x70 | UInt8(bits - 1), 0x00, 0x00]   // global table, 8-bit colour resolution, 2^bits entries
        for k in 0..<(1 << bits) {
            let c = k < palette.colors.count ? palette.colors[k] : 0
            bytes += [UInt8((c >> 16) & 0xff), UInt8((c >> 8) & 0xff), UInt8(c & 0xff)]
        }
        if let loopCount {
            bytes += [0x21, 0xFF, 0x0B] + Array("NETSCAPE2.0".utf8) + [0x03, 0x01] + Self.le16(loopCount) + [0x00]
        }
        for frame in frames { bytes += frame }
        bytes.append(0x3B)
        return bytes
    }

    static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8((v >> 8) & 0xff)] }
}
