import TerrainTensor

/// An objective whose loss on a set is the mean of one loss per sample, and which can evaluate
/// any samples of the set on their own: what `terrain surface --data-tolerance` estimates a
/// point's loss with, from a prefix of one seeded random order of the set (`DataSampling`).
///
/// `ModelObjective` implements it (the compiled path and layer by layer, the per-sample loss
/// being `TaskLoss`'s), and so does `PerSampleObjective`, a Swift closure of one sample.
public protocol SampleEvaluating: Objective {
    /// The number of samples N of a set (the loss `evaluate` gives is the mean over all N).
    func sampleCount(_ set: EvaluationSet) -> Int
    /// The loss (and accuracy) of each sample at `indices` (positions in the set, 0..<N), in the
    /// order given, at the current parameters. The mean over all N samples is `evaluate`'s loss
    /// up to rounding. A point's estimate asks for the same slices whatever the run (threads,
    /// ranks, resumes), so values that depend on how the indices are cut into calls (a compiled
    /// kernel's batch) still give the same bits every time.
    func evaluateSamples(_ set: EvaluationSet, at indices: ArraySlice<Int>) throws -> SampleLosses
}

/// Per-sample values of `SampleEvaluating.evaluateSamples`, in the order asked for.
public struct SampleLosses: Sendable, Equatable {
    public var losses: [Double]
    /// Each sample's accuracy in percent (0 or 100 for a class; the share of right tokens of a
    /// sequence), so that their mean is the accuracy over the samples; nil without accuracy.
    public var accuracies: [Double]?

    public init(losses: [Double], accuracies: [Double]? = nil) {
        self.losses = losses
        self.accuracies = accuracies
    }
}

/// One seeded random order of a set's N sample positions (Fisher–Yates with `SeededGenerator`).
/// Every point of a sampled surface takes its samples from a prefix of the same order, so
/// neighbouring points share their samples and the noise in their difference mostly cancels
/// (common random numbers).
public struct SampleOrder: Sendable, Equatable {
    public let seed: UInt64
    public let indices: [Int]

    public init(count: Int, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        self.seed = seed
        indices = generator.permutation(max(count, 0))
    }

    public var count: Int { indices.count }
}
