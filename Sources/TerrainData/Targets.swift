import TerrainTensor

/// What each sample of a dataset should be mapped to.
public enum Targets: Sendable, Equatable {
    /// Class labels in `0..<count`, one per sample.
    case classes([Int32], count: Int)
    /// Regression targets, shape `[N, outputs]`.
    case values(Tensor<Float>)
    /// Next-token targets of token sequences: `ids` holds N·T token ids row-major (`[N, T]`,
    /// T = `length`), each in `0..<vocabulary`; the target at position t of a sequence is the
    /// token that follows the input's token t (see `TokenSequences`). The loss is cross-entropy
    /// averaged over every position of every sequence.
    case tokens([Int32], length: Int, vocabulary: Int)

    /// The number of samples the targets describe.
    public var sampleCount: Int {
        switch self {
        case let .classes(labels, _): labels.count
        case let .values(values): values.shape.first ?? 0
        case let .tokens(ids, length, _): length > 0 ? ids.count / length : 0
        }
    }

    /// How many predictions each sample is scored on: one per sample, T per token sequence.
    /// Accuracy is the share of correct predictions, so for tokens it is token accuracy.
    public var predictionsPerSample: Int {
        if case let .tokens(_, length, _) = self { return length }
        return 1
    }

    /// Whether the targets have an accuracy (class labels and tokens; not regression values).
    public var hasAccuracy: Bool {
        if case .values = self { return false }
        return true
    }

    /// Whether these are next-token targets (their loss also has a perplexity, exp(loss)).
    public var isTokens: Bool {
        if case .tokens = self { return true }
        return false
    }

    /// The accuracy in percent of `correct` right predictions over `samples` samples: correct
    /// classes over samples, correct tokens over all tokens; nil for regression (and 0 for none).
    public func accuracy(correct: Int, samples: Int) -> Double? {
        guard hasAccuracy else { return nil }
        let predictions = samples * predictionsPerSample
        return predictions > 0 ? 100 * Double(correct) / Double(predictions) : 0
    }

    /// The next-token ids `[N·T]`, or nil for other targets.
    public var tokenIDs: [Int32]? {
        if case let .tokens(ids, _, _) = self { return ids }
        return nil
    }

    /// The sequence length T of token targets, or nil.
    public var sequenceLength: Int? {
        if case let .tokens(_, length, _) = self { return length }
        return nil
    }

    /// The vocabulary of token targets, or nil.
    public var vocabulary: Int? {
        if case let .tokens(_, _, vocabulary) = self { return vocabulary }
        return nil
    }

    /// The class labels, or nil for other targets.
    public var labels: [Int32]? {
        if case let .classes(labels, _) = self { return labels }
        return nil
    }

    /// The number of classes, or nil for other targets.
    public var classCount: Int? {
        if case let .classes(_, count) = self { return count }
        return nil
    }

    /// The number of model outputs the targets call for: one per class, one per value column,
    /// or (tokens) the vocabulary, the logits at each position.
    public var outputCount: Int {
        switch self {
        case let .classes(_, count): count
        case let .values(values): values.shape.dropFirst().reduce(1, *)
        case let .tokens(_, _, vocabulary): vocabulary
        }
    }

    /// The targets of the samples at `indices`, in that order.
    ///
    /// Indices are positions chosen by code, not read from files; an index out of range traps
    /// like an out-of-range array subscript.
    public func gathering(_ indices: some Collection<Int>) -> Targets {
        switch self {
        case let .classes(labels, count):
            return .classes(indices.map { labels[$0] }, count: count)
        case let .values(values):
            return .values(gatherRows(of: values, at: indices))
        case let .tokens(ids, length, vocabulary):
            var gathered: [Int32] = []
            gathered.reserveCapacity(indices.count * length)
            for row in indices { gathered += ids[(row * length)..<((row + 1) * length)] }
            return .tokens(gathered, length: length, vocabulary: vocabulary)
        }
    }
}

/// Copies the rows (first-dimension slices) of `tensor` at `indices` into a new tensor.
func gatherRows(of tensor: Tensor<Float>, at indices: some Collection<Int>) -> Tensor<Float> {
    let rows = tensor.shape.first ?? 0
    let rowSize = tensor.shape.dropFirst().reduce(1, *)
    var result = Tensor<Float>(uninitializedShape: [indices.count] + tensor.shape.dropFirst())
    let source = tensor.pointer
    let destination = result.mutablePointer()
    for (position, row) in indices.enumerated() {
        precondition(row >= 0 && row < rows, "row index \(row) out of range 0..<\(rows)")
        (destination + position * rowSize).update(from: source + row * rowSize, count: rowSize)
    }
    return result
}
