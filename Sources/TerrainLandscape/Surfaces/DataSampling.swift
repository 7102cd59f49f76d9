import Foundation

/// Sequential data sampling with an error bound (`terrain surface --data-tolerance`): each grid
/// point's loss is estimated on a growing prefix of one seeded random order of the set
/// (`SampleOrder`, the same for every point) until the standard error of the mean is at most the
/// tolerance, or the set is exhausted.
///
/// **The estimate.** After n of the N samples, with per-sample losses ℓ₁…ℓₙ (in the order's
/// order), the plain estimate is the mean m = (ℓ₁ + … + ℓₙ)/n, added in that order, and its
/// standard error
///
///     SE = √((1 − n/N) · s²/n),   s² = Σ (ℓᵢ − m)²/(n − 1),
///
/// with the finite-population correction 1 − n/N: the samples are drawn without replacement from
/// the N of the set, whose mean is the exact loss, so the error shrinks to 0 as n reaches N
/// (Cochran, *Sampling Techniques*, §2.5). (n = 1 < N: SE = ∞.)
///
/// **With a reference** (a `ControlVariate`: per-sample losses rᵢ of the same samples whose
/// exact mean R over all N is known; a surface's are its pilot's, interpolated to the point,
/// `SurfaceSampler`) the estimate is the regression estimator (Cochran §7.1)
///
///     L = m − b·(m_r − R),   b = Σ (ℓᵢ − m)(rᵢ − m_r) / Σ (rᵢ − m_r)²,
///     SE = √((1 − n/N) · s_e²/n),   s_e² = Σ ((ℓᵢ − m) − b(rᵢ − m_r))²/(n − 2),
///
/// m_r the reference's mean over the same prefix: the part of the prefix's error that the
/// reference shares (the same samples, nearby weights) is taken out, so a point whose losses
/// follow its reference's stops far sooner, and one uncorrelated with it (b ≈ 0) is estimated as
/// without.
/// (b is estimated from the prefix, so L carries a bias of order 1/n, far below its SE.)
///
/// At n = N the SE is 0 exactly and the estimate is m itself, the exact mean up to the rounding
/// of adding in another order than `Objective.evaluate` does. A non-finite per-sample loss ends
/// the estimate at once with SE 0: the whole set's mean would be NaN or ∞ as well, which the
/// surface stores as an exact one (`SurfaceValue`).
///
/// **The prefix grows** in whole blocks of `blockSize` samples (batches the compiled path runs
/// side by side), from `minimumSamples` (so that s is estimated from enough samples to stop on),
/// each step to the larger of n·`growth` and the n the current s (or s_e) says the tolerance
/// needs, n ≥ N·s²/(s² + T²N), but never past n·`maximumGrowth` (s from a small prefix can be far
/// off), rounded up to a whole block and capped at N. Every decision depends only on the
/// point's own per-sample losses (and its reference's), so a point's estimate is the same bits whichever thread, rank
/// or resumed run computes it.
///
/// **The tolerance** is absolute, or a fraction of the contour spacing of the figure's levels
/// at the estimate's value (`Tolerance.contourSpacing`): the levels come from the pilot, a
/// lattice of the grid evaluated on the whole set before the other points (`SurfaceSampler`),
/// through the same rule the figures and `--adaptive` use (`FigureLevels.refinement()`); the spacing at a value v is the gap between the two levels
/// around v (for log-spaced levels the local, narrower gap near small losses), below the
/// lowest level the lowest gap scaled by v/lowest level (the log rule continued; for evenly
/// spaced levels it only asks for more samples), above the highest the highest gap.
public struct DataSampling: Sendable {
    public enum Tolerance: Sendable {
        /// SE ≤ this many loss units.
        case absolute(Double)
        /// SE ≤ `fraction` × the contour spacing at the estimate's value, the levels being those
        /// `levels` draws over the pilot's losses.
        case contourSpacing(fraction: Double, levels: RefinementLevels)
    }

    public var tolerance: Tolerance
    /// Seeds the order of the samples (`SampleOrder`), the same for every point and each set.
    public var seed: UInt64
    /// The first prefix (rounded up to a whole block, at most N).
    public var minimumSamples: Int
    /// The prefix grows in multiples of this many samples.
    public var blockSize: Int
    /// The smallest growth of a step (n → n·growth).
    public var growth: Double
    /// The largest growth of a step, however many samples the current estimate says are needed.
    public var maximumGrowth: Double
    /// The stride of the pilot's lattice along each axis (`SurfaceSampler`): its points are
    /// evaluated on the whole set and are the references of the points around them. nil: chosen
    /// per axis (`pilotStride(alongAxisOf:)`).
    public var pilotStride: Int?

    public init(tolerance: Tolerance, seed: UInt64 = 0, minimumSamples: Int = 1024, blockSize: Int = 256,
                growth: Double = 1.25, maximumGrowth: Double = 4, pilotStride: Int? = nil) {
        self.pilotStride = pilotStride
        self.tolerance = tolerance
        self.seed = seed
        self.minimumSamples = minimumSamples
        self.blockSize = blockSize
        self.growth = growth
        self.maximumGrowth = maximumGrowth
    }

    /// A positive tolerance, a positive minimum and block, growth ≥ 1 up to the maximum.
    public func validate() throws {
        let value: Double
        switch tolerance {
        case .absolute(let t): value = t
        case .contourSpacing(let fraction, _): value = fraction
        }
        guard value.isFinite, value > 0 else {
            throw LandscapeError.invalidRequest("the data tolerance must be a positive number (got \(value))")
        }
        guard minimumSamples >= 2 else {
            throw LandscapeError.invalidRequest("the data sampling needs a first prefix of at least 2 samples (got \(minimumSamples))")
        }
        guard blockSize >= 1, growth > 1, growth.isFinite, maximumGrowth >= growth, maximumGrowth.isFinite, (pilotStride ?? 1) >= 1 else {
            throw LandscapeError.invalidRequest("the data sampling's block and pilot stride must be positive and its growth 1 < growth ≤ maximum growth")
        }
    }

    /// The pilot's stride along an axis of `count` points: the one asked for, or else a quarter
    /// of the axis, at least 2 and at most 8 steps. A point's control variate interpolates its
    /// cell's corners sample by sample, and its error grows with the square of the cell's width:
    /// at least four cells a side keep it small on small grids (a 17×17 surface of a ResNet-56
    /// on 10,000 Fashion-MNIST images needed 20% fewer per-sample losses in all, its pilot
    /// included, with cells of 4 steps than of 8), and 8 steps (the coarse lattice `--adaptive`
    /// computes first) keep the pilot a few percent of a large grid (64 points of 51×51).
    public func pilotStride(alongAxisOf count: Int) -> Int {
        pilotStride ?? min(8, max(2, (count - 1) / 4))
    }

    /// The tolerance as it reads in captions and summaries: "SE ≤ 0.001", "SE ≤ 1% of the contour spacing".
    public var description: String {
        switch tolerance {
        case .absolute(let t): "SE ≤ \(Self.number(t))"
        case .contourSpacing(let fraction, _): "SE ≤ \(Self.number(100 * fraction))% of the contour spacing"
        }
    }

    /// What a request's fingerprint adds: other settings sample other prefixes.
    public var requestTag: String {
        let rule: String
        switch tolerance {
        case .absolute(let t): rule = "absolute \(t)"
        case .contourSpacing(let fraction, let levels): rule = "contour \(fraction) \(levels.name)"
        }
        return " sampled \(rule) seed \(seed) minimum \(minimumSamples) block \(blockSize) growth \(growth) \(maximumGrowth) pilot \(pilotStride.map(String.init) ?? "auto")"
    }

    static func number(_ value: Double) -> String { String(format: "%g", value) }

    /// The estimate of one point's loss on one set: the objective's parameters are the point's.
    /// `tolerance(L)` is the bound on the SE for an estimate of value L; `reference`, the control
    /// variate (see the type's comment), must hold the same set's N losses in the order's order.
    /// `keepingLosses`: return the per-sample losses too (a pilot point's, a reference to be).
    public func estimate(on objective: SampleEvaluating, set: EvaluationSet, order: SampleOrder, reference: ControlVariate? = nil,
                         keepingLosses: Bool = false, tolerance: (Double) -> Double) throws -> SampledEstimate {
        let total = order.count
        guard total > 0 else { throw LandscapeError.invalidRequest("the \(set.rawValue) set is empty") }
        precondition(reference.map { $0.losses.count == total } ?? true, "a reference holds the whole set's losses")
        var losses: [Double] = [], accuracies: [Double]?
        losses.reserveCapacity(total)
        var sum = 0.0
        var target = min(total, roundedUp(minimumSamples))
        while true {
            let part = try objective.evaluateSamples(set, at: order.indices[losses.count..<target])
            guard part.losses.count == target - losses.count,
                  part.accuracies.map({ $0.count == part.losses.count }) ?? true else {
                throw LandscapeError.invalidRequest("the objective returned \(part.losses.count) per-sample losses for \(target - losses.count) samples")
            }
            if losses.isEmpty, part.accuracies != nil { accuracies = [] }
            for loss in part.losses { sum += loss }
            losses += part.losses
            if let values = part.accuracies { accuracies? += values }
            let n = losses.count
            let mean = sum / Double(n)
            let accuracy = accuracies.map { $0.reduce(0, +) / Double(n) }
            func result(_ loss: Double, _ error: Double) -> SampledEstimate {
                SampledEstimate(loss: loss, accuracy: accuracy, standardError: error, samples: n, losses: keepingLosses ? losses : nil)
            }
            guard mean.isFinite else { return result(mean, 0) }
            if n == total { return result(mean, 0) }
            let (loss, variance) = reference.map { Self.regression(losses, mean: mean, on: $0) } ?? (mean, Self.sampleVariance(losses, mean: mean))
            let error = Self.standardError(variance: variance, samples: n, of: total)
            let bound = tolerance(loss)
            if error <= bound { return result(loss, error) }
            let needed = Self.samplesNeeded(variance: variance, tolerance: bound, of: total)
            let next = min(max(Double(n) * growth, needed), Double(n) * maximumGrowth)
            target = min(total, max(roundedUp(Int(min(next.rounded(.up), Double(total)))), n + 1))
        }
    }

    /// `count` rounded up to a whole number of blocks.
    func roundedUp(_ count: Int) -> Int { (count + blockSize - 1) / blockSize * blockSize }

    /// The regression estimate L = m − b(m_r − R) and its residual variance s_e² over the prefix
    /// `losses` (see the type's comment); with fewer than 3 samples, or a reference constant over
    /// them, the plain mean and s².
    static func regression(_ losses: [Double], mean: Double, on reference: ControlVariate) -> (loss: Double, variance: Double) {
        let n = losses.count
        var referenceSum = 0.0
        for i in 0..<n { referenceSum += reference.losses[i] }
        let referenceMean = referenceSum / Double(n)
        var sxy = 0.0, sxx = 0.0
        for i in 0..<n {
            let dx = reference.losses[i] - referenceMean
            sxy += (losses[i] - mean) * dx
            sxx += dx * dx
        }
        guard n > 2, sxx > 0, sxx.isFinite, sxy.isFinite else { return (mean, sampleVariance(losses, mean: mean)) }
        let b = sxy / sxx
        var residuals = 0.0
        for i in 0..<n {
            let e = (losses[i] - mean) - b * (reference.losses[i] - referenceMean)
            residuals += e * e
        }
        return (mean - b * (referenceMean - reference.mean), residuals / Double(n - 2))
    }

    /// s² = Σ (ℓᵢ − m)²/(n − 1) (two passes: m is known); ∞ for one sample.
    static func sampleVariance(_ losses: [Double], mean: Double) -> Double {
        guard losses.count > 1 else { return .infinity }
        var squares = 0.0
        for loss in losses { squares += (loss - mean) * (loss - mean) }
        return squares / Double(losses.count - 1)
    }

    /// √((1 − n/N) · s²/n); exactly 0 at n = N.
    public static func standardError(variance: Double, samples n: Int, of total: Int) -> Double {
        guard n < total else { return 0 }
        return (variance / Double(n) * Double(total - n) / Double(total)).squareRoot()
    }

    /// The n at which √((1 − n/N) · s²/n) ≤ T: N·s²/(s² + T²N) (N for T = 0 or s = ∞).
    static func samplesNeeded(variance: Double, tolerance: Double, of total: Int) -> Double {
        guard variance.isFinite else { return Double(total) }
        let t2 = tolerance * tolerance * Double(total)
        guard variance + t2 > 0 else { return 1 }
        return Double(total) * variance / (variance + t2)
    }
}

/// A point whose per-sample losses over the whole set are known (a pilot point), for the
/// regression estimate of a point near it (`DataSampling`).
public struct ControlVariate: Sendable {
    /// The N per-sample losses, in the sample order's order.
    public let losses: [Double]
    /// Their mean, added in that order (so that a prefix of all N gives it bit for bit).
    public let mean: Double

    public init(losses: [Double]) {
        self.losses = losses
        var sum = 0.0
        for loss in losses { sum += loss }
        mean = sum / Double(max(losses.count, 1))
    }

    /// Whether it can serve: every loss finite.
    public var isUsable: Bool { !losses.isEmpty && losses.allSatisfy(\.isFinite) }
}

/// One point's sampled loss over `samples` samples, its standard error and the accuracy over
/// the same samples (the plain mean: the reference says nothing of accuracy).
public struct SampledEstimate: Sendable, Equatable {
    public var loss: Double
    public var accuracy: Double?
    public var standardError: Double
    public var samples: Int
    /// The per-sample losses, when asked for (`keepingLosses`).
    public var losses: [Double]?
}
