import TerrainTensor

/// A network piece with an explicit forward and backward pass.
///
/// `forward` maps an input batch to an output batch and remembers what `backward` needs;
/// `backward` takes dLoss/dOutput, adds dLoss/dParameter to each parameter's `gradient`, and
/// returns dLoss/dInput. Calls pair up last-in first-out: a container calls its children's
/// backward passes in reverse order of their forward passes.
///
/// Modules form a tree; a parameter's full name joins the path of child names with dots
/// (`layer1.0.conv1.weight`), as PyTorch's `state_dict` does.
open class Module<Scalar: TensorScalar> {
    /// Training mode: batch statistics in batch normalization, active dropout.
    public private(set) var isTraining = true
    /// Whether forward passes keep what backward passes need. Evaluation-only work (a loss
    /// surface) turns this off to save memory.
    public private(set) var isRecording = true
    /// Whether backward passes add ∂L/∂p to the parameters' `gradient`s. A Hessian-vector product
    /// that needs only R{∂L/∂p} turns this off: the large layers then skip their weight-gradient
    /// products in the ordinary backward pass (a ninth of a convolution's HVP work).
    public private(set) var computesParameterGradients = true

    public init() {}

    /// Named sub-modules in forward order.
    open var children: [(name: String, module: Module<Scalar>)] { [] }

    /// This module's own parameters and buffers (not its children's), in declaration order.
    open var localParameters: [Parameter<Scalar>] { [] }

    open func forward(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        fatalError("\(type(of: self)) does not implement forward")
    }

    open func backward(_ gradient: Tensor<Scalar>) -> Tensor<Scalar> {
        fatalError("\(type(of: self)) does not implement backward")
    }

    /// The forward pass and its directional derivative (Pearlmutter's R-operator): given x and
    /// ẋ = R{x}, returns y and ẏ = R{y} = ∂y/∂x·ẋ + Σ_p ∂y/∂p·ṗ along the parameters' `tangent`s
    /// (nil tangents are zero; a nil ẏ means zero). It records what `backwardTangent` needs, so
    /// recording must be on. Every layer of Terrain overrides it; the default traps.
    open func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        fatalError("\(type(of: self)) does not support Hessian-vector products (no forwardTangent)")
    }

    /// The backward pass and its directional derivative: given g = ∂L/∂y and ġ = R{∂L/∂y},
    /// accumulates ∂L/∂p into each parameter's `gradient` and R{∂L/∂p} (its slice of H·v) into
    /// its `curvature`, and returns ∂L/∂x and R{∂L/∂x}. Pairs with the last `forwardTangent`.
    open func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        fatalError("\(type(of: self)) does not support Hessian-vector products (no backwardTangent)")
    }

    /// Traps unless recording is on: tangent passes keep what their backward passes need.
    func requireRecordingForTangents() {
        precondition(isRecording, "\(type(of: self)).forwardTangent needs recording on (setRecording(true))")
    }

    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> { forward(input) }

    /// Switches this module and all below it to training (true) or evaluation (false) mode.
    public func setTraining(_ training: Bool) {
        isTraining = training
        for child in children { child.module.setTraining(training) }
    }

    /// Switches recording of backward-pass state on or off for the whole tree.
    public func setRecording(_ recording: Bool) {
        isRecording = recording
        if !recording { forgetRecordedState() }
        for child in children { child.module.setRecording(recording) }
    }

    /// Switches the accumulation of parameter gradients on or off for the whole tree.
    public func setParameterGradients(_ on: Bool) {
        computesParameterGradients = on
        for child in children { child.module.setParameterGradients(on) }
    }

    /// Drops tensors kept for the backward pass. Subclasses that keep state override this.
    open func forgetRecordedState() {}

    /// Every parameter and buffer with its full dotted name, in module order.
    public func namedParameters(prefix: String = "") -> [(name: String, parameter: Parameter<Scalar>)] {
        var result = localParameters.map { (prefix + $0.name, $0) }
        for child in children {
            result += child.module.namedParameters(prefix: prefix + child.name + ".")
        }
        return result
    }

    /// Trainable parameters in module order.
    public var trainableParameters: [Parameter<Scalar>] {
        namedParameters().map(\.parameter).filter(\.isTrainable)
    }

    /// Clears every accumulated gradient and curvature (R{∂L/∂p}).
    public func zeroGradients() {
        for (_, p) in namedParameters() { p.gradient = nil; p.curvature = nil }
    }

    /// Clears every parameter's tangent (the direction of a Hessian-vector product).
    public func clearTangents() {
        for (_, p) in namedParameters() { p.tangent = nil }
    }

    /// Number of trainable scalars.
    public var trainableScalarCount: Int { trainableParameters.reduce(0) { $0 + $1.value.count } }
}

/// a + b where nil stands for zero: tangents that vanish are never materialized.
func addTangents<Scalar: TensorScalar>(_ a: Tensor<Scalar>?, _ b: Tensor<Scalar>?) -> Tensor<Scalar>? {
    guard let a else { return b }
    guard let b else { return a }
    return Backends.current.add(a, b)
}

/// A matrix product op(A)·op(B), of two matrices (`Backend.matmul`) or two stacks of them
/// (`Backend.batchedMatmul`), not computed yet: `sumOfProducts` computes the first of a sum and
/// lets the GEMM add each other into it.
struct MatrixProduct<Scalar: TensorScalar> {
    var a: Tensor<Scalar>, b: Tensor<Scalar>
    var transposeA: Bool, transposeB: Bool
    var stacked: Bool
    /// What a stack of causal attention's matrices lets the product skip.
    var structure: CausalStructure = .general

    static func matrices(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>, transposeA: Bool = false,
                         transposeB: Bool = false) -> Self {
        Self(a: a, b: b, transposeA: transposeA, transposeB: transposeB, stacked: false)
    }

    static func stacks(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>, transposeA: Bool = false,
                       transposeB: Bool = false, structure: CausalStructure = .general) -> Self {
        Self(a: a, b: b, transposeA: transposeA, transposeB: transposeB, stacked: true, structure: structure)
    }

    func computed() -> Tensor<Scalar> {
        let backend = Backends.current
        return stacked ? backend.batchedMatmul(a, b, transposeA: transposeA, transposeB: transposeB, structure: structure)
                       : backend.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
    }

    func add(into c: inout Tensor<Scalar>) {
        let backend = Backends.current
        if stacked {
            backend.batchedMatmul(a, b, transposeA: transposeA, transposeB: transposeB, structure: structure, addingTo: &c)
        } else {
            backend.matmul(a, b, transposeA: transposeA, transposeB: transposeB, addingTo: &c)
        }
    }
}

/// The sum of the products present (a nil one is a zero tangent), nil when none is: the first
/// computed, each other added into it by its own GEMM (β = 1). A tangent's product-rule terms
/// are summed this way without a pass over memory of their own.
func sumOfProducts<Scalar: TensorScalar>(_ terms: MatrixProduct<Scalar>?...) -> Tensor<Scalar>? {
    var sum: Tensor<Scalar>?
    for case let term? in terms {
        if sum == nil { sum = term.computed() } else { term.add(into: &sum!) }
    }
    return sum
}

/// ẏ of a layer bilinear in (x, W) plus a per-feature bias, y = op(x, W) + b, at output shape
/// `outputShape`: ẏ = op(ẋ, W) + op(x, V) + ḃ with V = Ẇ, each term left out where its tangent
/// is nil (zero); nil when all three vanish. `Linear` and `Conv2d` differ only in `op`.
func bilinearTangent<Scalar: TensorScalar>(outputShape: [Int], x: Tensor<Scalar>, xDot: Tensor<Scalar>?,
                                           weight: Parameter<Scalar>, bias: Parameter<Scalar>?,
                                           _ op: (_ x: Tensor<Scalar>, _ w: Tensor<Scalar>) -> Tensor<Scalar>) -> Tensor<Scalar>? {
    addBias(bias, to: addTangents(xDot.map { op($0, weight.value) }, weight.tangent.map { op(x, $0) }), outputShape: outputShape)
}

/// `bilinearTangent` of a layer whose op is a matrix product: ẏ = op(ẋ, W) + op(x, V) + ḃ, the
/// second product added into the first by its GEMM.
func bilinearTangent<Scalar: TensorScalar>(outputShape: [Int], x: Tensor<Scalar>, xDot: Tensor<Scalar>?,
                                           weight: Parameter<Scalar>, bias: Parameter<Scalar>?,
                                           product: (_ x: Tensor<Scalar>, _ w: Tensor<Scalar>) -> MatrixProduct<Scalar>)
    -> Tensor<Scalar>? {
    addBias(bias, to: sumOfProducts(xDot.map { product($0, weight.value) }, weight.tangent.map { product(x, $0) }),
            outputShape: outputShape)
}

/// yDot + ḃ per feature (a zero yDot of `outputShape` where it is nil and ḃ is not).
private func addBias<Scalar: TensorScalar>(_ bias: Parameter<Scalar>?, to yDot: Tensor<Scalar>?,
                                           outputShape: [Int]) -> Tensor<Scalar>? {
    var yDot = yDot
    if let bDot = bias?.tangent {
        if yDot == nil { yDot = Tensor(zeros: outputShape) }
        Backends.current.addFeatureBias(&yDot!, bDot)
    }
    return yDot
}
