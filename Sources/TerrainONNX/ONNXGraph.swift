import TerrainNN
import TerrainTensor

/// An imported ONNX graph as a Terrain `Module`: nodes run in order on numbered values, and the
/// backward and tangent passes visit them in reverse, adding up each value's gradient over the
/// nodes that read it. The initializers are the parameters, under their ONNX names.
///
/// The graph always runs in inference form (BatchNormalization with its running statistics,
/// Dropout as the identity), whatever `isTraining` says: an imported model is evaluated and
/// differentiated, not trained. Integer values (shapes) are computed on every run, so a Reshape
/// fed by Shape → Gather → Unsqueeze → Concat follows the batch size.
///
/// A batch whose samples have another shape than the declared input but as many elements
/// (flat vectors for an image model, or 8x8 images for a 64-feature MLP) is reshaped to it.
public final class ONNXGraph<Scalar: TensorScalar>: Module<Scalar> {
    public let model: ONNXModel
    /// The parameters and buffers, in the file's initializer order.
    public let parameters: [Parameter<Scalar>]
    private var plan: GraphPlan { model.plan }
    private var records: [NodeRecord<Scalar>?] = []
    private var inputShape: [Int] = []
    /// The constant initializers (integers, and real tensors that are no parameters), converted once.
    private let constants: [(value: Int, content: GraphValue<Scalar>)]

    init(model: ONNXModel) {
        self.model = model
        parameters = model.parameters.map { p in
            Parameter(p.name, role: p.role, value: Tensor(shape: p.shape, scalars: p.values.map { Scalar($0) }))
        }
        constants = model.plan.constants.map { id, tensor in
            switch tensor {
            case .reals(let shape, let values): (id, .real(Tensor(shape: shape, scalars: values.map { Scalar($0) })))
            case .integers(let t): (id, .integers(t))
            }
        }
    }

    override public var localParameters: [Parameter<Scalar>] { parameters }

    /// The output's shape for a batch of one sample of `sampleShape`, found by running the graph
    /// on zeros: throws an `ONNXError` naming the node where the shapes do not fit. Batches of one
    /// and of two samples are run, and each must give as many output rows as samples: a graph
    /// exported with its batch size frozen into a Reshape target is refused here, not half-way
    /// through a surface.
    public func outputShape(sampleShape: [Int]) throws -> [Int] {
        let wasRecording = isRecording
        setRecording(false)
        defer { setRecording(wasRecording) }
        guard let count = try? elementCount([2] + sampleShape), count <= 1 << 26 else {
            throw ONNXError.dataMismatch(file: model.file, detail: "samples of shape \(sampleShape) are too large")
        }
        var shape = sampleShape
        if let declared = model.declaredSampleShape {
            guard 2 * declared.reduce(1, *) == count else {
                throw ONNXError.dataMismatch(file: model.file, detail: "the model's input '\(model.inputName)' takes samples of shape \(declared), "
                                             + "the data's samples have shape \(sampleShape)")
            }
            shape = declared
        }
        var outputs: [[Int]] = []
        for batch in [1, 2] {
            let y = try run(Tensor(zeros: [batch] + shape), nil, recording: false).y.shape
            guard y.first == batch else {
                throw ONNXError.evaluation(file: model.file, node: model.outputName, op: "output",
                                           detail: "a batch of \(batch) gives an output of shape \(y); the output's first axis must be the batch "
                                               + "(was the model exported with a fixed batch size? export it with dynamic_axes for the batch)")
            }
            outputs.append(y)
        }
        return outputs[0]
    }

    /// Runs the graph on x (and its tangent).
    func run(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?, recording: Bool) throws -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        var values = [GraphValue<Scalar>?](repeating: nil, count: plan.valueNames.count)
        var tangents = [Tensor<Scalar>?](repeating: nil, count: plan.valueNames.count)
        var input = x, inputTangent = xDot
        if let declared = model.declaredSampleShape, x.rank >= 1, Array(x.shape.dropFirst()) != declared,
           x.count == x.shape[0] * declared.reduce(1, *) {
            input = x.reshaped([x.shape[0]] + declared)
            inputTangent = xDot?.reshaped(input.shape)
        }
        values[plan.input] = .real(input)
        tangents[plan.input] = inputTangent
        for (p, id) in zip(parameters, plan.parameterValues) {
            values[id] = .real(p.value)
            tangents[id] = p.isTrainable ? p.tangent : nil
        }
        for (id, content) in constants { values[id] = content }
        if recording { records = Array(repeating: nil, count: plan.nodes.count) }
        for (k, node) in plan.nodes.enumerated() {
            let inputs = NodeInputs(values: node.inputs.map { $0.flatMap { values[$0] } },
                                    tangents: node.inputs.map { $0.flatMap { tangents[$0] } })
            let output: NodeOutput<Scalar>
            do { output = try node.op.apply(inputs) } catch let failure as OperatorFailure {
                throw ONNXError.evaluation(file: model.file, node: node.name, op: node.opType, detail: failure.detail)
            }
            values[node.output] = output.value
            tangents[node.output] = output.tangent
            if recording { records[k] = NodeRecord(inputs: inputs, output: output) }
            for id in plan.releaseAfter[k] { values[id] = nil; tangents[id] = nil }
        }
        guard case .real(let y)? = values[plan.output] else {
            throw ONNXError.evaluation(file: model.file, node: model.outputName, op: "output", detail: "the graph's output holds integers, not real numbers")
        }
        inputShape = x.shape
        return (y, tangents[plan.output])
    }

    /// The backward pass: ∂L/∂x and R{∂L/∂x}; parameters accumulate their gradient and curvature.
    private func pull(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        precondition(records.count == plan.nodes.count, "ONNXGraph.backward without a recorded forward pass")
        var gradients = [Tensor<Scalar>?](repeating: nil, count: plan.valueNames.count)
        var gradientTangents = [Tensor<Scalar>?](repeating: nil, count: plan.valueNames.count)
        gradients[plan.output] = g
        gradientTangents[plan.output] = gDot
        for k in plan.nodes.indices.reversed() {
            let node = plan.nodes[k]
            guard let gy = gradients[node.output], let record = records[k] else { continue }
            let pulled = node.op.pullback(record, gy, gradientTangents[node.output])
            for (i, share) in pulled.enumerated() {
                guard let share, i < node.inputs.count, let id = node.inputs[i] else { continue }
                gradients[id] = sumOf(gradients[id], share.gradient)
                gradientTangents[id] = sumOf(gradientTangents[id], share.tangent)
            }
            gradients[node.output] = nil
            gradientTangents[node.output] = nil
        }
        for (p, id) in zip(parameters, plan.parameterValues) where p.isTrainable {
            if let g = gradients[id] { p.accumulateGradient(g) }
            if let c = gradientTangents[id] { p.accumulateCurvature(c) }
        }
        let gx = gradients[plan.input].map { $0.reshaped(inputShape) } ?? Tensor(zeros: inputShape)
        return (gx, gradientTangents[plan.input]?.reshaped(inputShape))
    }

    /// Errors here mean a batch the model was not checked for (`outputShape(sampleShape:)` runs
    /// before any work in Terrain's commands): a programming error, hence a trap with the message.
    private func runChecked(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        do { return try run(x, xDot, recording: isRecording) } catch { fatalError("\(error)") }
    }

    override public func forward(_ input: Tensor<Scalar>) -> Tensor<Scalar> { runChecked(input, nil).y }

    override public func backward(_ gradient: Tensor<Scalar>) -> Tensor<Scalar> { pull(gradient, nil).gx }

    override public func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        precondition(isRecording, "ONNXGraph.forwardTangent needs recording on (setRecording(true))")
        return runChecked(x, xDot)
    }

    override public func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        pull(g, gDot)
    }

    override public func forgetRecordedState() { records = [] }
}
