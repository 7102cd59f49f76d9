/// Whether `a` sorts before `b` in natural order: runs of ASCII digits compare as numbers, so
/// `"2" < "10"` and `"layer9" < "layer10"`, and everything else compares as text.
///
/// Direction files name their datasets "0", "1", …, "10", … after tensor positions, which plain
/// string order would scramble. Names equal under this order (`"01"` and `"1"`) fall back to
/// plain string order, so the order is total.
func naturallyPrecedes(_ a: String, _ b: String) -> Bool {
    let left = naturalRuns(a), right = naturalRuns(b)
    for (x, y) in zip(left, right) {
        switch (x, y) {
        case (.number(let p), .number(let q)):
            if p != q { return p.count != q.count ? p.count < q.count : p.lexicographicallyPrecedes(q) }
        case (.number, .text): return true
        case (.text, .number): return false
        case (.text(let p), .text(let q)):
            if p != q { return p < q }
        }
    }
    if left.count != right.count { return left.count < right.count }
    return a < b
}

/// A piece of a name for natural ordering: a run of digits (leading zeros removed) or of other
/// characters.
private enum NaturalRun {
    case number([UInt8])
    case text(String)
}

private func naturalRuns(_ name: String) -> [NaturalRun] {
    var runs: [NaturalRun] = []
    var digits: [UInt8] = []
    var text = ""
    func finishDigits() {
        guard !digits.isEmpty else { return }
        runs.append(.number(Array(digits.drop(while: { $0 == UInt8(ascii: "0") }))))
        digits = []
    }
    func finishText() {
        guard !text.isEmpty else { return }
        runs.append(.text(text))
        text = ""
    }
    for scalar in name.unicodeScalars {
        if scalar.isASCII, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(UInt8(scalar.value)) {
            finishText()
            digits.append(UInt8(scalar.value))
        } else {
            finishDigits()
            text.unicodeScalars.append(scalar)
        }
    }
    finishDigits()
    finishText()
    return runs
}
