import TerrainTensor

/// What each sample of a dataset should be mapped to.
public enum Targets: Sendable, Equatable {
    /// Class labels in `0..<count`, one per sample.
    case classes([Int32], count: Int)
    /// Regression targets, shape `[N, outputs]`.
    case values(Tensor<Float>)

    /// The number of samples the targets describe.
    public var sampleCount: Int {
        switch self {
        case let .classes(labels, _): labels.count
        case let .values(values): values.shape.first ?? 0
        }
    }

    /// The class labels, or nil for regression targets.
    public var labels: [Int32]? {
        if case let .classes(labels, _) = self { return labels }
        return nil
    }

    /// The number of classes, or nil for regression targets.
    public var classCount: Int? {
        if case let .classes(_, count) = self { return count }
        return nil
    }

    /// The number of model outputs the targets call for: one per class, or one per value column.
    public var outputCount: Int {
        switch self {
        case let .classes(_, count): count
        case let .values(values): values.shape.dropFirst().reduce(1, *)
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
