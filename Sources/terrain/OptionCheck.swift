import ArgumentParser
import TerrainIO

/// Range checks of numeric options for the commands' `validate()`: every number a user types is
/// finite and within bounds before any work, so no option reaches a precondition, an
/// overflowing sum or an allocation sized by it. Messages name the option, the range and the value.
enum OptionCheck {
    /// The most Lanczos steps, probes or repetitions an option may ask for.
    static let maximumIterations = 100_000

    /// A whole number in `range`.
    static func count(_ value: Int, _ option: String, in range: ClosedRange<Int>) throws {
        guard range.contains(value) else {
            throw ValidationError("\(option) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
    }

    /// Output paths as `OutputPath` allows them: existing files must be regular files, existing
    /// folders folders (never a device node or a FIFO replaced by a regular file).
    static func outputs(files: [String] = [], folders: [String] = []) throws {
        do {
            for file in files { try OutputPath.checkFile(file) }
            for folder in folders { try OutputPath.checkFolder(folder) }
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// A finite number in `range`; `positive`: also above 0.
    static func number(_ value: Double, _ option: String, in range: ClosedRange<Double>, positive: Bool = false) throws {
        guard value.isFinite, range.contains(value), !positive || value > 0 else {
            let bounds = positive ? "in (0, \(range.upperBound)]" : "in [\(range.lowerBound), \(range.upperBound)]"
            throw ValidationError("\(option) must be a finite number \(bounds), got \(value)")
        }
    }
}
