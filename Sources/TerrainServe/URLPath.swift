import Foundation

/// Percent-encoding of URL paths, strict both ways.
enum URLPath {
    /// The bytes of `%XX` sequences, as UTF-8 text; nil when a `%` is not followed by two hex
    /// digits or the result is not UTF-8. `+` stays `+` (it means a space only in forms).
    static func decode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        while let c = iterator.next() {
            if c == UInt8(ascii: "%") {
                guard let h = iterator.next().flatMap(hex), let l = iterator.next().flatMap(hex) else { return nil }
                bytes.append(h << 4 | l)
            } else {
                bytes.append(c)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// One path component (or a relative path, keeping its slashes) with everything but
    /// RFC 3986's unreserved characters percent-encoded: safe in an href and a query value.
    static func encode(_ text: String, keepingSlashes: Bool = true) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepingSlashes:
                out += "/"
            default:
                let digits = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
            }
        }
        return out
    }

    /// `a=1&f=x%2Fy&f=z` as (name, value) pairs in order, values decoded; nil when malformed.
    static func query(_ text: String?) -> [(name: String, value: String)]? {
        guard let text, !text.isEmpty else { return [] }
        var pairs: [(name: String, value: String)] = []
        for part in text.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            // Forms send spaces as '+'.
            func decoded(_ s: Substring) -> String? { decode(Substring(s.replacingOccurrences(of: "+", with: " "))) }
            guard let name = decoded(pieces[0]), let value = pieces.count > 1 ? decoded(pieces[1]) : "" else { return nil }
            pairs.append((name, value))
        }
        return pairs
    }
}
