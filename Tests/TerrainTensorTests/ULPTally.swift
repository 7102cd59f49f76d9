/// How far a Float kernel's results are from references rounded to Float, in units in the last
/// place (ulps): the number of representable Floats between two values, counting ±0 as one point
/// and ±∞ as the ends of the finite range. A reference that is correctly rounded leaves a kernel
/// accurate to within half an ulp at distance 0, and one within an ulp at distance at most 1.
struct ULPTally {
    /// Results compared.
    private(set) var count = 0
    /// Results not equal to their reference.
    private(set) var unequal = 0
    /// The largest distance in ulps, and the index of the first result at that distance.
    private(set) var worst: Int64 = 0
    private(set) var worstIndex: Int?
    /// Results that are NaN where the reference is not, or the reverse.
    private(set) var nanMismatches = 0
    /// Double references that lie exactly halfway between two Floats, with the result on the
    /// side away from the reference's rounding (ties to even): not counted as unequal. The
    /// reference is itself rounded, so its own error decides the tie (x·Φ(x) = x/2 + x²/√(2π)
    /// for tiny x is x/2 in Double, a tie where x's last bit is odd, though the exact value
    /// lies above it in magnitude); either neighbor is within half an ulp of it.
    private(set) var tiesTakenTheOtherWay = 0

    /// The position of x on the line of Floats: consecutive Floats have consecutive ordinals.
    static func ordinal(_ x: Float) -> Int64 {
        let magnitude = Int64(x.bitPattern & 0x7fff_ffff)
        return x.sign == .minus ? -magnitude : magnitude
    }

    /// The distance between two Floats that are not NaN, in ulps.
    static func distance(_ a: Float, _ b: Float) -> Int64 {
        precondition(!a.isNaN && !b.isNaN, "ulp distance of NaN")
        return abs(ordinal(a) - ordinal(b))
    }

    mutating func add(_ result: Float, reference: Float, at index: Int) {
        count += 1
        if result.isNaN || reference.isNaN {
            if result.isNaN != reference.isNaN { nanMismatches += 1; unequal += 1 }
            return
        }
        let d = Self.distance(result, reference)
        if d > 0 { unequal += 1 }
        if d > worst { worst = d; worstIndex = index }
    }

    /// Whether a Double lies exactly halfway between two consecutive Floats.
    static func isMidpoint(_ x: Double) -> Bool {
        let rounded = Float(x)
        guard rounded.isFinite, Double(rounded) != x else { return false }
        let other = Double(rounded) < x ? rounded.nextUp : rounded.nextDown
        return other.isFinite && x == (Double(rounded) + Double(other)) / 2
    }

    /// Compares with a Double reference rounded to Float; a tie of the reference may go either way.
    mutating func add(_ result: Float, exact reference: Double, at index: Int) {
        let rounded = Float(reference)
        if !result.isNaN && !rounded.isNaN && Self.isMidpoint(reference) && Self.distance(result, rounded) == 1
            && abs(Double(result) - reference) == abs(Double(rounded) - reference) {
            count += 1
            tiesTakenTheOtherWay += 1
            return
        }
        add(result, reference: rounded, at: index)
    }

    mutating func add(_ results: [Float], exact references: [Double]) {
        precondition(results.count == references.count, "tally: \(results.count) results, \(references.count) references")
        for i in results.indices { add(results[i], exact: references[i], at: i) }
    }

    mutating func add(_ results: [Float], references: [Float]) {
        precondition(results.count == references.count, "tally: \(results.count) results, \(references.count) references")
        for i in results.indices { add(results[i], reference: references[i], at: i) }
    }

    /// The share of results not equal to their reference.
    var unequalFraction: Double { count == 0 ? 0 : Double(unequal) / Double(count) }
}

extension Array where Element == Float {
    /// The bit patterns, so that NaNs compare equal to themselves and −0 differs from +0.
    var bitPatterns: [UInt32] { map(\.bitPattern) }
}

extension Array where Element == Double {
    var bitPatterns: [UInt64] { map(\.bitPattern) }
}

extension BinaryFloatingPoint {
    /// Equal bit for bit: NaNs with the same payload are equal, −0 and +0 are not.
    func hasSameBits(as other: Self) -> Bool {
        sign == other.sign && exponentBitPattern == other.exponentBitPattern
            && significandBitPattern == other.significandBitPattern
    }
}

/// Whether two arrays of scalars are equal bit for bit.
func haveSameBits<T: BinaryFloatingPoint>(_ a: [T], _ b: [T]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.hasSameBits(as: $1) }
}
