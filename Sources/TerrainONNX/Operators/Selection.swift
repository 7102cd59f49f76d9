import TerrainTensor

/// Equal: a boolean tensor (integers 0 and 1) of a == b with broadcasting, on integers or real
/// numbers. It builds masks (a causal triangle compared with 0) and carries no gradient.
struct EqualOperator: GraphOperator {
    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        guard inputs.has(0), inputs.has(1), let a = inputs.values[0], let b = inputs.values[1] else {
            throw OperatorFailure("needs two inputs")
        }
        guard let shape = BroadcastShape.of(a.shape, b.shape) else { throw OperatorFailure("shapes \(a.shape) and \(b.shape) do not broadcast") }
        _ = try elementCount(shape)
        func numbers(_ v: GraphValue<S>) -> [Double] {
            switch v {
            case .integers(let t): t.values.map { Double($0) }
            case .real(let t): t.scalars.map { Double($0) }
            }
        }
        let x = numbers(a), y = numbers(b)
        let ia = broadcastSourceIndices(shape, from: a.shape), ib = broadcastSourceIndices(shape, from: b.shape)
        return NodeOutput(.integers(IntegerTensor(shape: shape, values: (0..<ia.count).map { x[ia[$0]] == y[ib[$0]] ? 1 : 0 })))
    }
}

/// Where(condition, a, b): a where the condition holds, else b, all three broadcast to one shape.
/// On real a and b it is a select (`Backend.select`), so a −∞ fill never meets arithmetic; the
/// condition gets no gradient. ẏ = select(c, ȧ, ḃ); ∂a = Σ select(c, g, 0) over a's broadcast
/// axes, ∂b likewise with the condition negated; the tangents the same with ġ.
struct WhereOperator: GraphOperator {
    private func condition(_ c: IntegerTensor, _ shape: [Int]) -> [Bool] {
        broadcastSourceIndices(shape, from: c.shape).map { c.values[$0] != 0 }
    }

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        let c = try inputs.integers(0)
        guard inputs.has(1), inputs.has(2), let a = inputs.values[1], let b = inputs.values[2] else { throw OperatorFailure("needs three inputs") }
        guard let ab = BroadcastShape.of(a.shape, b.shape), let shape = BroadcastShape.of(c.shape, ab) else {
            throw OperatorFailure("shapes \(c.shape), \(a.shape) and \(b.shape) do not broadcast")
        }
        _ = try elementCount(shape)
        let keep = condition(c, shape)
        switch (a, b) {
        case (.integers(let x), .integers(let y)):
            let ix = broadcastSourceIndices(shape, from: x.shape), iy = broadcastSourceIndices(shape, from: y.shape)
            return NodeOutput(.integers(IntegerTensor(shape: shape, values: (0..<keep.count).map { keep[$0] ? x.values[ix[$0]] : y.values[iy[$0]] })))
        case (.real(let x), .real(let y)):
            let backend = Backends.current
            let aDot = inputs.tangent(1), bDot = inputs.tangent(2)
            var yDot: Tensor<S>?
            if aDot != nil || bDot != nil {
                yDot = backend.select(keep, expanded(aDot ?? Tensor(zeros: x.shape), to: shape), expanded(bDot ?? Tensor(zeros: y.shape), to: shape))
            }
            return .real(backend.select(keep, expanded(x, to: shape), expanded(y, to: shape)), tangent: yDot)
        default:
            throw OperatorFailure("one of the two choices holds integers and the other real numbers")
        }
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        guard case .real = r.output.value, let c = try? r.inputs.integers(0) else { return [] }
        let keep = condition(c, g.shape), drop = keep.map { !$0 }
        let backend = Backends.current, zero = Tensor<S>(zeros: g.shape)
        let a = r.x(1).shape, b = r.x(2).shape
        func part(_ t: Tensor<S>, _ mask: [Bool], _ shape: [Int]) -> Tensor<S> { backend.sum(backend.select(mask, t, zero), toShape: shape) }
        return [nil, InputGradient(part(g, keep, a), gDot.map { part($0, keep, a) }),
                InputGradient(part(g, drop, b), gDot.map { part($0, drop, b) })]
    }
}

/// Trilu: the upper (upper = 1) or lower triangle of the last two axes, diagonal k (input 1)
/// included, zero elsewhere: kept where j − i ≥ k (upper) or j − i ≤ k (lower). Linear: the
/// tangent and both backward terms are the same triangle of ẋ, g and ġ.
struct TriluOperator: GraphOperator {
    var upper: Bool

    private func kept<S>(_ inputs: NodeInputs<S>, _ shape: [Int]) throws -> [Bool] {
        guard shape.count >= 2 else { throw OperatorFailure("needs at least two axes, got \(shape)") }
        let diagonal = inputs.has(1) ? try inputs.constantScalar(1) : 0
        guard abs(diagonal) <= 0x1p53 else { throw OperatorFailure("diagonal \(diagonal)") }
        let k = Int(diagonal)
        let rows = shape[shape.count - 2], columns = shape[shape.count - 1]
        let matrix = (0..<(rows * columns)).map { flat in
            let d = flat % columns - flat / columns
            return upper ? d >= k : d <= k
        }
        let count = try elementCount(shape)
        return (0..<count).map { matrix[$0 % max(rows * columns, 1)] }
    }

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        guard inputs.has(0), let value = inputs.values[0] else { throw OperatorFailure("input 0 is missing") }
        let keep = try kept(inputs, value.shape)
        switch value {
        case .integers(let t):
            return NodeOutput(.integers(IntegerTensor(shape: t.shape, values: (0..<keep.count).map { keep[$0] ? t.values[$0] : 0 })))
        case .real(let x):
            let backend = Backends.current, zero = Tensor<S>(zeros: x.shape)
            return .real(backend.select(keep, x, zero), tangent: inputs.tangent(0).map { backend.select(keep, $0, zero) })
        }
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        guard case .real = r.output.value, let keep = try? kept(r.inputs, g.shape) else { return [] }
        let backend = Backends.current, zero = Tensor<S>(zeros: g.shape)
        return [InputGradient(backend.select(keep, g, zero), gDot.map { backend.select(keep, $0, zero) }), nil]
    }
}

/// Expand: the input broadcast against a shape (ONNX broadcasts both ways: the result has the
/// broadcast of the two shapes). ẏ = expand(ẋ); ∂x = g summed over the repeated axes.
struct ExpandOperator: GraphOperator {
    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        guard inputs.has(0), let value = inputs.values[0] else { throw OperatorFailure("input 0 is missing") }
        let target = try inputs.integers(1)
        guard target.shape.count == 1, target.values.allSatisfy({ $0 >= 0 }) else {
            throw OperatorFailure("the shape must be a 1-D tensor of sizes, got \(target.values)")
        }
        guard let shape = BroadcastShape.of(value.shape, target.ints) else {
            throw OperatorFailure("\(value.shape) does not broadcast to \(target.ints)")
        }
        _ = try elementCount(shape)
        switch value {
        case .integers(let t): return NodeOutput(.integers(t.broadcast(to: shape)))
        case .real(let x): return .real(expanded(x, to: shape), tangent: inputs.tangent(0).map { expanded($0, to: shape) })
        }
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        guard case .real = r.output.value else { return [] }
        let shape = r.x(0).shape, backend = Backends.current
        return [InputGradient(backend.sum(g, toShape: shape), gDot.map { backend.sum($0, toShape: shape) }), nil]
    }
}
