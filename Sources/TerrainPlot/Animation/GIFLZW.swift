/// GIF's variant of LZW compression (GIF89a specification, appendix F): the code stream of one
/// image's palette indices, before it is cut into sub-blocks.
///
/// With a minimum code size m (2...8: enough bits for every index), codes 0..<2^m stand for the
/// indices themselves, 2^m is *clear* and 2^m + 1 *end of information*; new codes from 2^m + 2
/// name strings seen so far. Codes are written least significant bit first, starting at m + 1
/// bits. The encoder adds one string per code it writes; the decoder, which learns each string
/// one code later, widens its codes when its next free code reaches 2^width, so the encoder
/// widens right after it assigns code 2^width. The table holds at most 4096 codes (12 bits):
/// when the encoder has assigned code 4095 it writes a clear code (at 12 bits) and starts over,
/// so no decoder ever needs the rarely supported "deferred clear". The stream starts with a
/// clear code and ends with end-of-information, written at the width the decoder will expect
/// after the last data code.
enum GIFLZW {
    /// The smallest minimum code size that covers `paletteSize` indices (GIF's minimum is 2).
    static func minimumCodeSize(paletteSize: Int) -> Int {
        var bits = 2
        while (1 << bits) < paletteSize { bits += 1 }
        return bits
    }

    static func encode(_ indices: [UInt8], minimumCodeSize m: Int) -> [UInt8] {
        precondition(m >= 2 && m <= 8, "GIF's minimum code size is 2 to 8")
        let clear = 1 << m, end = clear + 1
        var writer = BitWriter()
        // table[prefix << 8 | byte] = code of the string prefix + byte (0: none; real codes are
        // > end). Entries set since the last clear are listed so a clear is cheap.
        var table = [UInt16](repeating: 0, count: 4096 * 256)
        var used: [Int] = []
        used.reserveCapacity(4096)
        var width = m + 1, next = clear + 2
        writer.write(clear, width: width)
        guard var prefix = indices.first.map(Int.init) else {
            writer.write(end, width: width)
            return writer.finish()
        }
        precondition(prefix < clear, "index \(prefix) does not fit \(m)-bit codes")
        for byte in indices.dropFirst() {
            let k = Int(byte)
            precondition(k < clear, "index \(k) does not fit \(m)-bit codes")
            let key = prefix << 8 | k
            let code = table[key]
            if code != 0 {
                prefix = Int(code)
                continue
            }
            writer.write(prefix, width: width)
            table[key] = UInt16(next)
            used.append(key)
            if next == 4095 {
                writer.write(clear, width: width)
                for key in used { table[key] = 0 }
                used.removeAll(keepingCapacity: true)
                width = m + 1
                next = clear + 2
            } else {
                if next == 1 << width { width += 1 }
                next += 1
            }
            prefix = k
        }
        writer.write(prefix, width: width)
        // The decoder adds a string for this last code (unless it is the first after a clear,
        // when `next` is still clear + 2 < 2^(m+1)) and may widen before reading the end code.
        if next == 1 << width && width < 12 { width += 1 }
        writer.write(end, width: width)
        return writer.finish()
    }

    /// Packs codes least significant bit first.
    struct BitWriter {
        private(set) var bytes: [UInt8] = []
        private var accumulator: UInt32 = 0
        private var count = 0

        mutating func write(_ code: Int, width: Int) {
            accumulator |= UInt32(code) << UInt32(count)
            count += width
            while count >= 8 {
                bytes.append(UInt8(accumulator & 0xff))
                accumulator >>= 8
                count -= 8
            }
        }

        mutating func finish() -> [UInt8] {
            if count > 0 { bytes.append(UInt8(accumulator & 0xff)); accumulator = 0; count = 0 }
            return bytes
        }
    }
}
