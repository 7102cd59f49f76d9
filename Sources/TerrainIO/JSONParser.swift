/// A strict reader of JSON text (RFC 8259) into `JSONValue`, for safetensors headers.
///
/// Written for hostile input: every byte access is bounds-checked, nesting is limited so that
/// a header of a million `[` cannot exhaust the stack, and every defect is a thrown
/// `JSONSyntaxError` carrying the byte offset where it was found.
struct JSONParser {
    /// Deepest nesting of arrays and objects accepted; a safetensors header needs three levels.
    static let maximumDepth = 64

    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Parses a complete JSON text: one value, with optional whitespace around it.
    static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.position == bytes.count else {
            throw parser.error("unexpected \(parser.describeCurrentByte()) after the end of the JSON value")
        }
        return value
    }

    // MARK: Values

    private mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        guard let byte = peek() else { throw error("unexpected end of text where a value was expected") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected \(describeCurrentByte()) where a value was expected")
        }
    }

    private mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
        var members: [JSONMember] = []
        try parseContainer(closedBy: UInt8(ascii: "}"), kind: "an object") { (parser: inout JSONParser) throws(JSONSyntaxError) in
            guard parser.peek() == UInt8(ascii: "\"") else {
                throw parser.error("expected a quoted member name but found \(parser.describeCurrentByte())")
            }
            let key = try parser.parseString()
            parser.skipWhitespace()
            try parser.expect(":")
            parser.skipWhitespace()
            let value = try parser.parseValue()
            members.append(JSONMember(key: key, value: value))
        }
        return .object(members)
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
        var elements: [JSONValue] = []
        try parseContainer(closedBy: UInt8(ascii: "]"), kind: "an array") { (parser: inout JSONParser) throws(JSONSyntaxError) in
            elements.append(try parser.parseValue())
        }
        return .array(elements)
    }

    /// An array's or object's frame, from its opening byte (at `position`) past its closing
    /// byte `close`: either empty, or elements separated by commas, each read by `element` from
    /// its first non-blank byte; `kind` names the container in errors. Objects and arrays differ
    /// only in their elements, so both parse their frame here, nesting depth included.
    private mutating func parseContainer(closedBy close: UInt8, kind: String,
                                         _ element: (inout JSONParser) throws(JSONSyntaxError) -> Void) throws(JSONSyntaxError) {
        try enterContainer()
        position += 1  // "{" or "["
        skipWhitespace()
        if peek() == close {
            position += 1
            depth -= 1
            return
        }
        while true {
            skipWhitespace()
            try element(&self)
            skipWhitespace()
            if peek() == UInt8(ascii: ",") {
                position += 1
            } else if peek() == close {
                position += 1
                depth -= 1
                return
            } else {
                throw error("expected ',' or '\(Character(Unicode.Scalar(close)))' in \(kind) but found \(describeCurrentByte())")
            }
        }
    }

    private mutating func enterContainer() throws(JSONSyntaxError) {
        depth += 1
        guard depth <= Self.maximumDepth else {
            throw error("arrays and objects are nested more than \(Self.maximumDepth) deep")
        }
    }

    // MARK: Strings

    /// Parses a string starting at its opening quote, decoding escapes.
    private mutating func parseString() throws(JSONSyntaxError) -> String {
        position += 1  // opening quote
        var utf8: [UInt8] = []
        while true {
            guard let byte = peek() else { throw error("unterminated string") }
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape(into: &utf8)
            case 0..<0x20:
                position -= 1
                throw error("control character \(hex(byte)) must be escaped inside a string")
            default:
                utf8.append(byte)
            }
        }
    }

    /// Decodes the escape sequence after a backslash and appends its UTF-8 bytes.
    private mutating func parseEscape(into utf8: inout [UInt8]) throws(JSONSyntaxError) {
        guard let byte = peek() else { throw error("unterminated escape sequence") }
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            let scalar = try parseUnicodeEscape()
            UTF8.encode(scalar) { utf8.append($0) }
        default:
            position -= 1
            throw error("invalid escape sequence: a backslash followed by \(describeByte(byte))")
        }
    }

    /// Decodes `XXXX` after `\u`, joining a UTF-16 surrogate pair written as two escapes.
    private mutating func parseUnicodeEscape() throws(JSONSyntaxError) -> Unicode.Scalar {
        let first = try parseHexQuad()
        switch first {
        case 0xD800...0xDBFF:
            guard peek() == UInt8(ascii: "\\"), peek(offset: 1) == UInt8(ascii: "u") else {
                throw error("high surrogate \\u\(String(first, radix: 16)) is not followed by a low surrogate")
            }
            position += 2
            let second = try parseHexQuad()
            guard (0xDC00...0xDFFF).contains(second) else {
                throw error("high surrogate \\u\(String(first, radix: 16)) is followed by \\u\(String(second, radix: 16)), not a low surrogate")
            }
            let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            guard let scalar = Unicode.Scalar(combined) else { throw error("invalid surrogate pair") }
            return scalar
        case 0xDC00...0xDFFF:
            throw error("low surrogate \\u\(String(first, radix: 16)) without a preceding high surrogate")
        default:
            guard let scalar = Unicode.Scalar(first) else { throw error("invalid \\u escape") }
            return scalar
        }
    }

    private mutating func parseHexQuad() throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek() else { throw error("unterminated \\u escape") }
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("expected a hexadecimal digit in a \\u escape but found \(describeCurrentByte())")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    // MARK: Numbers and literals

    /// Checks the number grammar `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?` and
    /// returns the text.
    private mutating func parseNumber() throws(JSONSyntaxError) -> String {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        if peek() == UInt8(ascii: "0") {
            position += 1
        } else if !skipDigits() {
            throw error("expected a digit but found \(describeCurrentByte())")
        }
        if peek() == UInt8(ascii: ".") {
            position += 1
            guard skipDigits() else { throw error("expected a digit after '.' but found \(describeCurrentByte())") }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard skipDigits() else { throw error("expected a digit in an exponent but found \(describeCurrentByte())") }
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// Skips a run of decimal digits; true when there was at least one.
    private mutating func skipDigits() -> Bool {
        let start = position
        while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { position += 1 }
        return position > start
    }

    private mutating func expectLiteral(_ literal: String) throws(JSONSyntaxError) {
        for expected in literal.utf8 {
            guard peek() == expected else {
                throw error("expected '\(literal)' but found \(describeCurrentByte())")
            }
            position += 1
        }
    }

    private mutating func expect(_ character: Unicode.Scalar) throws(JSONSyntaxError) {
        guard peek() == UInt8(ascii: character) else {
            throw error("expected '\(character)' but found \(describeCurrentByte())")
        }
        position += 1
    }

    // MARK: Bytes

    private func peek(offset: Int = 0) -> UInt8? {
        let index = position + offset
        return index < bytes.count ? bytes[index] : nil
    }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
    }

    private func describeCurrentByte() -> String {
        guard let byte = peek() else { return "the end of the text" }
        return describeByte(byte)
    }

    private func describeByte(_ byte: UInt8) -> String {
        (0x21..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte \(hex(byte))"
    }

    private func hex(_ byte: UInt8) -> String {
        "0x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16, uppercase: true)
    }

    private func error(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(message: message, offset: position)
    }
}

/// Why a text is not valid JSON, and the byte offset where the parser noticed.
struct JSONSyntaxError: Error, CustomStringConvertible {
    var message: String
    var offset: Int

    var description: String { "\(message) (at byte \(offset) of the header)" }
}
