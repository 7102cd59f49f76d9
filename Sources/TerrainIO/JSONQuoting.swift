/// `text` as a JSON string literal, quotes included.
///
/// Quotes, backslashes and control characters are escaped; every other character, non-ASCII
/// included, is written as itself in UTF-8, which JSON allows and which keeps names readable in
/// a hex dump of the header.
func jsonQuoted(_ text: String) -> String {
    var quoted = "\""
    quoted.reserveCapacity(text.utf8.count + 2)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": quoted += "\\\""
        case "\\": quoted += "\\\\"
        case "\n": quoted += "\\n"
        case "\r": quoted += "\\r"
        case "\t": quoted += "\\t"
        case "\u{08}": quoted += "\\b"
        case "\u{0C}": quoted += "\\f"
        case "\u{00}"..."\u{1F}":
            let hex = String(scalar.value, radix: 16)
            quoted += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default:
            quoted.unicodeScalars.append(scalar)
        }
    }
    quoted += "\""
    return quoted
}
