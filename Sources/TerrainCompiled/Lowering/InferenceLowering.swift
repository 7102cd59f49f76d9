import TerrainTensor
import TerrainNN

/// A model's evaluation-mode forward pass as an `InferenceGraph`, and the layers whose current
/// parameters make each of its weight slots.
///
/// Lowering fuses what evaluation mode makes foldable: a batch norm right after a convolution or
/// linear layer folds into its weights, an activation becomes the step's epilogue, and a
/// residual addition becomes the sum post-op of the body's last convolution (the shortcut's
/// steps are emitted first so that its value exists by then). Dropout is the identity.
/// Models with other modules (dense concatenation, batch norm before a convolution, imported
/// graphs) do not lower: `lower` returns nil and the caller evaluates layer by layer.
public struct LoweredNetwork<Scalar: TensorScalar> {
    public let graph: InferenceGraph
    /// Slot i's layers.
    public let slots: [FoldedLayer<Scalar>]

    /// Lowers `model` for inputs of `sampleShape` (one sample, [C, H, W] or [F]); nil when some
    /// module has no lowering. Uses the modules' structure only: parameters are read by
    /// `FoldedLayer.fold()` at each evaluation.
    public static func lower(_ model: Module<Scalar>, sampleShape: [Int]) -> LoweredNetwork? {
        guard sampleShape.count == 1 || sampleShape.count == 3 else { return nil }
        var builder = Builder(graph: InferenceGraph(inputShape: sampleShape))
        guard let output = builder.lower(model, input: 0), output == builder.graph.output, output > 0 else { return nil }
        return LoweredNetwork(graph: builder.graph, slots: builder.slots)
    }

    private struct Builder {
        var graph: InferenceGraph
        var slots: [FoldedLayer<Scalar>] = []
        /// Values still needed by a step not emitted yet (a residual block's input): steps
        /// producing them must not be changed by later fusion.
        var pinned: [Int] = []
        /// Values that a Flatten made flat (only inner products may read them).
        var flat: Set<Int> = []

        /// The last step, when it produced `value` and may still be extended.
        func fusable(_ value: Int) -> Int? {
            guard value > 0, value == graph.steps.count, !pinned.contains(value) else { return nil }
            return value - 1
        }

        mutating func append(_ step: InferenceGraph.Step) -> Int {
            graph.steps.append(step)
            return graph.steps.count
        }

        mutating func lower(_ module: Module<Scalar>, input: Int) -> Int? {
            let shape = graph.shape(of: input)
            switch module {
            case let sequential as Sequential<Scalar>:
                var value = input
                for layer in sequential.layers {
                    guard let next = lower(layer.module, input: value) else { return nil }
                    value = next
                }
                return value

            case let residual as Residual<Scalar>:
                pinned.append(input)
                var side = input
                if residual.hasShortcut, let shortcut = residual.shortcut {
                    guard let s = lower(shortcut, input: input) else { return nil }
                    side = s
                    pinned.append(side)
                }
                guard var value = lower(residual.body, input: input) else { return nil }
                pinned.removeAll { $0 == input || $0 == side }
                if residual.hasShortcut {
                    guard graph.shape(of: value) == graph.shape(of: side) else { return nil }
                    if let i = fusable(value), graph.steps[i].addend == nil, graph.steps[i].activation == nil,
                       graph.steps[i].weightSlot != nil {
                        graph.steps[i].addend = side
                    } else {
                        value = append(.init(operation: .add, input: value, addend: side, outputShape: graph.shape(of: value)))
                    }
                }
                if let post = residual.post { return lower(post, input: value) }
                return value

            case let conv as Conv2d<Scalar>:
                guard shape.count == 3, !flat.contains(input), shape[0] == conv.inChannels else { return nil }
                let (oh, ow) = conv.geometry.outputSize(height: shape[1], width: shape[2])
                guard oh > 0, ow > 0 else { return nil }
                slots.append(FoldedLayer(weight: conv.weight, bias: conv.bias))
                return append(.init(operation: .convolution(conv.geometry, outputChannels: conv.outChannels), input: input,
                                    weightSlot: slots.count - 1, outputShape: [conv.outChannels, oh, ow]))

            case let linear as Linear<Scalar>:
                guard shape.reduce(1, *) == linear.inFeatures, shape.count == 1 || flat.contains(input) else { return nil }
                slots.append(FoldedLayer(weight: linear.weight, bias: linear.bias))
                return append(.init(operation: .innerProduct(outputs: linear.outFeatures), input: input,
                                    weightSlot: slots.count - 1, outputShape: [linear.outFeatures]))

            case let norm as BatchNorm<Scalar>:
                // Folds into the convolution or linear layer that produced its input, or not at all.
                guard let i = fusable(input), let slot = graph.steps[i].weightSlot, graph.steps[i].addend == nil,
                      graph.steps[i].activation == nil, slots[slot].norm == nil, shape[0] == norm.features else { return nil }
                slots[slot].norm = norm
                return input

            case let activation as ActivationLayer<Scalar>:
                if let i = fusable(input), graph.steps[i].activation == nil, !isPool(graph.steps[i].operation) {
                    graph.steps[i].activation = activation.kind
                    return input
                }
                let value = append(.init(operation: .identity, input: input, activation: activation.kind, outputShape: shape))
                if flat.contains(input) { flat.insert(value) }
                return value

            case let pool as MaxPool2d<Scalar>:
                return lowerPool(.maxPool(pool.geometry), pool.geometry, input: input)

            case let pool as AvgPool2d<Scalar>:
                return lowerPool(.averagePool(pool.geometry), pool.geometry, input: input)

            case is GlobalAvgPool<Scalar>:
                guard shape.count == 3 else { return nil }
                let g = Pool2dGeometry(kernel: (shape[1], shape[2]), stride: (1, 1), padding: (0, 0))
                guard let value = lowerPool(.averagePool(g), g, input: input) else { return nil }
                // [N, C, 1, 1] is laid out as [N, C]: what follows sees features.
                flat.insert(value)
                return value

            case is Flatten<Scalar>:
                flat.insert(input)
                return input

            case is Dropout<Scalar>:
                return input

            default:
                return nil
            }
        }

        mutating func lowerPool(_ operation: InferenceGraph.Operation, _ g: Pool2dGeometry, input: Int) -> Int? {
            let shape = graph.shape(of: input)
            guard shape.count == 3, !flat.contains(input) else { return nil }
            let (oh, ow) = g.outputSize(height: shape[1], width: shape[2])
            guard oh > 0, ow > 0 else { return nil }
            return append(.init(operation: operation, input: input, outputShape: [shape[0], oh, ow]))
        }

        func isPool(_ operation: InferenceGraph.Operation) -> Bool {
            switch operation {
            case .maxPool, .averagePool: return true
            default: return false
            }
        }
    }
}

/// A convolution's or linear layer's weights with the evaluation-mode batch norm that follows
/// it folded in.
public struct FoldedLayer<Scalar: TensorScalar> {
    public let weight: Parameter<Scalar>
    public let bias: Parameter<Scalar>?
    public fileprivate(set) var norm: BatchNorm<Scalar>?

    /// Output channels (or features).
    public var outputs: Int { weight.shape[0] }

    /// W′ = s ⊙ W (per output row) and b′ = s ⊙ (b − μ) + β with s = γ / √(σ² + ε), computed in
    /// Double from the current parameters; W′ = W and b′ = b (or 0) without a batch norm.
    public func fold(weight w: inout [Float], bias b: inout [Float]) {
        let f = outputs
        let perRow = weight.value.count / f
        let source = weight.value.pointer
        if w.count != weight.value.count { w = [Float](repeating: 0, count: weight.value.count) }
        if b.count != f { b = [Float](repeating: 0, count: f) }
        let bias0 = bias.map { $0.value.scalars.map { Double($0) } } ?? [Double](repeating: 0, count: f)
        guard let norm else {
            for i in 0..<w.count { w[i] = Float(source[i]) }
            for o in 0..<f { b[o] = Float(bias0[o]) }
            return
        }
        let gamma = norm.weight.value.scalars, beta = norm.bias.value.scalars
        let mean = norm.runningMean.value.scalars, variance = norm.runningVariance.value.scalars
        for o in 0..<f {
            let s = Double(gamma[o]) / (Double(variance[o]) + norm.epsilon).squareRoot()
            for k in 0..<perRow { w[o * perRow + k] = Float(s * Double(source[o * perRow + k])) }
            b[o] = Float(s * (bias0[o] - Double(mean[o])) + Double(beta[o]))
        }
    }
}
