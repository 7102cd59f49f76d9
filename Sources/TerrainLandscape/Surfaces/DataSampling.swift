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
/// **With a reference** (a `ControlVariate`: k columns of per-sample values r⁽¹⁾ᵢ … r⁽ᵏ⁾ᵢ of the
/// same samples whose exact means R⁽¹⁾ … R⁽ᵏ⁾ over all N are known; a surface's are its pilot's
/// losses interpolated to the point, `SurfaceSampler`) the estimate is the regression estimator
/// (Cochran §7.1; with several columns, the multiple regression of the same chapter)
///
///     L = m − Σ_c b_c·(m_c − R_c),   b the least-squares coefficients of ℓ − m on the r⁽ᶜ⁾ − m_c,
///     SE = √((1 − n/N) · s_e²/n),    s_e² = Σ ((ℓᵢ − m) − Σ_c b_c(r⁽ᶜ⁾ᵢ − m_c))²/(n − 1 − k),
///
/// m_c column c's mean over the same prefix: the part of the prefix's error that the
/// reference shares (the same samples, nearby weights) is taken out, so a point whose losses
/// follow its reference's stops far sooner, and one uncorrelated with it (b ≈ 0) is estimated as
/// without. A column that adds nothing to the ones before it (a multiple of them, up to
/// rounding) is left out of the fit, and k counts the columns fitted.
/// (b is estimated from the prefix, so L carries a bias of order k/n, far below its SE.)
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

    /// What a request's fingerprint adds: other settings sample other prefixes ("reference
    /// cubic": the references of `SurfaceSampler`, whose estimates differ from the bilinear ones
    /// of files made before them, which are therefore not resumed into).
    public var requestTag: String {
        let rule: String
        switch tolerance {
        case .absolute(let t): rule = "absolute \(t)"
        case .contourSpacing(let fraction, let levels): rule = "contour \(fraction) \(levels.name)"
        }
        return " sampled \(rule) seed \(seed) minimum \(minimumSamples) block \(blockSize) growth \(growth) \(maximumGrowth) pilot \(pilotStride.map(String.init) ?? "auto") reference cubic"
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

    /// The regression estimate L = m − Σ b_c(m_c − R_c) and its residual variance s_e² over the
    /// prefix `losses` (see the type's comment); with too few samples for the columns fitted, or
    /// no column that varies over them, the plain mean and s².
    static func regression(_ losses: [Double], mean: Double, on reference: ControlVariate) -> (loss: Double, variance: Double) {
        let n = losses.count, k = reference.columns.count
        // Each column's mean over the prefix, the centred cross products S (k×k) and t (k).
        var columnMeans = [Double](repeating: 0, count: k)
        for c in 0..<k {
            var sum = 0.0
            for i in 0..<n { sum += reference.columns[c][i] }
            columnMeans[c] = sum / Double(n)
        }
        var gram = [Double](repeating: 0, count: k * k), cross = [Double](repeating: 0, count: k)
        for c in 0..<k {
            let rc = reference.columns[c], mc = columnMeans[c]
            for i in 0..<n { cross[c] += (losses[i] - mean) * (rc[i] - mc) }
            for d in 0...c {
                let rd = reference.columns[d], md = columnMeans[d]
                var sum = 0.0
                for i in 0..<n { sum += (rc[i] - mc) * (rd[i] - md) }
                gram[c * k + d] = sum
                gram[d * k + c] = sum
            }
        }
        guard let b = leastSquares(gram: gram, cross: cross, columns: k), gram.allSatisfy(\.isFinite), cross.allSatisfy(\.isFinite) else {
            return (mean, sampleVariance(losses, mean: mean))
        }
        let fitted = b.filter { $0 != 0 }.count
        guard fitted > 0, n > fitted + 1 else { return (mean, sampleVariance(losses, mean: mean)) }
        var residuals = 0.0
        for i in 0..<n {
            var e = losses[i] - mean
            for c in 0..<k where b[c] != 0 { e -= b[c] * (reference.columns[c][i] - columnMeans[c]) }
            residuals += e * e
        }
        var loss = mean
        for c in 0..<k where b[c] != 0 { loss -= b[c] * (columnMeans[c] - reference.means[c]) }
        return (loss, residuals / Double(n - 1 - fitted))
    }

    /// The b of S·b = t (S symmetric, k×k, row-major) by Cholesky's factorization, a column whose
    /// pivot is not above 10⁻¹⁰ of its own square sum (a combination of the ones before it, or
    /// constant) left out with b_c = 0; nil when S or t is not finite.
    static func leastSquares(gram: [Double], cross: [Double], columns k: Int) -> [Double]? {
        var factor = [Double](repeating: 0, count: k * k)
        var kept = [Bool](repeating: false, count: k)
        for c in 0..<k {
            var pivot = gram[c * k + c]
            for j in 0..<c where kept[j] { pivot -= factor[c * k + j] * factor[c * k + j] }
            guard pivot.isFinite else { return nil }
            guard pivot > 1e-10 * gram[c * k + c], pivot > 0 else { continue }
            kept[c] = true
            let root = pivot.squareRoot()
            factor[c * k + c] = root
            for r in (c + 1)..<k {
                var value = gram[r * k + c]
                for j in 0..<c where kept[j] { value -= factor[r * k + j] * factor[c * k + j] }
                factor[r * k + c] = value / root
            }
        }
        // L·y = t, then Lᵀ·b = y, over the kept columns.
        var y = [Double](repeating: 0, count: k), b = [Double](repeating: 0, count: k)
        for c in 0..<k where kept[c] {
            var value = cross[c]
            for j in 0..<c where kept[j] { value -= factor[c * k + j] * y[j] }
            y[c] = value / factor[c * k + c]
        }
        for c in stride(from: k - 1, through: 0, by: -1) where kept[c] {
            var value = y[c]
            for r in (c + 1)..<k where kept[r] { value -= factor[r * k + c] * b[r] }
            b[c] = value / factor[c * k + c]
        }
        return b
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

/// Per-sample values over the whole set whose means are known, for the regression estimate of a
/// point near them (`DataSampling`): a pilot point's losses, or those of several interpolated to
/// the point and the corrections of a finer interpolation (`SurfaceSampler.reference`).
public struct ControlVariate: Sendable {
    /// The columns, each N values in the sample order's order.
    public let columns: [[Double]]
    /// Their means, added in that order (so that a prefix of all N gives them bit for bit).
    public let means: [Double]

    public init(columns: [[Double]]) {
        precondition(!columns.isEmpty && columns.allSatisfy { $0.count == columns[0].count }, "a reference's columns hold the same samples")
        self.columns = columns
        means = columns.map { column in
            var sum = 0.0
            for value in column { sum += value }
            return sum / Double(max(column.count, 1))
        }
    }

    /// One column: the N per-sample losses of one point.
    public init(losses: [Double]) { self.init(columns: [losses]) }

    /// The first column (a pilot point's own losses).
    public var losses: [Double] { columns[0] }
    /// The first column's mean.
    public var mean: Double { means[0] }

    /// Whether it can serve: every value finite.
    public var isUsable: Bool { !columns[0].isEmpty && columns.allSatisfy { $0.allSatisfy(\.isFinite) } }
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
