import Foundation

/// A learning rate as a function of training progress, relative to a base rate.
///
/// Progress is a fractional epoch t = epoch + i / itersPerEpoch, with epochs counted from 0 and
/// i the iteration within the epoch, so schedules can be evaluated once per iteration (smooth)
/// or once per epoch (t = epoch).
public enum LearningRateSchedule: Sendable, Equatable, Codable {
    /// The base rate throughout.
    case constant
    /// Step decay: base · γᵏ with k the number of milestones m ≤ t.
    ///
    /// At integer epochs this is PyTorch's `MultiStepLR` stepped once per epoch: the epoch
    /// numbered e (0-based, the epoch being trained) runs at base · γ^#{m ≤ e}. So milestones
    /// [150, 225, 275] with γ = 0.1 (the step decay commonly used for the paper's CIFAR-10
    /// ResNets at base 0.1) give 0.1 for epochs 0…149, 0.01 for 150…224, 0.001 for 225…274 and
    /// 0.0001 from 275 on. Between epochs the rate changes exactly at the milestone.
    case multiStep(milestones: [Int], gamma: Double)
    /// Cosine annealing (Loshchilov & Hutter's SGDR without restarts, PyTorch's
    /// `CosineAnnealingLR` η_min): minimum + (base − minimum)·(1 + cos(π·t/T))/2 for t in [0, T],
    /// with t continuous; it stays at `minimum` after T. `minimum` is an absolute rate.
    case cosine(totalEpochs: Int, minimum: Double)
    /// Linear warm-up over the first `epochs` (fractional allowed): base · t/epochs, rising from 0
    /// at t = 0 to the base; from t = epochs on, the inner schedule evaluated at the same t (not
    /// shifted). Evaluating at the end of each iteration, t = epoch + (i + 1)/itersPerEpoch,
    /// avoids a zero rate on the very first step.
    indirect case warmup(epochs: Double, then: LearningRateSchedule)

    /// The learning rate at fractional epoch t (t = epoch + i/itersPerEpoch, epochs start at 0).
    /// Negative t counts as 0.
    public func learningRate(base: Double, epoch t: Double) -> Double {
        let t = max(t, 0)
        switch self {
        case .constant:
            return base
        case let .multiStep(milestones, gamma):
            var rate = base
            for m in milestones where Double(m) <= t { rate *= gamma }
            return rate
        case let .cosine(total, minimum):
            guard total > 0 else { return minimum }
            let progress = min(t, Double(total)) / Double(total)
            return minimum + (base - minimum) * (1 + cos(Double.pi * progress)) / 2
        case let .warmup(epochs, inner):
            if t < epochs { return base * t / epochs }
            return inner.learningRate(base: base, epoch: t)
        }
    }

    /// The epochs at which the rate jumps (a multi-step drop), in increasing order. Smooth
    /// schedules have none; these are the points that trajectory plots mark.
    public var discontinuities: [Double] {
        switch self {
        case .constant, .cosine: return []
        case let .multiStep(milestones, _): return milestones.map(Double.init)
        case let .warmup(epochs, inner): return inner.discontinuities.filter { $0 > epochs }
        }
    }

    /// The learning rate during the given epoch (0-based) and iteration within it.
    public func learningRate(base: Double, epoch: Int, iteration: Int, iterationsPerEpoch: Int) -> Double {
        precondition(iterationsPerEpoch > 0, "iterationsPerEpoch must be positive")
        return learningRate(base: base, epoch: Double(epoch) + Double(iteration) / Double(iterationsPerEpoch))
    }

    /// Parses the command-line syntax (case-insensitive, spaces ignored):
    ///
    ///     constant
    ///     multistep:M1,M2,…[:GAMMA]        milestones in epochs, increasing; γ defaults to 0.1
    ///     cosine[:MIN[:EPOCHS]]            anneal to MIN (default 0) over EPOCHS (default totalEpochs)
    ///     warmup:EPOCHS[,SCHEDULE]         linear warm-up, then SCHEDULE (default constant)
    ///
    /// Examples: `multistep:150,225,275`, `multistep:150,225,275:0.1`, `cosine`, `cosine:1e-4`,
    /// `warmup:2,cosine`, `warmup:0.5,multistep:150,225`. `description` prints this syntax, and
    /// parsing it gives the schedule back.
    ///
    /// - Parameter totalEpochs: the run's length, used by `cosine` without an explicit EPOCHS.
    /// - Throws: `LearningRateSchedule.ParseError` naming what is wrong.
    public static func parse(_ text: String, totalEpochs: Int) throws -> LearningRateSchedule {
        let cleaned = text.filter { !$0.isWhitespace }.lowercased()
        return try parse(cleaned[...], original: text, totalEpochs: totalEpochs)
    }

    private static func parse(_ text: Substring, original: String, totalEpochs: Int) throws -> LearningRateSchedule {
        func fail(_ reason: String) -> ParseError { ParseError(text: original, reason: reason) }
        let (kind, argument): (Substring, Substring?) = {
            guard let colon = text.firstIndex(of: ":") else { return (text, nil) }
            return (text[..<colon], text[text.index(after: colon)...])
        }()
        switch kind {
        case "constant":
            guard argument == nil else { throw fail("'constant' takes no arguments") }
            return .constant

        case "multistep":
            guard let argument, !argument.isEmpty else { throw fail("'multistep' needs milestones, e.g. multistep:150,225,275") }
            let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw fail("'multistep' takes milestones and at most one gamma, e.g. multistep:150,225:0.1") }
            var milestones: [Int] = []
            for field in parts[0].split(separator: ",", omittingEmptySubsequences: false) {
                guard let m = Int(field), m >= 0 else { throw fail("milestone '\(field)' is not a non-negative whole number of epochs") }
                guard milestones.last.map({ m > $0 }) ?? true else { throw fail("milestones must increase, got \(m) after \(milestones.last!)") }
                milestones.append(m)
            }
            var gamma = 0.1
            if parts.count == 2 {
                guard let g = Double(parts[1]), g.isFinite, g > 0 else { throw fail("gamma '\(parts[1])' is not a positive number") }
                gamma = g
            }
            return .multiStep(milestones: milestones, gamma: gamma)

        case "cosine":
            let parts = argument.map { $0.split(separator: ":", omittingEmptySubsequences: false) } ?? []
            guard parts.count <= 2 else { throw fail("'cosine' takes at most a minimum and a length, e.g. cosine:0:200") }
            var minimum = 0.0, total = totalEpochs
            if parts.count >= 1 {
                guard let m = Double(parts[0]), m.isFinite, m >= 0 else { throw fail("cosine minimum '\(parts[0])' is not a non-negative number") }
                minimum = m
            }
            if parts.count == 2 {
                guard let e = Int(parts[1]), e > 0 else { throw fail("cosine length '\(parts[1])' is not a positive whole number of epochs") }
                total = e
            }
            guard total > 0 else { throw fail("cosine needs a positive number of epochs (total epochs is \(totalEpochs))") }
            return .cosine(totalEpochs: total, minimum: minimum)

        case "warmup":
            guard let argument, !argument.isEmpty else { throw fail("'warmup' needs a length in epochs, e.g. warmup:2,cosine") }
            let comma = argument.firstIndex(of: ",")
            let lengthText = comma.map { argument[..<$0] } ?? argument
            guard let epochs = Double(lengthText), epochs.isFinite, epochs > 0 else {
                throw fail("warm-up length '\(lengthText)' is not a positive number of epochs")
            }
            guard let comma else { return .warmup(epochs: epochs, then: .constant) }
            let rest = argument[argument.index(after: comma)...]
            guard !rest.isEmpty else { throw fail("nothing follows 'warmup:\(lengthText),'") }
            return .warmup(epochs: epochs, then: try parse(rest, original: original, totalEpochs: totalEpochs))

        default:
            throw fail(kind.isEmpty ? "empty schedule" : "unknown schedule '\(kind)'")
        }
    }

    /// A schedule text that could not be parsed.
    public struct ParseError: Error, CustomStringConvertible, Equatable, Sendable {
        public let text: String
        public let reason: String

        public var description: String {
            "invalid learning-rate schedule '\(text)': \(reason). Expected constant | multistep:M1,M2,…[:GAMMA] | cosine[:MIN[:EPOCHS]] | warmup:EPOCHS[,SCHEDULE]"
        }
    }
}

extension LearningRateSchedule: CustomStringConvertible {
    /// The schedule in `parse` syntax, fully spelled out (gamma, minimum and length included):
    /// `multistep:150,225,275:0.1`, `cosine:0:300`, `warmup:2,cosine:0:300`.
    public var description: String {
        switch self {
        case .constant:
            return "constant"
        case let .multiStep(milestones, gamma):
            return "multistep:" + milestones.map(String.init).joined(separator: ",") + ":" + Self.format(gamma)
        case let .cosine(total, minimum):
            return "cosine:\(Self.format(minimum)):\(total)"
        case let .warmup(epochs, inner):
            return "warmup:\(Self.format(epochs)),\(inner)"
        }
    }

    /// Whole numbers without a trailing ".0"; others in Swift's shortest round-tripping form.
    private static func format(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
        return "\(x)"
    }
}
