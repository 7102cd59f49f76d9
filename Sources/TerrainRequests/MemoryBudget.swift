import Foundation

/// The memory the θ-only results of Hessian-vector products may keep (`--memory`): a byte count
/// written as a number with an optional binary suffix, and the default, a fraction of the memory
/// the kernel says is available.
public enum MemoryBudget {
    /// The share of MemAvailable kept by default: a quarter, which leaves the rest to the
    /// Lanczos bases, the block's tangents and other processes.
    public static let defaultFraction = 0.25

    /// `defaultFraction` of MemAvailable in /proc/meminfo; 0 (keep nothing) where that cannot be
    /// read, so that an unknown system is never asked for memory it may not have.
    public static var defaultBytes: Int {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let available = availableKilobytes(meminfo: text) else { return 0 }
        return Int(Double(available) * 1024 * defaultFraction)
    }

    /// MemAvailable in kB from the text of /proc/meminfo ("MemAvailable:   123456 kB").
    static func availableKilobytes(meminfo: String) -> Int? {
        for line in meminfo.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let value = Int(fields[1]) { return value }
        }
        return nil
    }

    /// Bytes from "123", "64K", "512M", "2G", "1T" (binary multiples: K = 1024; a trailing "B" or
    /// "iB" is allowed, case does not matter) or "0"; nil for anything else or an overflow.
    public static func parse(_ text: String) -> Int? {
        var s = text.trimmingCharacters(in: .whitespaces).uppercased()
        if s.hasSuffix("IB") { s.removeLast(2) } else if s.hasSuffix("B") { s.removeLast() }
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var multiplier = 1
        if let last = s.last, let unit = units[last] {
            multiplier = unit
            s.removeLast()
        }
        guard !s.isEmpty, s.allSatisfy(\.isASCII) else { return nil }
        if let whole = Int(s), whole >= 0 {
            let (bytes, overflow) = whole.multipliedReportingOverflow(by: multiplier)
            return overflow ? nil : bytes
        }
        // A fraction of a unit ("1.5G").
        guard multiplier > 1, let value = Double(s), value.isFinite, value >= 0,
              value * Double(multiplier) < Double(Int.max) else { return nil }
        return Int(value * Double(multiplier))
    }
}
