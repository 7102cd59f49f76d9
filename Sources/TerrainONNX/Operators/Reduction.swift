import TerrainTensor

/// ReduceSum and ReduceMean over some axes (all of them when none are named, unless
/// noop_with_empty_axes), keeping them as axes of size 1 or not (keepdims). The axes are an
/// attribute before operator set 13 (ReduceSum) or 18 (ReduceMean), an input from then on.
///
/// Linear: ẏ = reduce(ẋ); ∂x = g repeated over the reduced axes (divided by their size for the
/// mean); R{∂x} the same of ġ.
struct ReductionOperator: GraphOperator {
    var mean: Bool
    /// nil: from input 1.
    var axesAttribute: [Int]?
    var keepDimensions: Bool
    var noOpWithoutAxes: Bool

    /// The shape with the reduced axes set to 1, the output's shape, and the number of summed values.
    private func layout<S>(_ inputs: NodeInputs<S>, _ shape: [Int]) throws -> (kept: [Int], output: [Int], count: Int) {
        let named = try axesAttribute ?? (inputs.has(1) ? inputs.integers(1).ints : [])
        if named.isEmpty && noOpWithoutAxes { return (shape, shape, 1) }
        let axes = named.isEmpty ? Set(0..<shape.count) : Set(try named.map { try normalizedAxis($0, rank: shape.count) })
        guard named.isEmpty || axes.count == named.count else { throw OperatorFailure("repeated axes \(named)") }
        let kept = shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let output = keepDimensions ? kept : shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        return (kept, output, axes.map { shape[$0] }.reduce(1, *))
    }

    private func reduce<S: TensorScalar>(_ x: Tensor<S>, _ l: (kept: [Int], output: [Int], count: Int)) -> Tensor<S> {
        let sum = Backends.current.sum(x, toShape: l.kept).reshaped(l.output)
        return mean ? scaled(sum, 1 / Double(max(l.count, 1))) : sum
    }

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        let x = try inputs.real(0)
        let l = try layout(inputs, x.shape)
        return .real(reduce(x, l), tangent: inputs.tangent(0).map { reduce($0, l) })
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        let x = r.x(0)
        guard let l = try? layout(r.inputs, x.shape) else { return [] }
        func spread(_ t: Tensor<S>) -> Tensor<S> {
            let repeated = expanded(t.reshaped(l.kept), to: x.shape)
            return mean ? scaled(repeated, 1 / Double(max(l.count, 1))) : repeated
        }
        return [InputGradient(spread(g), gDot.map(spread)), nil]
    }
}
