import Foundation

/// A learning rate as a function of training progress, relative to a base rate.
///
/// Progress is a fractional epoch t = epoch + i / itersPerEpoch, with epochs counted from 0 and
/// i the iteration within the epoch, so schedules can be evaluated once per iteration (smooth)
/// or once per epoch (t = epoch). One schedule, `warmupCosine`, counts optimizer steps instead
/// (`isPerStep`), as transformer training does; `learningRate(base:step:stepsPerEpoch:totalSteps:)`
/// evaluates every schedule at a step.
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
    /// Linear warm-up then cosine decay, per optimizer step (the GPT recipe). With s the 0-based
    /// index of the step being taken, S the run's number of steps, W = `warmupSteps`,
    /// f = `startFactor` and m = `minimum` (an absolute rate), r = m / base:
    ///
    ///     s < W:   η_s = base · (f + (1 − f)·s/W)
    ///     s ≥ W:   η_s = base · (r + (1 − r)·(1 + cos(π·min(s − W, T)/T))/2),   T = S − W
    ///
    /// so the rate climbs from f·base to base over W steps, then follows a half cosine to m at the
    /// run's last step. In PyTorch, with `scheduler.step()` after every `optimizer.step()`, it is
    /// exactly `LambdaLR(opt, lambda s: <the factor above>)` (bit for bit: the same expression),
    /// and, for f > 0, `SequentialLR(opt, [LinearLR(opt, start_factor=f, total_iters=W),
    /// CosineAnnealingLR(opt, T_max=S-W, eta_min=m)], milestones=[W])` up to rounding (those two
    /// update the rate recursively). With f = 0 and m = 0 it is Hugging Face's
    /// `get_cosine_schedule_with_warmup`; f = 0 gives the first step a zero rate, as there.
    case warmupCosine(warmupSteps: Int, minimum: Double, startFactor: Double)

    /// Whether the schedule counts optimizer steps (`warmupCosine`) rather than epochs.
    public var isPerStep: Bool {
        if case .warmupCosine = self { return true }
        return false
    }

    /// The learning rate at fractional epoch t (t = epoch + i/itersPerEpoch, epochs start at 0).
    /// Negative t counts as 0.
    ///
    /// - Precondition: the schedule counts epochs (not `isPerStep`).
    public func learningRate(base: Double, epoch t: Double) -> Double {
        let t = max(t, 0)
        switch self {
        case .warmupCosine:
            preconditionFailure("warmup-cosine counts optimizer steps: use learningRate(base:step:stepsPerEpoch:totalSteps:)")
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
        case .constant, .cosine, .warmupCosine: return []
        case let .multiStep(milestones, _): return milestones.map(Double.init)
        case let .warmup(epochs, inner): return inner.discontinuities.filter { $0 > epochs }
        }
    }

    /// The learning rate during the given epoch (0-based) and iteration within it.
    public func learningRate(base: Double, epoch: Int, iteration: Int, iterationsPerEpoch: Int) -> Double {
        precondition(iterationsPerEpoch > 0, "iterationsPerEpoch must be positive")
        return learningRate(base: base, epoch: Double(epoch) + Double(iteration) / Double(iterationsPerEpoch))
    }

    /// The learning rate of optimizer step `step` (0-based) of a run of `totalSteps` steps,
    /// `stepsPerEpoch` in each epoch. Epoch-based schedules are read at the middle of the step,
    /// t = epoch + (i + ½)/stepsPerEpoch, so that a warm-up never gives a zero first step and
    /// epoch milestones still fall between epochs; `warmupCosine` uses its step formula.
    public func learningRate(base: Double, step: Int, stepsPerEpoch: Int, totalSteps: Int) -> Double {
        precondition(stepsPerEpoch > 0, "stepsPerEpoch must be positive")
        guard case let .warmupCosine(warmup, minimum, startFactor) = self else {
            let epoch = step / stepsPerEpoch, i = step % stepsPerEpoch
            return learningRate(base: base, epoch: Double(epoch) + (Double(i) + 0.5) / Double(stepsPerEpoch))
        }
        let s = max(step, 0)
        if s < warmup { return base * (startFactor + (1 - startFactor) * Double(s) / Double(warmup)) }
        let decaySteps = totalSteps - warmup
        let ratio = minimum / base
        guard decaySteps > 0 else { return base * ratio }
        let progress = Double(min(s - warmup, decaySteps)) / Double(decaySteps)
        return base * (ratio + (1 - ratio) * (1 + cos(Double.pi * progress)) / 2)
    }

    /// Parses the command-line syntax (case-insensitive, spaces ignored):
    ///
    ///     constant
    ///     multistep:M1,M2,…[:GAMMA]        milestones in epochs, increasing; γ defaults to 0.1
    ///     cosine[:MIN[:EPOCHS]]            anneal to MIN (default 0) over EPOCHS (default totalEpochs)
    ///     warmup:EPOCHS[,SCHEDULE]         linear warm-up, then SCHEDULE (default constant)
    ///     warmup-cosine:STEPS[:MIN[:START]]  per optimizer step: warm-up over STEPS from START·base
    ///                                      (default 0) to base, then cosine to MIN (default 0)
    ///                                      at the run's last step
    ///
    /// Examples: `multistep:150,225,275`, `multistep:150,225,275:0.1`, `cosine`, `cosine:1e-4`,
    /// `warmup:2,cosine`, `warmup:0.5,multistep:150,225`, `warmup-cosine:100:6e-5`. `description` prints this syntax, and
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

        case "warmup-cosine":
            guard let argument, !argument.isEmpty else { throw fail("'warmup-cosine' needs a warm-up length in steps, e.g. warmup-cosine:100") }
            let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 3 else { throw fail("'warmup-cosine' takes steps, a minimum and a start factor, e.g. warmup-cosine:100:6e-5:0") }
            guard let steps = Int(parts[0]), steps >= 0 else { throw fail("warm-up length '\(parts[0])' is not a whole number of steps ≥ 0") }
            var minimum = 0.0, startFactor = 0.0
            if parts.count >= 2 {
                guard let m = Double(parts[1]), m.isFinite, m >= 0 else { throw fail("minimum rate '\(parts[1])' is not a non-negative number") }
                minimum = m
            }
            if parts.count == 3 {
                guard let f = Double(parts[2]), f >= 0, f <= 1 else { throw fail("start factor '\(parts[2])' is not a number in [0, 1]") }
                startFactor = f
            }
            return .warmupCosine(warmupSteps: steps, minimum: minimum, startFactor: startFactor)

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
            let inner = try parse(rest, original: original, totalEpochs: totalEpochs)
            guard !inner.isPerStep else { throw fail("warmup-cosine has its own warm-up; it cannot follow 'warmup:'") }
            return .warmup(epochs: epochs, then: inner)

        default:
            throw fail(kind.isEmpty ? "empty schedule" : "unknown schedule '\(kind)'")
        }
    }

    /// A schedule text that could not be parsed.
    public struct ParseError: Error, CustomStringConvertible, Equatable, Sendable {
        public let text: String
        public let reason: String

        public var description: String {
            "invalid learning-rate schedule '\(text)': \(reason). Expected constant | multistep:M1,M2,…[:GAMMA] | cosine[:MIN[:EPOCHS]] | warmup:EPOCHS[,SCHEDULE] | warmup-cosine:STEPS[:MIN[:START]]"
        }
    }
}

extension LearningRateSchedule: CustomStringConvertible {
    /// The schedule in `parse` syntax, fully spelled out (gamma, minimum and length included):
    /// `multistep:150,225,275:0.1`, `cosine:0:300`, `warmup:2,cosine:0:300`, `warmup-cosine:100:0:0`.
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
        case let .warmupCosine(steps, minimum, startFactor):
            return "warmup-cosine:\(steps):\(Self.format(minimum)):\(Self.format(startFactor))"
        }
    }

    /// Whole numbers without a trailing ".0"; others in Swift's shortest round-tripping form.
    private static func format(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
        return "\(x)"
    }
}
