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
