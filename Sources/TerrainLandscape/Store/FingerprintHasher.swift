/// FNV-1a over 64-bit words and bytes: the one hash behind every fingerprint and checksum a
/// Terrain file or journal stores (a request's `terrain.request`, a map's or a stack's, the
/// directions' `terrain.directions_digest`, `point_checksum`, a journal record's check word).
///
/// h₀ = 0xcbf29ce484222325; each byte b: h ← (h ⊕ b)·0x100000001b3 (mod 2⁶⁴). A word enters as
/// its 8 bytes, least significant first; a `Double` as its IEEE bit pattern (so NaN, −0 and ±∞
/// are told apart); text as its UTF-8 length (a word) then its bytes, so that "ab" + "c" and
/// "a" + "bc" differ. Stored files hold these values: any change here makes old files look like
/// other requests (a resume would start again) or damaged (their checksums fail).
struct FingerprintHasher {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func mix(_ word: UInt64) {
        var v = word
        for _ in 0..<8 { mixByte(UInt8(truncatingIfNeeded: v)); v >>= 8 }
    }

    mutating func mix(_ number: Double) { mix(number.bitPattern) }

    mutating func mix(_ numbers: some Sequence<Double>) { for v in numbers { mix(v.bitPattern) } }

    /// Text: its UTF-8 length as a word, then its bytes.
    mutating func mix(_ text: String) {
        mix(UInt64(text.utf8.count))
        for b in text.utf8 { mixByte(b) }
    }

    private mutating func mixByte(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x100_0000_01b3
    }

    /// The value in lowercase hexadecimal without leading zeros, as the files store it.
    var hex: String { String(value, radix: 16) }
}
