import TerrainTensor

/// A network's evaluation-mode forward pass as a short list of fused steps, for back ends that can
/// run it faster than layer by layer.
///
/// A landscape evaluates the same network thousands of times at nearby weights, forward only.
/// Layer by layer, every convolution reorders its operands into the kernel's layout and back,
/// and batch norm, ReLU and the residual addition each make one more pass over memory. As a
/// graph, a back end can keep values in its own layout from the first step to the last and fuse
/// the cheap operations into the convolutions: batch norm in evaluation mode is an affine map
/// per channel, so it folds into the preceding convolution's weights and bias
/// (W′ = s·W, b′ = s·(b − μ) + β with s = γ/√(σ² + ε)); activations and the residual addition
/// become the convolution's epilogue.
///
/// Values are numbered: 0 is the graph's input, step i produces value i + 1. Shapes are per
/// sample (no batch axis): [C, H, W] for images, [F] for features. Weights are not part of the
/// graph: step i with a `weightSlot` reads the slot's weights, handed to the program before each
/// run (`InferenceProgram.setWeights`), so one graph serves every point of a surface.
public struct InferenceGraph: Sendable, Equatable {
    public enum Operation: Sendable, Equatable {
        /// y = conv(x, W) + b; weights [F, C, kh, kw] (groups and dilation are left to the
        /// layer-by-layer path).
        case convolution(Conv2dGeometry, outputChannels: Int)
        /// y = W·flatten(x) + b; weights [F, x's element count], flattened in NCHW order.
        case innerProduct(outputs: Int)
        case maxPool(Pool2dGeometry)
        /// The average over each window, padding counted (PyTorch's default).
        case averagePool(Pool2dGeometry)
        /// y = x + the step's `addend`.
        case add
        /// y = x (only the step's activation applies).
        case identity
    }

    public struct Step: Sendable, Equatable {
        public var operation: Operation
        /// The value this step reads.
        public var input: Int
        /// The slot of the weights of a convolution or inner product.
        public var weightSlot: Int?
        /// A value added to the result (after the bias, before the activation): a residual.
        public var addend: Int?
        /// Applied last.
        public var activation: Activation?
        /// The shape of the value this step produces, per sample.
        public var outputShape: [Int]

        public init(operation: Operation, input: Int, weightSlot: Int? = nil, addend: Int? = nil,
                    activation: Activation? = nil, outputShape: [Int]) {
            self.operation = operation; self.input = input; self.weightSlot = weightSlot
            self.addend = addend; self.activation = activation; self.outputShape = outputShape
        }
    }

    /// The shape of one input sample.
    public var inputShape: [Int]
    public var steps: [Step]

    public init(inputShape: [Int], steps: [Step] = []) {
        self.inputShape = inputShape
        self.steps = steps
    }

    /// The per-sample shape of value `v`.
    public func shape(of value: Int) -> [Int] { value == 0 ? inputShape : steps[value - 1].outputShape }

    /// The value the graph returns: the last step's (or the input, for an empty graph).
    public var output: Int { steps.count }

    /// Number of weight slots the steps read.
    public var weightSlotCount: Int { (steps.compactMap(\.weightSlot).max() ?? -1) + 1 }

    /// The weight slots some step reads.
    public var weightSlots: Set<Int> { Set(steps.compactMap(\.weightSlot)) }

    /// The graph that starts after its first layer, when that layer is an inner product on the
    /// input with an activation and nothing else reads the input: its input is the first layer's
    /// pre-activation output, and the first step becomes an identity step carrying the activation
    /// (values keep their numbers; the first layer's weight slot is no longer read). For callers
    /// that compute the first layer some other way (a plane of weights, where it is linear).
    public var afterFirstLayer: InferenceGraph? {
        guard let first = steps.first, case .innerProduct = first.operation, first.input == 0, first.addend == nil,
              let activation = first.activation,
              !steps.dropFirst().contains(where: { $0.input == 0 || $0.addend == 0 }) else { return nil }
        var tail = InferenceGraph(inputShape: first.outputShape, steps: steps)
        tail.steps[0] = Step(operation: .identity, input: 0, activation: activation, outputShape: first.outputShape)
        return tail
    }

    /// Multiply–adds per sample of the convolutions and inner products (the work that matters).
    public var multiplyAddsPerSample: Int {
        steps.reduce(0) { total, step in
            let inputSize = shape(of: step.input).reduce(1, *)
            switch step.operation {
            case .convolution(let g, let f):
                let c = shape(of: step.input)[0]
                let spatial = step.outputShape.dropFirst().reduce(1, *)
                return total + f * spatial * (c / g.groups) * g.kernel.height * g.kernel.width
            case .innerProduct(let f):
                return total + f * inputSize
            default:
                return total
            }
        }
    }
}

/// A back end's compiled `InferenceGraph` for a fixed number of samples per run.
///
/// Weights are set once per point (they are read by every run that follows) and runs may then
/// happen on several threads at once: a program lends each running thread a workspace of its own.
public protocol InferenceProgram: AnyObject {
    var graph: InferenceGraph { get }
    /// Samples per run.
    var batchSize: Int { get }
    /// Sets slot `slot`'s weights (the layout the graph states: [F, C, kh, kw] or [F, in]) and
    /// bias (F values). Not while a run is in progress.
    func setWeights(_ slot: Int, weight: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>)
    /// Runs `batchSize` samples (NCHW, contiguous) and writes the output value, [batchSize, F].
    func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>)
    /// The kernel behind each step, as the back end names it (oneDNN: "brgconv:avx512_core_amx_bf16",
    /// what ONEDNN_VERBOSE prints), so tests and users can see which kernels run.
    var kernels: [String] { get }
}
