import TerrainTensor

/// Flatten, Reshape, Unsqueeze and Squeeze: the same elements seen with another shape, on real
/// tensors and on integers alike. Backward passes give g (and ġ) the input's shape back.
struct ReshapeOperator: GraphOperator {
    enum Kind: Sendable {
        /// [d₀…d_{a−1}, d_a…] → [Π d_{<a}, Π d_{≥a}].
        case flatten(axis: Int)
        /// To the shape in input 1: 0 copies the input's dimension (unless allowzero), −1 is inferred.
        case reshape(allowZero: Bool)
        /// Inserts axes of size 1 (from the attribute, or from input 1 from operator set 13 on).
        case unsqueeze(axes: [Int]?)
        /// Removes axes of size 1 (all of them when none are named).
        case squeeze(axes: [Int]?)
    }
    var kind: Kind

    private func target<S>(_ inputs: NodeInputs<S>, _ shape: [Int]) throws -> [Int] {
        switch kind {
        case .flatten(let axis):
            let a = try normalizedAxis(axis, rank: shape.count, allowingEnd: true)
            return [shape[..<a].reduce(1, *), shape[a...].reduce(1, *)]
        case .reshape(let allowZero):
            let requested = try inputs.integers(1)
            guard requested.shape.count == 1 else { throw OperatorFailure("the target shape must be a 1-D tensor, got \(requested.shape)") }
            var result = requested.ints
            guard result.filter({ $0 == -1 }).count <= 1, result.allSatisfy({ $0 >= -1 }) else {
                throw OperatorFailure("invalid target shape \(result)")
            }
            for (i, d) in result.enumerated() where d == 0 && !allowZero {
                guard i < shape.count else { throw OperatorFailure("target \(result) copies dimension \(i) of \(shape), which has none") }
                result[i] = shape[i]
            }
            let count = try elementCount(shape)
            if let inferred = result.firstIndex(of: -1) {
                let known = try elementCount(result.enumerated().filter { $0.offset != inferred }.map(\.element))
                guard known > 0, count % known == 0 else { throw OperatorFailure("cannot reshape \(shape) to \(requested.ints)") }
                result[inferred] = count / known
            }
            guard try elementCount(result) == count else {
                throw OperatorFailure("cannot reshape \(shape) to \(requested.ints) (\(count) elements); a model exported with a fixed batch size "
                                      + "runs only with that batch size: export it with dynamic_axes for the batch")
            }
            return result
        case .unsqueeze(let attribute):
            let axes = try attribute ?? inputs.integers(1).ints
            let rank = shape.count + axes.count
            let normalized = try Set(axes.map { try normalizedAxis($0, rank: rank) })
            guard normalized.count == axes.count else { throw OperatorFailure("repeated axes \(axes)") }
            var result: [Int] = []
            var source = shape.makeIterator()
            for k in 0..<rank { result.append(normalized.contains(k) ? 1 : source.next() ?? 1) }
            return result
        case .squeeze(let attribute):
            let axes = try attribute ?? (inputs.has(1) ? inputs.integers(1).ints : nil)
            guard let axes else { return shape.filter { $0 != 1 } }
            let normalized = try Set(axes.map { try normalizedAxis($0, rank: shape.count) })
            for a in normalized where shape[a] != 1 { throw OperatorFailure("cannot squeeze axis \(a) of size \(shape[a])") }
            return shape.enumerated().filter { !normalized.contains($0.offset) }.map(\.element)
        }
    }

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        guard inputs.has(0), let value = inputs.values[0] else { throw OperatorFailure("input 0 is missing") }
        let shape = try target(inputs, value.shape)
        switch value {
        case .real(let x):
            return .real(x.reshaped(shape), tangent: inputs.tangent(0)?.reshaped(shape))
        case .integers(let x):
            return NodeOutput(.integers(IntegerTensor(shape: shape, values: x.values)))
        }
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        guard case .real = r.output.value else { return [] }
        let shape = r.x(0).shape
        return [InputGradient(g.reshaped(shape), gDot?.reshaped(shape))]
    }
}

/// Transpose: axis k of the output is axis perm[k] of the input (reversed axes by default), of
/// real tensors or of integers (PyTorch's opset-11 Pad computes its pads by transposing a [2, rank]
/// table). Backward: the inverse permutation.
struct TransposeOperator: GraphOperator {
    var permutation: [Int]?

    private func perm(_ rank: Int) throws -> [Int] {
        let p = permutation ?? Array((0..<rank).reversed())
        guard p.count == rank, Set(p) == Set(0..<rank) else { throw OperatorFailure("perm \(p) is not a permutation of \(rank) axes") }
        return p
    }

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        if case .integers(let t)? = inputs.has(0) ? inputs.values[0] : nil {
            let p = try perm(t.shape.count)
            let shape = p.map { t.shape[$0] }
            // Small tables: index arithmetic element by element.
            var strides = [Int](repeating: 1, count: t.shape.count)
            for k in stride(from: t.shape.count - 2, through: 0, by: -1) { strides[k] = strides[k + 1] * t.shape[k + 1] }
            var values: [Int64] = []
            values.reserveCapacity(t.values.count)
            var index = [Int](repeating: 0, count: shape.count)
            for _ in 0..<t.values.count {
                values.append(t.values[zip(index, p).reduce(0) { $0 + $1.0 * strides[$1.1] }])
                for k in stride(from: shape.count - 1, through: 0, by: -1) {
                    index[k] += 1
                    if index[k] < shape[k] { break }
                    index[k] = 0
                }
            }
            return NodeOutput(.integers(IntegerTensor(shape: shape, values: values)))
        }
        let x = try inputs.real(0)
        let p = try perm(x.rank)
        let backend = Backends.current
        return .real(backend.transpose(x, permutation: p), tangent: inputs.tangent(0).map { backend.transpose($0, permutation: p) })
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        guard case .real = r.output.value, let p = try? perm(r.x(0).rank) else { return [nil] }
        var inverse = [Int](repeating: 0, count: p.count)
        for (k, a) in p.enumerated() { inverse[a] = k }
        let backend = Backends.current
        return [InputGradient(backend.transpose(g, permutation: inverse), gDot.map { backend.transpose($0, permutation: inverse) })]
    }
}

/// Concat along an axis, of real tensors (tangents concatenated, zero where an input has none)
/// or of integers (shape vectors). Backward splits g at the inputs' sizes.
struct ConcatOperator: GraphOperator {
    var axis: Int

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        let values = inputs.values.compactMap { $0 }
        guard !values.isEmpty else { throw OperatorFailure("needs at least one input") }
        let rank = values[0].shape.count
        let a = try normalizedAxis(axis, rank: rank)
        for v in values {
            var s = v.shape, t = values[0].shape
            guard s.count == rank else { throw OperatorFailure("inputs of ranks \(values.map(\.shape.count)) cannot be joined") }
            s[a] = 0; t[a] = 0
            guard s == t else { throw OperatorFailure("shapes \(values.map(\.shape)) differ outside axis \(a)") }
        }
        var shape = values[0].shape
        shape[a] = values.reduce(0) { $0 + $1.shape[a] }
        _ = try elementCount(shape)
        if values.allSatisfy({ if case .integers = $0 { true } else { false } }) {
            let parts = values.map { if case .integers(let t) = $0 { t } else { IntegerTensor([]) } }
            let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
            var result: [Int64] = []
            for o in 0..<outer {
                for p in parts {
                    let block = p.shape[a] * inner
                    result += p.values[(o * block)..<((o + 1) * block)]
                }
            }
            return NodeOutput(.integers(IntegerTensor(shape: shape, values: result)))
        }
        let reals = try (0..<inputs.count).filter { inputs.has($0) }.map { try inputs.real($0) }
        let backend = Backends.current
        let y = backend.concatenate(reals, axis: a)
        let indices = (0..<inputs.count).filter { inputs.has($0) }
        var yDot: Tensor<S>?
        if indices.contains(where: { inputs.tangent($0) != nil }) {
            yDot = backend.concatenate(zip(indices, reals).map { inputs.tangent($0) ?? Tensor(zeros: $1.shape) }, axis: a)
        }
        return .real(y, tangent: yDot)
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        guard case .real = r.output.value, let a = try? normalizedAxis(axis, rank: g.rank) else { return [] }
        let indices = (0..<r.inputs.count).filter { r.inputs.has($0) }
        let sizes = indices.map { r.x($0).shape[a] }
        let backend = Backends.current
        let parts = backend.split(g, axis: a, sizes: sizes), dotParts = gDot.map { backend.split($0, axis: a, sizes: sizes) }
        var result = [InputGradient<S>?](repeating: nil, count: r.inputs.count)
        for (k, i) in indices.enumerated() { result[i] = InputGradient(parts[k], dotParts?[k]) }
        return result
    }
}

/// Shape: the input's dimensions as integers (start and end select a range, operator set 15).
struct ShapeOperator: GraphOperator {
    var start: Int?
    var end: Int?

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        guard inputs.has(0), let value = inputs.values[0] else { throw OperatorFailure("input 0 is missing") }
        let shape = value.shape, rank = shape.count
        func clamp(_ i: Int) -> Int { min(max(i < 0 ? i + rank : i, 0), rank) }
        let lo = clamp(start ?? 0), hi = clamp(end ?? rank)
        return NodeOutput(.integers(IntegerTensor(shape[lo..<max(lo, hi)].map { Int64($0) })))
    }
}

/// Constant: a value stored in the node (real numbers, or integers such as a target shape).
struct ConstantOperator: GraphOperator {
    var value: DecodedTensor

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        switch value {
        case .reals(let shape, let values): .real(Tensor(shape: shape, scalars: values.map { S($0) }))
        case .integers(let t): NodeOutput(.integers(t))
        }
    }
}
