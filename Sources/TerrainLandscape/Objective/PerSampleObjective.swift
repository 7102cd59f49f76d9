import TerrainTensor

/// A loss that is the mean of a Swift function over N samples, as an `Objective` that can also
/// evaluate its samples one by one (`SampleEvaluating`): a library user's own per-sample loss,
/// and the closed-form objective the sampling tests use.
///
///     let fit = PerSampleObjective(groups: .tiling([("w", [1], .weight)]), initial: [0],
///                                  counts: [.train: xs.count]) { w, _, i in
///         (w[0] - xs[i]) * (w[0] - xs[i])
///     }
///
/// `evaluate` adds the samples' losses in index order and divides by N.
public final class PerSampleObjective: SampleEvaluating {
    public let groups: [ParameterGroup]
    private var values: [Double]
    private let counts: [EvaluationSet: Int]
    private let loss: ([Double], EvaluationSet, Int) throws -> Double

    /// - Parameters:
    ///   - counts: N for each set the objective has samples of (a set left out has none).
    ///   - loss: the loss of sample i of a set at the parameters.
    public init(groups: [ParameterGroup], initial: [Double], counts: [EvaluationSet: Int],
                _ loss: @escaping ([Double], EvaluationSet, Int) throws -> Double) {
        precondition(initial.count == groups.scalarCount, "initial vector does not fit the groups")
        self.groups = groups
        self.values = initial
        self.counts = counts
        self.loss = loss
    }

    public func parameters() -> [Double] { values }
    public func setParameters(_ values: [Double]) {
        precondition(values.count == groups.scalarCount)
        self.values = values
    }

    public func sampleCount(_ set: EvaluationSet) -> Int { counts[set] ?? 0 }

    public func evaluate(_ set: EvaluationSet) throws -> ObjectiveValue {
        let n = sampleCount(set)
        guard n > 0 else { throw LandscapeError.invalidRequest("the \(set.rawValue) set is empty") }
        var sum = 0.0
        for i in 0..<n { sum += try loss(values, set, i) }
        return ObjectiveValue(loss: sum / Double(n))
    }

    public func evaluateSamples(_ set: EvaluationSet, at indices: ArraySlice<Int>) throws -> SampleLosses {
        SampleLosses(losses: try indices.map { try loss(values, set, $0) })
    }

    /// Replicas share the function and the counts: the function must be safe to call from
    /// several threads (a pure function of its arguments is).
    public func replica() throws -> Objective? {
        PerSampleObjective(groups: groups, initial: values, counts: counts, loss)
    }
}
