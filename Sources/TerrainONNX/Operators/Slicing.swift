import TerrainTensor

/// Picking a block of a tensor along some axes: Slice (starts, ends, axes, steps) and each part
/// of a Split. Real tensors are cut by `Backend.gather` along each sliced axis, so the backward
/// pass is its adjoint (zeros where nothing was picked): linear, ẏ = slice(ẋ), ∂x = slice*(g),
/// R{∂x} = slice*(ġ). Integers (shapes) are cut directly.
enum BlockSelection {
    /// The kept indices of each axis (nil: the whole axis).
    typealias Picks = [[Int]?]

    static func apply<S: TensorScalar>(_ value: GraphValue<S>, tangent: Tensor<S>?, _ picks: Picks) throws -> NodeOutput<S> {
        let shape = zip(value.shape, picks).map { d, p in p?.count ?? d }
        _ = try elementCount(shape)
        switch value {
        case .integers(let t):
            var values = t.values, current = t.shape
            for (axis, p) in picks.enumerated() {
                guard let p else { continue }
                let outer = current[..<axis].reduce(1, *), inner = current[(axis + 1)...].reduce(1, *), n = current[axis]
                var next: [Int64] = []
                for o in 0..<outer { for i in p { next += values[((o * n + i) * inner)..<((o * n + i + 1) * inner)] } }
                values = next
                current[axis] = p.count
            }
            return NodeOutput(.integers(IntegerTensor(shape: shape, values: values)))
        case .real(let x):
            return .real(cut(x, picks), tangent: tangent.map { cut($0, picks) })
        }
    }

    static func cut<S: TensorScalar>(_ x: Tensor<S>, _ picks: Picks) -> Tensor<S> {
        var y = x
        for (axis, p) in picks.enumerated() { if let p { y = Backends.current.gather(y, axis: axis, indices: p) } }
        return y
    }

    /// The adjoint of `cut` for an input of `shape`.
    static func uncut<S: TensorScalar>(_ g: Tensor<S>, _ picks: Picks, inputShape shape: [Int]) -> Tensor<S> {
        var y = g
        var current = g.shape
        for (axis, p) in picks.enumerated().reversed() {
            guard let p else { continue }
            current[axis] = shape[axis]
            y = Backends.current.gatherBackward(y, axis: axis, indices: p, inputShape: current)
        }
        return y
    }
}

/// Slice: along each named axis, the indices start, start + step, … before end (ONNX's
/// clamping: negative bounds count from the end, bounds beyond the axis are clamped, a negative
/// step walks backwards). Before operator set 10 starts, ends and axes are attributes.
struct SliceOperator: BlockSelectingOperator {
    /// Operator sets before 10: (starts, ends, axes) from attributes.
    var attributes: (starts: [Int], ends: [Int], axes: [Int]?)? = nil

    func picks<S>(_ inputs: NodeInputs<S>, _ shape: [Int]) throws -> BlockSelection.Picks {
        let starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
        if let attributes {
            (starts, ends, axes, steps) = (attributes.starts, attributes.ends, attributes.axes, nil)
        } else {
            starts = try inputs.integers(1).ints
            ends = try inputs.integers(2).ints
            axes = inputs.has(3) ? try inputs.integers(3).ints : nil
            steps = inputs.has(4) ? try inputs.integers(4).ints : nil
        }
        let named = try (axes ?? Array(0..<starts.count)).map { try normalizedAxis($0, rank: shape.count) }
        guard ends.count == starts.count, named.count == starts.count, steps.map({ $0.count == starts.count }) ?? true,
              Set(named).count == named.count else {
            throw OperatorFailure("starts \(starts), ends \(ends), axes \(axes ?? []), steps \(steps ?? []) do not describe a slice of \(shape)")
        }
        var result = BlockSelection.Picks(repeating: nil, count: shape.count)
        for (k, axis) in named.enumerated() {
            let d = shape[axis], step = steps?[k] ?? 1
            guard step != 0 else { throw OperatorFailure("a step of 0") }
            var start = starts[k], end = ends[k]
            if start < 0 { start += d }
            if end < 0 { end += d }
            var kept: [Int] = []
            if step > 0 {
                start = min(max(start, 0), d); end = min(max(end, 0), d)
                kept = Array(stride(from: start, to: end, by: step))
            } else {
                start = min(max(start, 0), d - 1); end = min(max(end, -1), d - 1)
                kept = Array(stride(from: start, to: end, by: step))
            }
            if kept != Array(0..<d) { result[axis] = kept }
        }
        return result
    }
}

/// One part of a Split along `axis`: the sizes come from input 1 (operator set 13 on), the
/// `split` attribute (before), or equal parts over the node's outputs (`num_outputs` from set 18:
/// the last part may be smaller). The graph runs a Split as one such node per output.
struct SplitPartOperator: BlockSelectingOperator {
    var axis: Int
    var part: Int
    var parts: Int
    var sizesAttribute: [Int]?

    /// The operators of every output of a Split node.
    static func parts(_ node: Onnx_NodeProto, opset: Int64) throws -> [SplitPartOperator] {
        let a = NodeAttributes(node.attribute)
        let count = node.output.count
        guard count >= 1 else { throw OperatorFailure("Split has no outputs") }
        if let n = try a.int("num_outputs"), n != count { throw OperatorFailure("num_outputs \(n) for \(count) outputs") }
        let sizes = opset < 13 ? try a.ints("split") : nil
        let axis = try a.int("axis", default: 0)
        return (0..<count).map { SplitPartOperator(axis: axis, part: $0, parts: count, sizesAttribute: sizes) }
    }

    func picks<S>(_ inputs: NodeInputs<S>, _ shape: [Int]) throws -> BlockSelection.Picks {
        let a = try normalizedAxis(axis, rank: shape.count)
        let d = shape[a]
        let sizes: [Int]
        if let given = try sizesAttribute ?? (inputs.has(1) ? inputs.integers(1).ints : nil) {
            sizes = given
        } else {
            let each = (d + parts - 1) / parts
            sizes = (0..<parts).map { max(0, min(each, d - $0 * each)) }
        }
        guard sizes.count == parts, sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == d else {
            throw OperatorFailure("parts of sizes \(sizes) do not split an axis of \(d) into \(parts)")
        }
        let start = sizes[..<part].reduce(0, +)
        var result = BlockSelection.Picks(repeating: nil, count: shape.count)
        result[a] = Array(start..<(start + sizes[part]))
        return result
    }
}

/// An operator whose output is a block of its first input, the indices kept along each axis
/// (`picks`) read from its attributes and other inputs: Slice and each output of Split. Its value
/// and tangent are that block, its gradient the block put back in place with zeros elsewhere.
protocol BlockSelectingOperator: GraphOperator {
    func picks<S>(_ inputs: NodeInputs<S>, _ shape: [Int]) throws -> BlockSelection.Picks
}

extension BlockSelectingOperator {
    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        guard inputs.has(0), let value = inputs.values[0] else { throw OperatorFailure("input 0 is missing") }
        return try BlockSelection.apply(value, tangent: inputs.tangent(0), try picks(inputs, value.shape))
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        guard case .real = r.output.value, let p = try? picks(r.inputs, r.x(0).shape) else { return [] }
        let shape = r.x(0).shape
        return [InputGradient(BlockSelection.uncut(g, p, inputShape: shape), gDot.map { BlockSelection.uncut($0, p, inputShape: shape) })]
    }
}
