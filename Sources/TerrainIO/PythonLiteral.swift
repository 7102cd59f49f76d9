/// The Python literals that appear in an NPY header — a dict of strings, booleans and tuples
/// of integers, as `repr` prints it, e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
enum PythonLiteral: Equatable {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case none
    case tuple([PythonLiteral])
    case dictionary([String: PythonLiteral])

    /// The literal spelled by `text`, or nil if it is not one of the forms above.
    static func parse(_ text: String) -> PythonLiteral? {
        var parser = Parser(characters: Array(text.unicodeScalars))
        guard let value = parser.value() else { return nil }
        parser.skipSpace()
        return parser.atEnd ? value : nil
    }

    private struct Parser {
        let characters: [Unicode.Scalar]
        var position = 0
        /// How deeply containers are nested now; headers come from files, so nesting is capped
        /// rather than allowed to exhaust the stack.
        var depth = 0
        static let maximumDepth = 16

        var atEnd: Bool { position >= characters.count }
        var current: Unicode.Scalar? { atEnd ? nil : characters[position] }

        mutating func skipSpace() {
            while let c = current, c == " " || c == "\n" || c == "\t" || c == "\r" { position += 1 }
        }

        mutating func consume(_ expected: Unicode.Scalar) -> Bool {
            skipSpace()
            guard current == expected else { return false }
            position += 1
            return true
        }

        mutating func value() -> PythonLiteral? {
            skipSpace()
            guard let c = current else { return nil }
            switch c {
            case "'", "\"": return string().map(PythonLiteral.string)
            case "(": return sequence(closedBy: ")").map(PythonLiteral.tuple)
            case "[": return sequence(closedBy: "]").map(PythonLiteral.tuple)
            case "{": return dictionary()
            case "-", "0"..."9": return integer()
            default:
                var word = ""
                while let c = current, c.properties.isAlphabetic { word.unicodeScalars.append(c); position += 1 }
                switch word {
                case "True": return .boolean(true)
                case "False": return .boolean(false)
                case "None": return PythonLiteral.none
                default: return nil
                }
            }
        }

        mutating func string() -> String? {
            guard let quote = current else { return nil }
            position += 1
            var result = ""
            while let c = current {
                position += 1
                if c == quote { return result }
                if c == "\\" {
                    guard let escaped = current else { return nil }
                    position += 1
                    result.unicodeScalars.append(escaped)
                } else {
                    result.unicodeScalars.append(c)
                }
            }
            return nil
        }

        mutating func integer() -> PythonLiteral? {
            var digits = ""
            if current == "-" { digits = "-"; position += 1 }
            while let c = current, ("0"..."9").contains(c) { digits.unicodeScalars.append(c); position += 1 }
            if current == "L" || current == "l" { position += 1 }  // Python 2 long suffix
            return Int(digits).map(PythonLiteral.integer)
        }

        mutating func sequence(closedBy closing: Unicode.Scalar) -> [PythonLiteral]? {
            guard depth < Self.maximumDepth else { return nil }
            depth += 1
            defer { depth -= 1 }
            position += 1
            var items: [PythonLiteral] = []
            while true {
                if consume(closing) { return items }
                guard let item = value() else { return nil }
                items.append(item)
                if consume(closing) { return items }
                guard consume(",") else { return nil }
            }
        }

        mutating func dictionary() -> PythonLiteral? {
            guard depth < Self.maximumDepth else { return nil }
            depth += 1
            defer { depth -= 1 }
            position += 1
            var entries: [String: PythonLiteral] = [:]
            while true {
                if consume("}") { return .dictionary(entries) }
                skipSpace()
                guard current == "'" || current == "\"", let key = string(), consume(":"),
                      let item = value() else { return nil }
                entries[key] = item
                if consume("}") { return .dictionary(entries) }
                guard consume(",") else { return nil }
            }
        }
    }
}
