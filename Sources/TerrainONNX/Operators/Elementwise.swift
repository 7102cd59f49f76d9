import TerrainTensor

/// Add, Sub, Mul, Div with NumPy broadcasting; on integers too (shape arithmetic).
///
/// Tangents: (a ± b)˙ = ȧ ± ḃ; (ab)˙ = ȧb + aḃ; (a/b)˙ = (ȧ − yḃ)/b. Backward passes sum each
/// gradient back to its operand's shape (`Backend.sum(_:toShape:)`): ∂a = g, ±g; g·b; g/b and
/// ∂b = −g·y/b; their tangents differentiate those products once more
/// (R{∂a} of Mul = ġb + gḃ; of Div R{∂a} = (ġ − g·ḃ/b)/b, R{∂b} = −(ġy + gẏ − g·y·ḃ/b)/b).
struct BinaryOperator: GraphOperator {
    var operation: BinaryOperation

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        guard inputs.has(0), inputs.has(1) else { throw OperatorFailure("needs two inputs") }
        if case .integers(let a)? = inputs.values[0], case .integers(let b)? = inputs.values[1] {
            return NodeOutput(.integers(try integerResult(a, b)))
        }
        let a = try inputs.real(0), b = try inputs.real(1)
        guard let shape = BroadcastShape.of(a.shape, b.shape) else {
            throw OperatorFailure("shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        _ = try elementCount(shape)
        let backend = Backends.current
        let y = backend.broadcast(operation, a, b)
        let aDot = inputs.tangent(0), bDot = inputs.tangent(1)
        var yDot: Tensor<S>?
        switch operation {
        case .add:
            yDot = sumOf(aDot.map { expanded($0, to: shape) }, bDot.map { expanded($0, to: shape) })
        case .subtract:
            yDot = sumOf(aDot.map { expanded($0, to: shape) }, bDot.map { expanded(negated($0), to: shape) })
        case .multiply:
            yDot = sumOf(aDot.map { backend.broadcast(.multiply, $0, b) }, bDot.map { backend.broadcast(.multiply, a, $0) })
        case .divide:
            if aDot != nil || bDot != nil {
                var numerator = aDot.map { expanded($0, to: shape) } ?? Tensor(zeros: shape)
                if let bDot { numerator = backend.broadcast(.subtract, numerator, backend.broadcast(.multiply, y, bDot)) }
                yDot = backend.broadcast(.divide, numerator, b)
            }
        }
        return .real(y, tangent: yDot)
    }

    private func integerResult(_ a: IntegerTensor, _ b: IntegerTensor) throws -> IntegerTensor {
        guard let shape = BroadcastShape.of(a.shape, b.shape) else {
            throw OperatorFailure("integer shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        let count = try elementCount(shape)
        guard count <= 1 << 16 else { throw OperatorFailure("integer tensors of \(count) elements are not shape arithmetic") }
        // Small tensors: index arithmetic element by element.
        func index(_ flat: Int, in t: IntegerTensor) -> Int {
            var rest = flat, offset = 0, step = 1
            for k in stride(from: shape.count - 1, through: 0, by: -1) {
                let i = rest % shape[k]
                rest /= shape[k]
                let j = k - (shape.count - t.shape.count)
                if j >= 0 {
                    if t.shape[j] != 1 { offset += i * step }
                    step *= t.shape[j]
                }
            }
            return offset
        }
        var values: [Int64] = []
        for i in 0..<count {
            let x = a.values[index(i, in: a)], y = b.values[index(i, in: b)]
            switch operation {
            case .add: values.append(x &+ y)
            case .subtract: values.append(x &- y)
            case .multiply: values.append(x &* y)
            case .divide:
                let (q, overflow) = x.dividedReportingOverflow(by: y)
                guard y != 0, !overflow else { throw OperatorFailure("integer division \(x) / \(y) has no result") }
                values.append(q)
            }
        }
        return IntegerTensor(shape: shape, values: values)
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        guard case .real = r.output.value else { return [] }
        let backend = Backends.current
        let a = r.x(0), b = r.x(1), aDot = r.xDot(0), bDot = r.xDot(1)
        func back(_ t: Tensor<S>, _ shape: [Int]) -> Tensor<S> { backend.sum(t, toShape: shape) }
        switch operation {
        case .add:
            return [InputGradient(back(g, a.shape), gDot.map { back($0, a.shape) }),
                    InputGradient(back(g, b.shape), gDot.map { back($0, b.shape) })]
        case .subtract:
            return [InputGradient(back(g, a.shape), gDot.map { back($0, a.shape) }),
                    InputGradient(negated(back(g, b.shape)), gDot.map { negated(back($0, b.shape)) })]
        case .multiply:
            let ga = back(backend.broadcast(.multiply, g, b), a.shape)
            let gaDot = sumOf(gDot.map { backend.broadcast(.multiply, $0, b) }, bDot.map { backend.broadcast(.multiply, g, $0) })
            let gb = back(backend.broadcast(.multiply, g, a), b.shape)
            let gbDot = sumOf(gDot.map { backend.broadcast(.multiply, $0, a) }, aDot.map { backend.broadcast(.multiply, g, $0) })
            return [InputGradient(ga, gaDot.map { back($0, a.shape) }), InputGradient(gb, gbDot.map { back($0, b.shape) })]
        case .divide:
            let y = r.y
            let ga = back(backend.broadcast(.divide, g, b), a.shape)
            // ∂b = −g·y/b
            let gyOverB = backend.broadcast(.divide, backend.multiply(g, y), b)
            let gb = back(negated(gyOverB), b.shape)
            var gaDot: Tensor<S>?
            var gbDot: Tensor<S>?
            // R{∂a} = ġ/b − g·ḃ/b²
            gaDot = sumOf(gDot.map { backend.broadcast(.divide, $0, b) },
                          bDot.map { negated(backend.broadcast(.divide, backend.broadcast(.multiply, g, $0), backend.broadcast(.multiply, b, b))) })
            // R{∂b} = −ġ·y/b − g·ẏ/b + g·y·ḃ/b²
            gbDot = sumOf(gDot.map { negated(backend.broadcast(.divide, backend.multiply($0, y), b)) },
                          r.yDot.map { negated(backend.broadcast(.divide, backend.multiply(g, $0), b)) })
            if let bDot {
                gbDot = sumOf(gbDot, backend.broadcast(.divide, backend.broadcast(.multiply, gyOverB, bDot), b))
            }
            return [InputGradient(ga, gaDot.map { back($0, a.shape) }), InputGradient(gb, gbDot.map { back($0, b.shape) })]
        }
    }
}

/// Relu, LeakyRelu, Sigmoid, Tanh, Erf, Gelu (exact or tanh), HardSigmoid, HardSwish, Softplus: y = f(x) through
/// the back end's activations.
/// ẏ = f′(x)·ẋ; ∂x = f′(x)·g, R{∂x} = f′(x)·ġ + f″(x)·ẋ·g.
struct ActivationOperator: GraphOperator {
    var kind: Activation

    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        let x = try inputs.real(0)
        let backend = Backends.current
        let y = backend.activation(kind, x)
        return .real(y, tangent: inputs.tangent(0).map { backend.activationBackward(kind, input: x, output: y, gradient: $0) })
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        let backend = Backends.current
        let x = r.x(0), y = r.y
        let gx = backend.activationBackward(kind, input: x, output: y, gradient: g)
        var gxDot = gDot.map { backend.activationBackward(kind, input: x, output: y, gradient: $0) }
        if let xDot = r.xDot(0) {
            switch kind {
            case .relu, .leakyRelu, .clip, .hardSigmoid: break   // f″ = 0
            default: gxDot = sumOf(gxDot, backend.activationSecondDerivative(kind, input: x, output: y, times: backend.multiply(xDot, g)))
            }
        }
        return [InputGradient(gx, gxDot)]
    }
}

/// Identity and Dropout in evaluation: the value passes through.
struct IdentityOperator: GraphOperator {
    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S> {
        guard inputs.has(0), let value = inputs.values[0] else { throw OperatorFailure("input 0 is missing") }
        return NodeOutput(value, tangent: inputs.tangent(0))
    }

    func pullback<S: TensorScalar>(_ r: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] {
        guard case .real = r.output.value else { return [] }
        return [InputGradient(g, gDot)]
    }
}
