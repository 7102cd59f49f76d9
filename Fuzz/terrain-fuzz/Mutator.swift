import Foundation
import TerrainTensor

/// Seeded byte-level mutations for the smoke run (the build without libFuzzer): the kinds of
/// damage that break readers — flipped bits, lengths and counts set to boundary values, cut or
/// repeated stretches, numbers in text replaced by extreme ones. The same seed gives the same
/// inputs, so a failure is reproduced by rerunning with the seed printed.
struct Mutator {
    private var generator: SeededGenerator

    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    /// Integers that sit on the edges readers must check: zero, signs, 2^31, 2^32, 2^63.
    private static let boundaryWords: [UInt64] = [
        0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000,
        0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_FFFF,
    ]
    /// Text that numbers in CSV tables, JSON headers and NPY headers may be replaced by.
    private static let boundaryTexts = [
        "-1", "0", "nan", "inf", "-inf", "1e300", "9999999999", "4611686018427387904", "18446744073709551616",
        "9223372036854775807", "-9223372036854775808", "2.5", "", ",", "\"", "[", "]", "{", "}", "(", ")", ":",
    ]

    private mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(generator.next() % UInt64(n)) }

    /// `input` with one to four mutations applied.
    mutating func mutate(_ input: Data) -> Data {
        var bytes = [UInt8](input)
        for _ in 0...below(4) { mutateOnce(&bytes) }
        return Data(bytes)
    }

    private mutating func mutateOnce(_ bytes: inout [UInt8]) {
        if bytes.isEmpty { bytes = [UInt8(truncatingIfNeeded: generator.next())]; return }
        let at = below(bytes.count)
        switch below(8) {
        case 0:  // flip one bit
            bytes[at] ^= UInt8(1) << UInt8(below(8))
        case 1:  // a random byte
            bytes[at] = UInt8(truncatingIfNeeded: generator.next())
        case 2:  // a boundary integer, 1, 2, 4 or 8 bytes wide, in either byte order
            let word = Self.boundaryWords[below(Self.boundaryWords.count)]
            let width = [1, 2, 4, 8][below(4)]
            let bigEndian = below(2) == 0
            for k in 0..<width where at + k < bytes.count {
                let shift = UInt64(8 * (bigEndian ? width - 1 - k : k))
                bytes[at + k] = UInt8(truncatingIfNeeded: word >> shift)
            }
        case 3:  // cut the end off
            bytes.removeSubrange(at...)
        case 4:  // remove a stretch
            bytes.removeSubrange(at..<min(bytes.count, at + 1 + below(64)))
        case 5:  // repeat a stretch
            let end = min(bytes.count, at + 1 + below(256))
            bytes.insert(contentsOf: bytes[at..<end], at: below(bytes.count + 1))
        case 6:  // replace a run of digits (or insert) with a boundary text
            var end = at
            while end < bytes.count, (0x30...0x39).contains(bytes[end]) || bytes[end] == 0x2E { end += 1 }
            let text = Self.boundaryTexts[below(Self.boundaryTexts.count)]
            bytes.replaceSubrange(at..<end, with: Array(text.utf8))
        default:  // copy one stretch over another
            let length = 1 + below(32)
            let from = below(bytes.count)
            for k in 0..<length where from + k < bytes.count && at + k < bytes.count { bytes[at + k] = bytes[from + k] }
        }
    }
}
