import TerrainTensor

/// ConstantOfShape: a tensor of the shape in input 0 filled with the `value` attribute's one
/// element (a float 0 when absent): integers or real numbers, as the value's type says.
struct ConstantOfShapeOperator: GraphOperator {
    var value: DecodedTensor

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        let shape = try inputs.integers(0)
        guard shape.shape.count <= 1, shape.values.allSatisfy({ $0 >= 0 }) else { throw OperatorFailure("invalid shape \(shape.values)") }
        let count = try elementCount(shape.ints)
        switch value {
        case .reals(_, let v): return .real(Tensor(repeating: S(v.first ?? 0), shape: shape.ints))
        case .integers(let t): return NodeOutput(.integers(IntegerTensor(shape: shape.ints, values: Array(repeating: t.values.first ?? 0, count: count))))
        }
    }
}

/// Range(start, limit, delta): start, start + delta, … before limit, ⌈(limit − start)/delta⌉
/// values (none when that is negative); integers when the inputs are, else real constants
/// (positions for a position embedding: `arange(T)`).
struct RangeOperator: GraphOperator {
    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        let start = try inputs.constantScalar(0), limit = try inputs.constantScalar(1), delta = try inputs.constantScalar(2)
        let steps = ((limit - start) / delta).rounded(.up)
        guard delta != 0, [start, limit, delta].allSatisfy({ abs($0) <= 0x1p53 }), steps <= Double(maximumComputedCount) else {
            throw OperatorFailure("range \(start)..<\(limit) by \(delta) is not one Terrain computes")
        }
        let count = steps > 0 ? Int(steps) : 0
        let allIntegers = (0..<3).allSatisfy { if case .integers? = inputs.values[$0] { true } else { false } }
        if allIntegers {
            let s = Int64(start), d = Int64(delta)
            return NodeOutput(.integers(IntegerTensor((0..<count).map { s + Int64($0) * d })))
        }
        return .real(Tensor(shape: [count], scalars: (0..<count).map { S(start + Double($0) * delta) }))
    }
}

/// Mod on integers (shape arithmetic), with NumPy broadcasting: the remainder takes the
/// divisor's sign (fmod = 0, Python's %) or the dividend's (fmod = 1, C's fmod).
struct ModOperator: GraphOperator {
    var truncated: Bool

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        let a = try inputs.integers(0), b = try inputs.integers(1)
        guard let shape = BroadcastShape.of(a.shape, b.shape) else { throw OperatorFailure("shapes \(a.shape) and \(b.shape) do not broadcast") }
        _ = try elementCount(shape)
        let x = a.broadcast(to: shape).values, y = b.broadcast(to: shape).values
        let values = try zip(x, y).map { p, q -> Int64 in
            guard q != 0, !(p == .min && q == -1) else { throw OperatorFailure("\(p) mod \(q) has no result") }
            let r = p % q
            return truncated || r == 0 || (r < 0) == (q < 0) ? r : r + q
        }
        return NodeOutput(.integers(IntegerTensor(shape: shape, values: values)))
    }
}

/// Cast to the element type `to`: to a real type (float, double, half, bfloat16) integers become
/// real constants and real values pass unchanged with their tangent; to an integer or boolean type
/// real values are truncated toward zero (booleans: nonzero is 1) and lose their tangent, since
/// the result is piecewise constant.
struct CastOperator: GraphOperator {
    var toReal: Bool
    var toBoolean: Bool

    init(to: Int) throws {
        switch Onnx_TensorProto.DataType(rawValue: to) {
        case .float?, .double?, .float16?, .bfloat16?: toReal = true; toBoolean = false
        case .bool?: toReal = false; toBoolean = true
        case .int8?, .int16?, .int32?, .int64?, .uint8?, .uint16?, .uint32?, .uint64?: toReal = false; toBoolean = false
        default: throw OperatorFailure("casting to element type \(to) is not supported")
        }
    }

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        guard inputs.has(0), let value = inputs.values[0] else { throw OperatorFailure("input 0 is missing") }
        switch (value, toReal) {
        case (.real, true): return NodeOutput(value, tangent: inputs.tangent(0))
        case (.integers(let t), true): return .real(Tensor(shape: t.shape, scalars: t.values.map { S(Double($0)) }))
        case (.integers(let t), false): return NodeOutput(.integers(toBoolean ? IntegerTensor(shape: t.shape, values: t.values.map { $0 != 0 ? 1 : 0 }) : t))
        case (.real(let x), false):
            let values = try x.scalars.map { v -> Int64 in
                if toBoolean { return v != 0 ? 1 : 0 }
                guard v.isFinite, abs(Double(v)) < 0x1p63 else { throw OperatorFailure("\(v) has no integer value") }
                return Int64(Double(v).rounded(.towardZero))
            }
            return NodeOutput(.integers(IntegerTensor(shape: x.shape, values: values)))
        }
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        guard case .real = r.output.value, case .real? = r.inputs.values[0] else { return [] }
        return [InputGradient(g, gDot)]
    }
}
