import TerrainTensor

/// What one node of an ONNX graph computes, forward and backward, with tangents.
///
/// One implementation serves both the ordinary passes and the R-operator passes of
/// Hessian-vector products: `apply` returns the output and its tangent ẏ (nil when every input
/// tangent is nil, as in a plain forward pass), and `pullback` returns each input's ∂L/∂x and
/// R{∂L/∂x} from ∂L/∂y = g and ġ = R{∂L/∂y} (ġ nil and no tangents recorded: the ordinary
/// backward pass). Operators check their inputs and throw `OperatorFailure` before calling a
/// kernel, so no input can reach a kernel's precondition.
protocol GraphOperator: Sendable {
    func apply<S: TensorScalar>(_ inputs: NodeInputs<S>) throws -> NodeOutput<S>
    /// One entry per input, nil where the input gets no gradient (integers, constants' shapes).
    func pullback<S: TensorScalar>(_ record: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?]
}

extension GraphOperator {
    /// Operators on integers (shape arithmetic) pass no gradient.
    func pullback<S: TensorScalar>(_ record: NodeRecord<S>, _ g: Tensor<S>, _ gDot: Tensor<S>?) -> [InputGradient<S>?] { [] }
}

/// a + b where nil stands for zero: tangents that vanish are never materialized.
func sumOf<S: TensorScalar>(_ a: Tensor<S>?, _ b: Tensor<S>?) -> Tensor<S>? {
    guard let a else { return b }
    guard let b else { return a }
    return Backends.current.add(a, b)
}

/// x with its sign flipped.
func negated<S: TensorScalar>(_ x: Tensor<S>) -> Tensor<S> {
    var y = x
    Backends.current.scale(&y, by: -1)
    return y
}

/// x·alpha (a copy).
func scaled<S: TensorScalar>(_ x: Tensor<S>, _ alpha: Double) -> Tensor<S> {
    var y = x
    if alpha != 1 { Backends.current.scale(&y, by: S(alpha)) }
    return y
}

/// x repeated (broadcast) to `shape`.
func expanded<S: TensorScalar>(_ x: Tensor<S>, to shape: [Int]) -> Tensor<S> {
    x.shape == shape ? x : Backends.current.broadcast(.add, Tensor(zeros: shape), x)
}

/// Normalizes an axis that may count from the end (−1 is the last) for a tensor of `rank`.
func normalizedAxis(_ axis: Int, rank: Int, allowingEnd: Bool = false) throws -> Int {
    let a = axis < 0 ? axis + rank + (allowingEnd ? 1 : 0) : axis
    guard a >= 0, a < rank + (allowingEnd ? 1 : 0) else { throw OperatorFailure("axis \(axis) is out of range for rank \(rank)") }
    return a
}

/// The most elements a computed value may have (2²⁸, 1 GiB of floats): a bound that keeps a
/// corrupted shape from asking for absurd memory, far above what Terrain's models need.
let maximumComputedCount = 1 << 28

/// Product of a shape, refusing overflow and absurd sizes.
func elementCount(_ shape: [Int]) throws -> Int {
    var count = 1
    for d in shape {
        guard d >= 0 else { throw OperatorFailure("negative dimension in shape \(shape)") }
        let (p, overflow) = count.multipliedReportingOverflow(by: d)
        guard !overflow, p <= maximumComputedCount else { throw OperatorFailure("shape \(shape) has too many elements") }
        count = p
    }
    return count
}
