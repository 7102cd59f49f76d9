import TerrainTensor

/// Gather along an axis: output[…, i, …] = data[…, indices[i], …] (indices of any shape take the
/// axis's place; negative ones count from the end).
///
/// On integers it picks dimensions out of a shape. On real data it is a lookup, as in a token
/// embedding (`Gather(wte.weight, input_ids)`) or picking q, k and v out of a stacked projection;
/// the indices may be integers or whole real numbers (Terrain's token ids are floats where the
/// graph declares int64). Linear in the data: ẏ = gather(ẋ); ∂data = scatter-add of g (rows picked
/// twice add up); R{∂data} the same of ġ. The indices get no gradient.
struct GatherOperator: GraphOperator {
    var axis: Int

    /// The axis and the indices made non-negative, checked against the axis's size.
    private func positions(_ dataShape: [Int], _ indices: IntegerTensor) throws -> (axis: Int, flat: [Int]) {
        let a = try normalizedAxis(axis, rank: dataShape.count)
        let n = dataShape[a]
        let flat = try indices.values.map { raw -> Int in
            guard raw >= -Int64(n), raw < Int64(n) else { throw OperatorFailure("index \(raw) is out of range for a dimension of \(n)") }
            return Int(raw < 0 ? raw + Int64(n) : raw)
        }
        return (a, flat)
    }

    private func outputShape(_ dataShape: [Int], _ a: Int, _ indices: IntegerTensor) -> [Int] {
        Array(dataShape[..<a]) + indices.shape + Array(dataShape[(a + 1)...])
    }

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        guard inputs.has(0), let data = inputs.values[0] else { throw OperatorFailure("input 0 is missing") }
        let indices = try inputs.indices(1)
        let (a, flat) = try positions(data.shape, indices)
        let shape = outputShape(data.shape, a, indices)
        _ = try elementCount(shape)
        switch data {
        case .integers(let t):
            let outer = t.shape[..<a].reduce(1, *), inner = t.shape[(a + 1)...].reduce(1, *), n = t.shape[a]
            var values: [Int64] = []
            values.reserveCapacity(outer * flat.count * inner)
            for o in 0..<outer { for i in flat { values += t.values[((o * n + i) * inner)..<((o * n + i + 1) * inner)] } }
            return NodeOutput(.integers(IntegerTensor(shape: shape, values: values)))
        case .real(let x):
            let backend = Backends.current
            return .real(backend.gather(x, axis: a, indices: flat).reshaped(shape),
                         tangent: inputs.tangent(0).map { backend.gather($0, axis: a, indices: flat).reshaped(shape) })
        }
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        guard case .real = r.output.value, let indices = try? r.inputs.indices(1) else { return [] }
        let x = r.x(0)
        guard let (a, flat) = try? positions(x.shape, indices) else { return [] }
        var picked = x.shape
        picked[a] = flat.count
        let backend = Backends.current
        func back(_ t: Tensor<S>) -> Tensor<S> { backend.gatherBackward(t.reshaped(picked), axis: a, indices: flat, inputShape: x.shape) }
        return [InputGradient(back(g), gDot.map(back)), nil]
    }
}
