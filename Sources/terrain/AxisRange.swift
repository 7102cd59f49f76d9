import ArgumentParser
import Foundation
import TerrainLandscape

/// `--x`/`--y`: one axis of a grid as `min:max:num` (e.g. `-1:1:51`; a leading minus works with
/// `--x=-1:1:51` or `--x -1:1:51`). Parsing checks the form, so a malformed value is refused by
/// ArgumentParser naming the option and the form (`--x <min:max:num>`); the library's `Axis.parse`
/// then checks the numbers (finite, min below max, at most `Axis.maximumCount` points) in its words.
struct AxisRange: ExpressibleByArgument {
    /// The value as given, shown as the default in the help and handed to `Axis.parse`.
    let text: String

    init?(argument: String) {
        guard let fields = Self.fields(of: argument, count: 3), Int(fields[2]) != nil else { return nil }
        text = argument
    }

    /// A default written in the source; it must have the form.
    init(_ text: String) {
        guard let range = AxisRange(argument: text) else { preconditionFailure("not min:max:num: \(text)") }
        self = range
    }

    var defaultValueDescription: String { text }

    /// The axis, its numbers checked, spaced as asked.
    func axis(spacing: Axis.Spacing = .linear) throws -> Axis {
        try Axis.parse(text, spacing: spacing)
    }

    /// The `:`-separated fields of `text` when there are `count` of them and the first two are
    /// numbers (spaces around them allowed, as `Axis.parse` allows).
    static func fields(of text: String, count: Int) -> [String]? {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard fields.count == count, Double(fields[0]) != nil, Double(fields[1]) != nil else { return nil }
        return fields
    }
}

/// `terrain interpolate --range`: α's interval as `min:max` (e.g. `-0.5:1.5`); its number of
/// points is a separate option (`--steps`).
struct Interval: ExpressibleByArgument {
    let text: String

    init?(argument: String) {
        guard AxisRange.fields(of: argument, count: 2) != nil else { return nil }
        text = argument
    }

    init(_ text: String) {
        guard let interval = Interval(argument: text) else { preconditionFailure("not min:max: \(text)") }
        self = interval
    }

    var defaultValueDescription: String { text }

    /// The interval with `count` evenly spaced points, checked as any axis.
    func axis(count: Int) throws -> Axis {
        try Axis.parse("\(text):\(count)")
    }
}
