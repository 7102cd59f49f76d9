import TerrainTensor

/// A set of samples held in memory: one input tensor whose first dimension indexes samples, and
/// one target per sample.
///
/// Images are stored as `[N, C, H, W]` and feature vectors as `[N, F]`, scaled as their reader
/// documents (pixels in `[0, 1]` before normalization).
public struct Dataset: Sendable {
    /// A short name for messages and reports, usually the source's (`mnist`, `digits`).
    public var name: String
    /// All inputs, samples along the first dimension.
    public var inputs: Tensor<Float>
    /// One target per sample.
    public var targets: Targets

    public init(name: String, inputs: Tensor<Float>, targets: Targets) {
        self.name = name
        self.inputs = inputs
        self.targets = targets
    }

    /// The number of samples, N.
    public var count: Int { inputs.shape.first ?? 0 }

    /// The shape of one sample's input: the input shape without its first dimension.
    public var sampleShape: [Int] { Array(inputs.shape.dropFirst()) }

    /// The number of classes, or nil for a regression dataset.
    public var classCount: Int? { targets.classCount }

    /// The accuracy in percent of `correct` right predictions over `samples` of this set's
    /// samples (`Targets.accuracy`): nil for regression, token accuracy for token sequences.
    public func accuracy(correct: Int, samples: Int) -> Double? { targets.accuracy(correct: correct, samples: samples) }

    /// The number of outputs a model needs: the class count, or the number of regression values.
    public var outputCount: Int { targets.outputCount }

    /// Copies the given rows into one batch (inputs and matching targets), in the given order.
    public func batch(_ indices: some Collection<Int>) -> (inputs: Tensor<Float>, targets: Targets) {
        (gatherRows(of: inputs, at: indices), targets.gathering(indices))
    }

    /// Walks the whole set in order, `size` rows at a time (the last batch holds what is left):
    /// calls `body(rows, inputs, targets)` with each batch's row range, its inputs as `T`
    /// (the stored Float tensor itself when `T` is Float) and its targets. Evaluation, the
    /// loss gradient and the Hessian-vector product all sweep a set this way.
    public func forEachBatch<T: TensorScalar>(
        of size: Int, as _: T.Type, _ body: (_ rows: Range<Int>, _ inputs: Tensor<T>, _ targets: Targets) throws -> Void
    ) rethrows {
        var start = 0
        while start < count {
            let end = Swift.min(count, start + size)
            let (inputs, targets) = batch(start..<end)
            try body(start..<end, T.self == Float.self ? inputs as! Tensor<T> : Tensor<T>(converting: inputs), targets)
            start = end
        }
    }

    /// A dataset made of the given rows, in the given order.
    public func subset(_ indices: some Collection<Int>) -> Dataset {
        let (inputs, targets) = batch(indices)
        return Dataset(name: name, inputs: inputs, targets: targets)
    }

    /// A fixed random subset of `size` rows drawn with `seed`, kept in their original order,
    /// or `self` if `size >= count`. The same `(size, seed)` always picks the same rows.
    public func randomSubset(size: Int, seed: UInt64) -> Dataset {
        if size >= count { return self }
        return subset(randomSample(of: max(size, 0), from: count, seed: seed))
    }
}

/// `size` distinct indices from `0..<count`, drawn with `seed`, sorted ascending.
func randomSample(of size: Int, from count: Int, seed: UInt64) -> [Int] {
    var generator = SeededGenerator(seed: seed)
    return generator.permutation(count).prefix(size).sorted()
}
