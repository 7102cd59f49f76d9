import TerrainTensor

/// A tensor of integers a graph computes on the side: shapes, axes and indices (the outputs of
/// Shape, Gather, Unsqueeze and Concat chains that exporters emit to compute a Reshape target).
/// They never carry gradients; they are evaluated on each run, so they follow the batch size.
struct IntegerTensor: Equatable, Sendable {
    var shape: [Int]
    var values: [Int64]

    init(shape: [Int], values: [Int64]) {
        self.shape = shape
        self.values = values
    }

    /// A 1-D tensor.
    init(_ values: [Int64]) { self.init(shape: [values.count], values: values) }

    /// The values as Ints (shapes, axes).
    var ints: [Int] { values.map { Int($0) } }
}

/// A value flowing along a graph edge: a real tensor (which may carry a gradient) or integers.
enum GraphValue<Scalar: TensorScalar> {
    case real(Tensor<Scalar>)
    case integers(IntegerTensor)

    var shape: [Int] {
        switch self {
        case .real(let t): t.shape
        case .integers(let t): t.shape
        }
    }
}

/// Reading a node's inputs by position, with failures that say what was expected.
struct NodeInputs<Scalar: TensorScalar> {
    var values: [GraphValue<Scalar>?]
    var tangents: [Tensor<Scalar>?]

    var count: Int { values.count }

    func has(_ i: Int) -> Bool { i < values.count && values[i] != nil }

    func real(_ i: Int) throws -> Tensor<Scalar> {
        guard i < values.count, let value = values[i] else { throw OperatorFailure("input \(i) is missing") }
        guard case .real(let t) = value else { throw OperatorFailure("input \(i) holds integers where real numbers are expected") }
        return t
    }

    func integers(_ i: Int) throws -> IntegerTensor {
        guard i < values.count, let value = values[i] else { throw OperatorFailure("input \(i) is missing") }
        guard case .integers(let t) = value else {
            throw OperatorFailure("input \(i) holds real numbers where integers (a shape, axes or indices) are expected")
        }
        return t
    }

    func tangent(_ i: Int) -> Tensor<Scalar>? { i < tangents.count ? tangents[i] : nil }

    /// Indices: integers, or real numbers that are whole (token ids, which Terrain's data sets
    /// hold as floats where the exported graph declared an int64 input).
    func indices(_ i: Int) throws -> IntegerTensor {
        guard i < values.count, let value = values[i] else { throw OperatorFailure("input \(i) is missing") }
        switch value {
        case .integers(let t): return t
        case .real(let t):
            var whole: [Int64] = []
            whole.reserveCapacity(t.count)
            for k in 0..<t.count {
                let v = Double(t[flat: k])
                guard v == v.rounded(), abs(v) < 0x1p53 else { throw OperatorFailure("index \(v) (input \(i)) is not a whole number") }
                whole.append(Int64(v))
            }
            return IntegerTensor(shape: t.shape, values: whole)
        }
    }

    /// A scalar (one element) as a number, integer or real; throws if it carries a tangent,
    /// since the operators that read one (Pow's exponent, Range's bounds) treat it as a constant.
    func constantScalar(_ i: Int) throws -> Double {
        guard i < values.count, let value = values[i] else { throw OperatorFailure("input \(i) is missing") }
        guard tangent(i) == nil else { throw OperatorFailure("input \(i) depends on the parameters; Terrain needs a constant there") }
        switch value {
        case .integers(let t):
            guard t.values.count == 1 else { throw OperatorFailure("input \(i) should hold one number, it has shape \(t.shape)") }
            return Double(t.values[0])
        case .real(let t):
            guard t.count == 1 else { throw OperatorFailure("input \(i) should hold one number, it has shape \(t.shape)") }
            return Double(t[flat: 0])
        }
    }
}

/// For each element of a tensor of `shape`, the flat index of the element of a tensor of
/// `source` shape that NumPy broadcasting places there (source aligned at the last axis): the
/// offsets of `forEachStridedOffset` with the source's row-major strides, 0 along its axes of size 1.
func broadcastSourceIndices(_ shape: [Int], from source: [Int]) -> [Int] {
    var strides = [Int](repeating: 0, count: shape.count)
    var step = 1
    for k in stride(from: source.count - 1, through: 0, by: -1) {
        let j = k + shape.count - source.count
        strides[j] = source[k] == 1 ? 0 : step
        step *= source[k]
    }
    var result = [Int](repeating: 0, count: shape.reduce(1, *))
    forEachStridedOffset(shape: shape, strides: strides) { flat, offset in result[flat] = offset }
    return result
}

extension IntegerTensor {
    /// The values repeated to `shape` by broadcasting.
    func broadcast(to shape: [Int]) -> IntegerTensor {
        shape == self.shape ? self : IntegerTensor(shape: shape, values: broadcastSourceIndices(shape, from: self.shape).map { values[$0] })
    }
}

/// One node's result: the output value and its tangent (nil: zero).
struct NodeOutput<Scalar: TensorScalar> {
    var value: GraphValue<Scalar>
    var tangent: Tensor<Scalar>?
    /// Max pooling's arg-max, kept for the backward pass.
    var argmax: [Int32] = []

    init(_ value: GraphValue<Scalar>, tangent: Tensor<Scalar>? = nil, argmax: [Int32] = []) {
        self.value = value; self.tangent = tangent; self.argmax = argmax
    }

    static func real(_ t: Tensor<Scalar>, tangent: Tensor<Scalar>? = nil) -> NodeOutput { NodeOutput(.real(t), tangent: tangent) }
}

/// What a forward pass keeps of one node for the backward pass.
struct NodeRecord<Scalar: TensorScalar> {
    var inputs: NodeInputs<Scalar>
    var output: NodeOutput<Scalar>

    /// The output as a real tensor (backward passes only run for real outputs).
    var y: Tensor<Scalar> {
        guard case .real(let t) = output.value else { preconditionFailure("a backward pass through an integer output") }
        return t
    }
    var yDot: Tensor<Scalar>? { output.tangent }

    /// A real input that the forward pass checked.
    func x(_ i: Int) -> Tensor<Scalar> {
        guard case .real(let t)? = inputs.values[i] else { preconditionFailure("input \(i) is not real") }
        return t
    }
    func xDot(_ i: Int) -> Tensor<Scalar>? { inputs.tangent(i) }
}

/// An input's share of the backward pass: ∂L/∂x and its tangent R{∂L/∂x} (nil: zero).
struct InputGradient<Scalar: TensorScalar> {
    var gradient: Tensor<Scalar>
    var tangent: Tensor<Scalar>?
    init(_ gradient: Tensor<Scalar>, _ tangent: Tensor<Scalar>?) { self.gradient = gradient; self.tangent = tangent }
}
