import TerrainTensor

/// Pad in constant, reflect and edge modes: along each axis, `begin` values before and `end`
/// after (a negative count crops). The pads ([x₁_begin, x₂_begin, …, x₁_end, x₂_end, …]) and the
/// fill value are attributes before operator set 11 and inputs 1 and 2 after; input 3 (set 18)
/// names the axes the pads are for (all axes when absent).
///
/// Each output element is one input element or the fill value c, so the operator is linear in
/// (x, c): ẏ = pad(ẋ, fill ċ); ∂x sends each element of g back to the input element it copies
/// (reflect and edge copy some more than once, and the copies add up); ∂c = Σ g over the filled
/// elements = Σ g − Σ ∂x. R{∂x} and R{∂c} apply the same maps to ġ.
struct PadOperator: GraphOperator {
    enum Mode: String, Sendable { case constant, reflect, edge }
    var mode: Mode
    /// Before operator set 11: the pads and the fill value (attributes); nil from 11 on (inputs).
    var attributePads: [Int]?
    var attributeValue = 0.0

    /// What happens along one axis of the input: crop, then add `before` and `after` elements.
    struct AxisPlan {
        var axis: Int
        var cropBefore: Int, cropAfter: Int
        var before: Int, after: Int
        /// The length after cropping.
        var length: Int

        /// The cropped input's index each added element copies (reflect, edge), before and after.
        func sources(_ mode: Mode) -> (before: [Int], after: [Int]) {
            switch mode {
            case .constant: return ([], [])
            case .reflect: return ((0..<before).map { before - $0 }, (0..<after).map { length - 2 - $0 })
            case .edge: return (Array(repeating: 0, count: before), Array(repeating: length - 1, count: after))
            }
        }
    }

    private func axisPlans<S>(_ inputs: NodeInputs<S>, _ shape: [Int]) throws -> [AxisPlan] {
        let pads = try attributePads ?? inputs.integers(1).ints
        var axes = Array(shape.indices)
        if attributePads == nil, inputs.has(3) {
            axes = try inputs.integers(3).ints.map { try normalizedAxis($0, rank: shape.count) }
            guard Set(axes).count == axes.count else { throw OperatorFailure("repeated axes \(axes)") }
        }
        guard pads.count == 2 * axes.count else {
            throw OperatorFailure("\(pads.count) pads for \(axes.count) axes of an input of shape \(shape) (two per axis)")
        }
        var result: [AxisPlan] = []
        for (k, axis) in axes.enumerated() where pads[k] != 0 || pads[k + axes.count] != 0 {
            let begin = pads[k], end = pads[k + axes.count]
            guard abs(begin) <= 1 << 24, abs(end) <= 1 << 24 else { throw OperatorFailure("pads \(pads) are out of range") }
            let length = shape[axis] - max(0, -begin) - max(0, -end)
            guard length >= 0 else { throw OperatorFailure("pads \(pads) crop more than the \(shape[axis]) elements of axis \(axis)") }
            let plan = AxisPlan(axis: axis, cropBefore: max(0, -begin), cropAfter: max(0, -end), before: max(0, begin), after: max(0, end),
                                length: length)
            switch mode {
            case .constant: break
            case .reflect:
                guard plan.before < length, plan.after < length else {
                    throw OperatorFailure("reflect padding of \(max(plan.before, plan.after)) needs more than that many elements on axis \(axis), which has \(length)")
                }
            case .edge:
                guard length > 0 || plan.before + plan.after == 0 else { throw OperatorFailure("edge padding of an empty axis \(axis)") }
            }
            result.append(plan)
        }
        var output = shape
        for p in result { output[p.axis] = p.length + p.before + p.after }
        _ = try elementCount(output)
        return result
    }

    private func fillValue<S>(_ inputs: NodeInputs<S>) throws -> Double {
        guard attributePads == nil else { return attributeValue }
        guard inputs.has(2) else { return 0 }
        let c = try inputs.real(2)
        guard c.count == 1 else { throw OperatorFailure("the constant value must be one number, got shape \(c.shape)") }
        return Double(c[flat: 0])
    }

    /// The parts of x along an axis, by their sizes, leaving out empty ones (nil for them).
    private static func parts<S: TensorScalar>(_ x: Tensor<S>, _ axis: Int, _ sizes: [Int]) -> [Tensor<S>?] {
        let pieces = Backends.current.split(x, axis: axis, sizes: sizes.filter { $0 > 0 })
        var next = pieces.makeIterator()
        return sizes.map { $0 > 0 ? next.next() : nil }
    }

    private static func joined<S: TensorScalar>(_ parts: [Tensor<S>], _ axis: Int) -> Tensor<S> {
        parts.count == 1 ? parts[0] : Backends.current.concatenate(parts, axis: axis)
    }

    /// Pads x along one axis (fill value c in constant mode).
    private func pad<S: TensorScalar>(_ x: Tensor<S>, _ p: AxisPlan, fill c: S) -> Tensor<S> {
        var x = x
        if p.cropBefore > 0 || p.cropAfter > 0 {
            x = Self.parts(x, p.axis, [p.cropBefore, p.length, p.cropAfter])[1] ?? { var s = x.shape; s[p.axis] = 0; return Tensor(zeros: s) }()
        }
        guard p.before + p.after > 0 else { return x }
        var pieces: [Tensor<S>] = []
        switch mode {
        case .constant:
            func filled(_ n: Int) -> Tensor<S> { var s = x.shape; s[p.axis] = n; return Tensor(repeating: c, shape: s) }
            if p.before > 0 { pieces.append(filled(p.before)) }
            if p.length > 0 { pieces.append(x) }
            if p.after > 0 { pieces.append(filled(p.after)) }
        case .reflect, .edge:
            let units = Self.parts(x, p.axis, Array(repeating: 1, count: p.length)).map { $0! }
            let (before, after) = p.sources(mode)
            pieces = before.map { units[$0] } + [x] + after.map { units[$0] }
        }
        return Self.joined(pieces, p.axis)
    }

    /// The adjoint of `pad` along one axis: g back to the shape before the axis was padded.
    private func unpad<S: TensorScalar>(_ g: Tensor<S>, _ p: AxisPlan, inputShape: [Int]) -> Tensor<S> {
        var gx: Tensor<S>
        var croppedShape = g.shape
        croppedShape[p.axis] = p.length
        if p.before + p.after == 0 {
            gx = g
        } else {
            let pieces = Self.parts(g, p.axis, [p.before, p.length, p.after])
            gx = pieces[1] ?? Tensor(zeros: croppedShape)
            if mode != .constant, p.length > 0 {
                // Each added element's gradient goes to the element it copies.
                var units = Self.parts(gx, p.axis, Array(repeating: 1, count: p.length)).map { $0! }
                let (before, after) = p.sources(mode)
                for (added, sources) in [(pieces[0], before), (pieces[2], after)] {
                    guard let added else { continue }
                    for (k, piece) in Self.parts(added, p.axis, Array(repeating: 1, count: sources.count)).enumerated() {
                        units[sources[k]] = Backends.current.add(units[sources[k]], piece!)
                    }
                }
                gx = Self.joined(units, p.axis)
            }
        }
        guard p.cropBefore > 0 || p.cropAfter > 0 else { return gx }
        func zeros(_ n: Int) -> Tensor<S> { var s = croppedShape; s[p.axis] = n; return Tensor(zeros: s) }
        return Self.joined([zeros(p.cropBefore), gx, zeros(p.cropAfter)].filter { $0.shape[p.axis] > 0 }, p.axis)
    }

    private func padAll<S: TensorScalar>(_ x: Tensor<S>, _ plans: [AxisPlan], fill c: S) -> Tensor<S> {
        plans.reduce(x) { pad($0, $1, fill: c) }
    }

    private func unpadAll<S: TensorScalar>(_ g: Tensor<S>, _ plans: [AxisPlan], inputShape: [Int]) -> Tensor<S> {
        // The input's shape before each axis was padded, in the forward order.
        var shapes: [[Int]] = []
        var shape = inputShape
        for p in plans { shapes.append(shape); shape[p.axis] = p.length + p.before + p.after }
        var gx = g
        for (p, before) in zip(plans, shapes).reversed() { gx = unpad(gx, p, inputShape: before) }
        return gx
    }

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        let x = try inputs.real(0)
        let plans = try axisPlans(inputs, x.shape)
        let c = try fillValue(inputs)
        let y = padAll(x, plans, fill: S(c))
        var yDot: Tensor<S>?
        let cDot = attributePads == nil ? inputs.tangent(2) : nil
        if inputs.tangent(0) != nil || cDot != nil {
            yDot = padAll(inputs.tangent(0) ?? Tensor(zeros: x.shape), plans, fill: mode == .constant ? cDot?[flat: 0] ?? 0 : 0)
        }
        return .real(y, tangent: yDot)
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        let x = r.x(0)
        guard let plans = try? axisPlans(r.inputs, x.shape) else { return [nil] }
        let gx = unpadAll(g, plans, inputShape: x.shape)
        let gxDot = gDot.map { unpadAll($0, plans, inputShape: x.shape) }
        var result: [InputGradient<S>?] = [InputGradient(gx, gxDot)]
        if attributePads == nil, mode == .constant, r.inputs.has(2), case .real(let c)? = r.inputs.values[2] {
            // ∂c = Σ g − Σ ∂x: what g holds at the filled elements.
            let backend = Backends.current
            func share(_ g: Tensor<S>, _ gx: Tensor<S>) -> Tensor<S> { Tensor(shape: c.shape, scalars: [S(backend.sum(g) - backend.sum(gx))]) }
            result += [nil, InputGradient(share(g, gx), gDot.map { share($0, gxDot!) })]
        }
        return result
    }
}
