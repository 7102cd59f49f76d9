import Foundation

/// A strict GIF89a reader written for the tests, independent of the encoder: it follows the
/// specification's decoder (codes widen when the next free code reaches 2^width, no new string
/// once 4096 are defined) and fails on anything a careless encoder could get wrong: a code that
/// is neither defined nor the next one (the KwKwK case), data after end-of-information, a
/// stream that ends without it, a pixel count other than the frame's, an index beyond the table.
struct DecodedGIF {
    struct Frame {
        var indices: [UInt8]
        /// Hundredths of a second.
        var delay: Int
        var disposal: Int
        /// Clear codes met after the first one: how often the table filled up.
        var clears: Int
        var minimumCodeSize: Int
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    var width = 0, height = 0
    /// The global colour table as 0xRRGGBB.
    var palette: [UInt32] = []
    /// The NETSCAPE2.0 loop count, nil without the extension.
    var loopCount: Int?
    var frames: [Frame] = []

    /// The RGB colour of every pixel of frame k, as 0xRRGGBB.
    func colors(frame k: Int) -> [UInt32] { frames[k].indices.map { palette[Int($0)] } }

    init(_ bytes: [UInt8]) throws {
        var p = 0
        func byte() throws -> Int {
            guard p < bytes.count else { throw Malformed(description: "the file ends early at byte \(p)") }
            defer { p += 1 }
            return Int(bytes[p])
        }
        func le16() throws -> Int { let lo = try byte(); return lo | (try byte()) << 8 }
        func subBlocks() throws -> [UInt8] {
            var data: [UInt8] = []
            while true {
                let n = try byte()
                if n == 0 { return data }
                guard p + n <= bytes.count else { throw Malformed(description: "a sub-block runs past the end") }
                data += bytes[p..<(p + n)]
                p += n
            }
        }
        guard bytes.count >= 13, Array(bytes[0..<6]) == Array("GIF89a".utf8) else { throw Malformed(description: "no GIF89a signature") }
        p = 6
        width = try le16(); height = try le16()
        let packed = try byte()
        _ = try byte(); _ = try byte()
        guard packed & 0x80 != 0 else { throw Malformed(description: "no global colour table") }
        let entries = 1 << ((packed & 7) + 1)
        for _ in 0..<entries { palette.append(UInt32(try byte()) << 16 | UInt32(try byte()) << 8 | UInt32(try byte())) }
        var delay = 0, disposal = 0
        loop: while true {
            switch try byte() {
            case 0x21:
                let label = try byte()
                if label == 0xF9 {
                    guard try byte() == 4 else { throw Malformed(description: "a graphic control block is not 4 bytes") }
                    let flags = try byte()
                    disposal = (flags >> 2) & 7
                    delay = try le16()
                    _ = try byte()
                    guard try byte() == 0 else { throw Malformed(description: "no terminator after the graphic control block") }
                } else if label == 0xFF {
                    let block = try subBlocks()
                    if block.count == 14, Array(block[0..<11]) == Array("NETSCAPE2.0".utf8), block[11] == 1 {
                        loopCount = Int(block[12]) | Int(block[13]) << 8
                    }
                } else {
                    _ = try subBlocks()
                }
            case 0x2C:
                let left = try le16(), top = try le16(), w = try le16(), h = try le16()
                let flags = try byte()
                guard left == 0, top == 0, w == width, h == height, flags & 0x80 == 0, flags & 0x40 == 0 else {
                    throw Malformed(description: "frame \(frames.count): not a full, non-interlaced frame on the global table")
                }
                let m = try byte()
                guard (2...8).contains(m) else { throw Malformed(description: "minimum code size \(m)") }
                let (indices, clears) = try Self.lzwDecode(try subBlocks(), minimumCodeSize: m, pixels: w * h)
                guard indices.allSatisfy({ Int($0) < palette.count }) else { throw Malformed(description: "an index beyond the colour table") }
                frames.append(Frame(indices: indices, delay: delay, disposal: disposal, clears: clears, minimumCodeSize: m))
                delay = 0; disposal = 0
            case 0x3B:
                guard p == bytes.count else { throw Malformed(description: "\(bytes.count - p) bytes after the trailer") }
                break loop
            case let other:
                throw Malformed(description: String(format: "unexpected block 0x%02x at byte %d", other, p - 1))
            }
        }
    }

    static func lzwDecode(_ data: [UInt8], minimumCodeSize m: Int, pixels: Int) throws -> ([UInt8], Int) {
        let clear = 1 << m, end = clear + 1
        var bitPosition = 0
        func read(_ width: Int) throws -> Int {
            guard bitPosition + width <= 8 * data.count else { throw Malformed(description: "the code stream ends without end-of-information") }
            var code = 0
            for b in 0..<width {
                let bit = Int(data[(bitPosition + b) >> 3] >> UInt8((bitPosition + b) & 7)) & 1
                code |= bit << b
            }
            bitPosition += width
            return code
        }
        var table: [[UInt8]] = []
        func reset() { table = (0..<clear).map { [UInt8($0)] } + [[], []] }
        reset()
        var width = m + 1
        var previous: [UInt8]? = nil
        var output: [UInt8] = []
        var clears = -1
        guard try read(width) == clear else { throw Malformed(description: "the stream does not start with a clear code") }
        clears += 1
        while true {
            let code = try read(width)
            if code == clear {
                reset(); width = m + 1; previous = nil; clears += 1
                continue
            }
            if code == end { break }
            let entry: [UInt8]
            if code < table.count && code != clear && code != end {
                entry = table[code]
            } else if code == table.count, let previous {
                entry = previous + [previous[0]]
            } else {
                throw Malformed(description: "code \(code) is neither defined nor the next one (\(table.count))")
            }
            output += entry
            if let previous, table.count < 4096 {
                table.append(previous + [entry[0]])
            }
            if table.count == 1 << width && width < 12 { width += 1 }
            previous = entry
        }
        // Only padding may follow: the rest of the last byte, zero bits.
        guard (bitPosition + 7) / 8 == data.count else {
            throw Malformed(description: "\(data.count - (bitPosition + 7) / 8) bytes after end-of-information")
        }
        guard output.count == pixels else { throw Malformed(description: "\(output.count) pixels for a frame of \(pixels)") }
        return (output, clears)
    }
}
