import TerrainTensor

/// ReduceSum and ReduceMean over a set of axes (all of them when none are named, unless
/// noop_with_empty_axes makes that the identity), keeping the reduced axes as 1s or dropping
/// them (keepdims). The axes are an attribute before operator set 13 (ReduceSum) or 18
/// (ReduceMean) and an optional input from then on.
///
/// Linear: ẏ = reduce(ẋ); ∂x = g broadcast back over the reduced axes (divided by their element
/// count for the mean), and R{∂x} is the same of ġ.
struct ReductionOperator: GraphOperator {
    enum Kind: Sendable { case sum, mean }
    var kind: Kind
    /// The attribute's axes; nil where they come from input 1 (or where none were given).
    var attributeAxes: [Int]?
    var axesFromInput: Bool
    var keepDimensions: Bool
    var emptyAxesIsIdentity: Bool

    /// The input's shape with the reduced axes set to 1 (nil: the identity), and the output's shape.
    private func layout<S>(_ inputs: NodeInputs<S>, _ shape: [Int]) throws -> (kept: [Int], output: [Int], count: Int)? {
        var axes = attributeAxes ?? []
        if axesFromInput, inputs.has(1) {
            let given = try inputs.integers(1)
            guard given.shape.count <= 1 else { throw OperatorFailure("the axes must be a 1-D tensor, got shape \(given.shape)") }
            axes = given.ints
        }
        if axes.isEmpty {
            if emptyAxesIsIdentity { return nil }
            axes = Array(shape.indices)
        }
        let normalized = try Set(axes.map { try normalizedAxis($0, rank: shape.count) })
        guard normalized.count == axes.count else { throw OperatorFailure("repeated axes \(axes)") }
        let kept = shape.enumerated().map { normalized.contains($0.offset) ? 1 : $0.element }
        let output = keepDimensions ? kept : shape.enumerated().filter { !normalized.contains($0.offset) }.map(\.element)
        return (kept, output, normalized.reduce(1) { $0 * shape[$1] })
    }

    private func reduce<S: TensorScalar>(_ x: Tensor<S>, _ l: (kept: [Int], output: [Int], count: Int)) -> Tensor<S> {
        let total = Backends.current.sum(x, toShape: l.kept)
        return (kind == .mean ? scaled(total, 1 / Double(max(l.count, 1))) : total).reshaped(l.output)
    }

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        let x = try inputs.real(0)
        guard let l = try layout(inputs, x.shape) else { return .real(x, tangent: inputs.tangent(0)) }
        guard l.count > 0 || kind == .sum else { throw OperatorFailure("the mean over an empty axis of \(x.shape) is undefined") }
        return .real(reduce(x, l), tangent: inputs.tangent(0).map { reduce($0, l) })
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        let x = r.x(0)
        let found: (kept: [Int], output: [Int], count: Int)?
        do { found = try layout(r.inputs, x.shape) } catch { return [nil] }
        guard let l = found else { return [InputGradient(g, gDot)] }
        let factor = kind == .mean ? 1 / Double(max(l.count, 1)) : 1
        func spread(_ t: Tensor<S>) -> Tensor<S> { scaled(expanded(t.reshaped(l.kept), to: x.shape), factor) }
        return [InputGradient(spread(g), gDot.map(spread))]
    }
}
