import TerrainTensor
import TerrainNN
import TerrainData
import TerrainTraining

/// `Evaluation.evaluate` through the back end's compiled graph of the model
/// (`LoweredNetwork`, `GraphCompilingBackend.makeInferenceProgram`): batch norm folded into the convolutions,
/// activations and residual additions fused, values kept in the kernels' layout throughout.
///
/// The numbers are `Evaluation.evaluate`'s up to rounding (the tests hold them to 1e-5 relative
/// point by point): the same per-sample loss and arg-max, only summed over chunks of
/// `samplesPerRun` samples instead of batches. Chunk boundaries depend on the set's size alone
/// and chunk sums are added in order, so the result is the same bits for every thread count.
/// Weights are folded afresh at every call: set the model's parameters, then evaluate.
///
/// **NaN.** oneDNN's ReLU (eltwise and post-op, every kernel tried: `vmaxps` with 0 as the
/// operand it keeps) and its max pooling turn NaN into numbers, where PyTorch keeps NaN. So a
/// result is only returned when nothing non-finite went in or came out: the folded weights and
/// biases and each run's input hold no NaN or ∞, and the loss is finite. Otherwise the
/// evaluation returns nil and the caller evaluates layer by layer, whose kernels propagate NaN as
/// PyTorch does (a batch-norm running variance below −ε, an extrapolated `states` direction's
/// doing, makes its folded scale NaN). The checks read the weights once per fold and each input
/// once, against convolutions that read them hundreds of times. What they cannot see: a NaN born
/// inside a fused layer from finite values that overflowed (∞ − ∞) and then zeroed by its ReLU
/// while every logit stays finite; PyTorch's own result there depends on its summation order.
///
/// **Planes.** When the first layer is an inner product on the input (an MLP), its output at
/// weights W₀ + αWx + βWy (and bias b₀ + αbx + βby) is Y₀ + αYx + βYy with Yk = X·Wkᵀ + bk:
/// `evaluate(on:plane:alpha:beta:)` computes the three products once per plane and data set and
/// then runs only the layers after the first at every point. On MNIST's 784-512-512-10 MLP that
/// skips 60% of the multiply-adds.
///
/// **bf16.** With `precision` `.bf16` the programs multiply in bfloat16 and add in Float
/// (`InferencePrecision`). The plane trick's first layer stays Float (Y₀, Yx, Yy are Float
/// products, combined in Float); the layers after it run in bf16. The plane's centre runs the
/// whole graph, its first layer in bf16 too.
public final class CompiledEvaluation<Scalar: TensorScalar> {
    public let network: LoweredNetwork<Scalar>
    /// The arithmetic of the programs' products.
    public let precision: InferencePrecision
    /// Samples per program run: small enough that a chunk's activations stay in cache.
    public let samplesPerRun: Int
    private let backend: any Backend
    /// A program per run size: `samplesPerRun`, and the remainder at the end of a set.
    private var programs: [Int: InferenceProgram] = [:]
    private var foldedWeights: [[Float]]
    private var foldedBiases: [[Float]]
    /// The graph after the first layer, and its programs per run size (planes only).
    private let tailGraph: InferenceGraph?
    private var tailPrograms: [Int: InferenceProgram] = [:]
    /// The first layer's outputs Y₀, Yx, Yy ([samples, F]) for one plane and one data set's
    /// inputs. (Both held, not only named: a freed plane's address could come back as another
    /// plane's, and a freed input buffer goes back to the pool, whose next tensor of that size
    /// gets it. Held, the inputs cannot change either: a write to them copies them first.)
    /// `finite`: whether all three are free of NaN and ∞ (checked once, not at every point).
    private var planeOutputs: (plane: FirstLayerPlane, inputs: Tensor<Float>, outputs: [Tensor<Float>], finite: Bool)?

    /// Nil when the model does not lower, is not Float, or the back end has no compiled graphs
    /// (or none in `precision`).
    public init?(model: Module<Scalar>, sampleShape: [Int], samplesPerRun: Int = 16, backend: any Backend = Backends.current,
                 precision: InferencePrecision = .fp32) {
        guard Scalar.self == Float.self, samplesPerRun > 0,
              let network = LoweredNetwork.lower(model, sampleShape: sampleShape),
              let program = (backend as? any GraphCompilingBackend)?.makeInferenceProgram(network.graph, batchSize: samplesPerRun,
                                                                                          precision: precision) else { return nil }
        self.network = network
        self.precision = precision
        self.samplesPerRun = samplesPerRun
        self.backend = backend
        programs[samplesPerRun] = program
        foldedWeights = Array(repeating: [], count: network.slots.count)
        foldedBiases = Array(repeating: [], count: network.slots.count)
        // A first layer with batch norm folded in is not linear in the parameters (the scale
        // depends on γ and the running variance).
        if let slot = network.graph.steps.first?.weightSlot, network.slots[slot].norm == nil {
            tailGraph = network.graph.afterFirstLayer
        } else {
            tailGraph = nil
        }
    }

    /// The layer that `evaluate(on:plane:…)` computes once per plane: nil when the model's first
    /// layer is not an inner product on the input followed by an activation.
    public var planeLayer: FoldedLayer<Scalar>? {
        tailGraph == nil ? nil : network.graph.steps.first?.weightSlot.map { network.slots[$0] }
    }

    /// The kernels of the whole graph's program, step by step (`InferenceProgram.kernels`).
    public var kernels: [String] { programs[samplesPerRun]?.kernels ?? [] }

    /// Values per sample of the model's output.
    public var outputSize: Int { network.graph.shape(of: network.graph.output).reduce(1, *) }

    /// Loss and accuracy over `data`, like `Evaluation.evaluate` (evaluation mode); nil where
    /// a NaN or ∞ went in or the loss is not finite (see the type's comment: evaluate layer by layer).
    public func evaluate(on data: Dataset) -> EvaluationResult? {
        guard data.count > 0 else { return EvaluationResult(lossSum: 0, correct: 0, on: data) }
        guard let programs = prepare(graph: network.graph, programs: &self.programs, count: data.count) else { return nil }
        let width = data.inputs.count / data.count
        return sum(over: data) { first, count, logits in
            let input = data.inputs.pointer + first * width
            guard !Self.containsNonFinite(input, count: count * width) else { return false }
            programs[count]!.run(input: input, output: logits)
            return true
        }
    }

    /// Loss and accuracy over `data` at the plane's point (α, β), as `evaluate(on:)` would give
    /// them with the model's parameters set there: the layers after the first run from
    /// Y₀ + αYx + βYy (see the type's comment). The model's current parameters must be that
    /// point's (the other layers read them); `planeLayer` must not be nil. Nil as for
    /// `evaluate(on:)`.
    public func evaluate(on data: Dataset, plane: FirstLayerPlane, alpha: Double, beta: Double) -> EvaluationResult? {
        guard let tailGraph else { preconditionFailure("this model's first layer is not linear on a plane") }
        let n = data.count
        guard n > 0 else { return evaluate(on: data) }
        let (ys, finite) = planeOutputs(plane, data: data)
        // A NaN or ∞ in Y₀, Yx, Yy (from the data or the first layer's weights) or in α, β would
        // reach the tail's first step, the first layer's activation: oneDNN's ReLU would hide it.
        // (Finite Y and α, β give a finite combination unless it overflows Float.)
        guard finite, alpha.isFinite, beta.isFinite else { return nil }
        guard let programs = prepare(graph: tailGraph, programs: &tailPrograms, count: n) else { return nil }
        let width = ys[0].count / n
        let (a, b) = (Float(alpha), Float(beta))
        // One buffer for the whole set (pooled), each run writing its rows: small per-run
        // buffers from malloc cost more than the layers they feed.
        var layer = Tensor<Float>(uninitializedShape: [n, width])
        let out = layer.mutablePointer()
        let (y0, yx, yy) = (ys[0].pointer, ys[1].pointer, ys[2].pointer)
        // `layer` and `ys` are used only through these pointers, inside `sum`: kept alive until it
        // returns (a Swift value may be destroyed right after its last use, the pointers' loads).
        return withExtendedLifetime((layer, ys)) {
            sum(over: data) { first, count, logits in
                let rows = (first * width)..<((first + count) * width)
                for i in rows { out[i] = y0[i] + a * yx[i] + b * yy[i] }
                programs[count]!.run(input: out + rows.lowerBound, output: logits)
                return true
            }
        }
    }

    /// Each sample's loss and accuracy at `indices` (positions in `data`, in that order), as
    /// `Evaluation.evaluateSamples` gives them up to rounding: runs of `samplesPerRun` samples
    /// gathered from their rows, side by side over the threads, each run's logits split into
    /// per-sample losses (`TaskLoss.perSample`). Runs are cut from the start of `indices`, so the
    /// same slice gives the same bits for every thread count. Nil as for `evaluate(on:)` (a NaN
    /// or ∞ in, or a loss not finite): evaluate layer by layer then.
    public func evaluateSamples(on data: Dataset, indices: ArraySlice<Int>) -> SampleResults? {
        let n = indices.count
        guard n > 0 else { return SampleResults(losses: [], accuracies: data.targets.hasAccuracy ? [] : nil) }
        guard let programs = prepare(graph: network.graph, programs: &self.programs, count: n) else { return nil }
        let width = data.inputs.count / data.count
        return withExtendedLifetime(data.inputs) {
            let source = data.inputs.pointer
            return samples(of: data, indices: indices) { positions, input, logits in
                for (row, index) in positions.enumerated() {
                    (input + row * width).update(from: source + index * width, count: width)
                }
                guard !Self.containsNonFinite(input, count: positions.count * width) else { return false }
                programs[positions.count]!.run(input: input, output: logits)
                return true
            }
        }
    }

    /// `evaluateSamples(on:indices:)` at the plane's point (α, β), the layers after the first
    /// running from the rows of Y₀ + αYx + βYy (see `evaluate(on:plane:alpha:beta:)`, whose
    /// conditions hold here too).
    public func evaluateSamples(on data: Dataset, indices: ArraySlice<Int>, plane: FirstLayerPlane,
                                alpha: Double, beta: Double) -> SampleResults? {
        guard let tailGraph else { preconditionFailure("this model's first layer is not linear on a plane") }
        let n = indices.count
        guard n > 0, data.count > 0 else { return evaluateSamples(on: data, indices: indices) }
        let (ys, finite) = planeOutputs(plane, data: data)
        guard finite, alpha.isFinite, beta.isFinite else { return nil }
        guard let programs = prepare(graph: tailGraph, programs: &tailPrograms, count: n) else { return nil }
        let width = ys[0].count / data.count
        let (a, b) = (Float(alpha), Float(beta))
        return withExtendedLifetime(ys) {
            let (y0, yx, yy) = (ys[0].pointer, ys[1].pointer, ys[2].pointer)
            return samples(of: data, indices: indices) { positions, input, logits in
                for (row, index) in positions.enumerated() {
                    let to = input + row * width, from = index * width
                    for k in 0..<width { to[k] = y0[from + k] + a * yx[from + k] + b * yy[from + k] }
                }
                programs[positions.count]!.run(input: input, output: logits)
                return true
            }
        }
    }

    /// The per-sample results of the samples at `indices`, in runs of `samplesPerRun` spread over
    /// the threads: `run(positions, input, logits)` fills a run's input buffer (room for
    /// `samplesPerRun` rows of the graph's input) for the samples at `positions` and writes their
    /// logits, or returns false when its input holds NaN or ∞. Nil when a run did, or a loss is
    /// not finite.
    private func samples(of data: Dataset, indices: ArraySlice<Int>,
                         _ run: (_ positions: ArraySlice<Int>, _ input: UnsafeMutablePointer<Float>,
                                 _ logits: UnsafeMutablePointer<Float>) -> Bool) -> SampleResults? {
        let n = indices.count, per = samplesPerRun
        let chunks = (n + per - 1) / per
        let outputs = outputSize
        let inputWidth = network.graph.inputShape.reduce(1, *)
        let planeWidth = tailGraph.map { $0.inputShape.reduce(1, *) } ?? inputWidth
        let bufferWidth = max(inputWidth, planeWidth)
        var results = [SampleResults?](repeating: nil, count: chunks)
        results.withUnsafeMutableBufferPointer { slots in
            Parallel.forEach(chunks: chunks) { c in
                let first = indices.startIndex + c * per, count = min(per, indices.endIndex - first)
                let positions = indices[first..<(first + count)]
                // Filled by `run` (the rows its graph reads) before the program reads it.
                var input = [Float](unsafeUninitializedCapacity: count * bufferWidth) { _, initialized in initialized = count * bufferWidth }
                var logits = Tensor<Float>(zeros: [count, outputs])
                let ran = input.withUnsafeMutableBufferPointer { run(positions, $0.baseAddress!, logits.mutablePointer()) }
                guard ran else { return }
                let result = TaskLoss.perSample(output: logits, targets: data.targets.gathering(positions))
                guard result.losses.allSatisfy(\.isFinite) else { return }
                slots[c] = result
            }
        }
        var all = SampleResults(losses: [], accuracies: data.targets.hasAccuracy ? [] : nil)
        all.losses.reserveCapacity(n)
        for result in results {
            guard let result else { return nil }
            all.losses += result.losses
            if let accuracies = result.accuracies { all.accuracies? += accuracies }
        }
        return all
    }

    /// Y₀, Yx, Yy for `data`: made at the first point of a plane on a data set, then reused.
    private func planeOutputs(_ plane: FirstLayerPlane, data: Dataset) -> (outputs: [Tensor<Float>], finite: Bool) {
        if let made = planeOutputs, made.plane === plane, made.inputs.storage === data.inputs.storage {
            return (made.outputs, made.finite)
        }
        let n = data.count
        let x = data.inputs.reshaped([n, data.inputs.count / n])
        let outputs = zip(plane.weights, plane.biases).map { weight, bias -> Tensor<Float> in
            var y = backend.matmul(x, weight, transposeA: false, transposeB: true)
            backend.addFeatureBias(&y, bias)
            return y
        }
        let finite = outputs.allSatisfy { !Self.containsNonFinite($0.pointer, count: $0.count) }
        planeOutputs = (plane, data.inputs, outputs, finite)
        return (outputs, finite)
    }

    /// The programs for runs of `samplesPerRun` and of the last run's size, with the current
    /// parameters folded and set in every slot the graph reads; nil when a folded weight or bias
    /// is NaN or ∞ (oneDNN's ReLU would hide the NaN it makes).
    private func prepare(graph: InferenceGraph, programs: inout [Int: InferenceProgram], count n: Int) -> [Int: InferenceProgram]? {
        let per = samplesPerRun
        for size in Set([min(per, n), n - ((n - 1) / per) * per]) where programs[size] == nil {
            guard let program = (backend as? any GraphCompilingBackend)?.makeInferenceProgram(graph, batchSize: size, precision: precision) else {
                preconditionFailure("the back end compiled this graph for \(per) samples but not for \(size)")
            }
            programs[size] = program
        }
        for slot in graph.weightSlots.sorted() {
            network.slots[slot].fold(weight: &foldedWeights[slot], bias: &foldedBiases[slot])
            if Self.containsNonFinite(foldedWeights[slot]) || Self.containsNonFinite(foldedBiases[slot]) { return nil }
            for program in programs.values {
                foldedWeights[slot].withUnsafeBufferPointer { w in
                    foldedBiases[slot].withUnsafeBufferPointer { b in program.setWeights(slot, weight: w, bias: b) }
                }
            }
        }
        return programs
    }

    /// The mean loss and accuracy over `data`, its runs of `samplesPerRun` samples spread over
    /// the threads: `run(first, count, logits)` writes the logits of samples first..<first+count,
    /// or returns false when its input holds NaN or ∞. Nil when a run did, or the loss is not finite.
    private func sum(over data: Dataset,
                     _ run: (_ first: Int, _ count: Int, _ logits: UnsafeMutablePointer<Float>) -> Bool) -> EvaluationResult? {
        let n = data.count
        let per = samplesPerRun
        let chunks = (n + per - 1) / per
        let outputs = outputSize
        var lossSums = [Double](repeating: 0, count: chunks)
        var corrects = [Int](repeating: 0, count: chunks)
        lossSums.withUnsafeMutableBufferPointer { lossSums in
            corrects.withUnsafeMutableBufferPointer { corrects in
                Parallel.forEach(chunks: chunks) { c in
                    let first = c * per, count = min(per, n - first)
                    var logits = Tensor<Float>(zeros: [count, outputs])
                    guard run(first, count, logits.mutablePointer()) else { lossSums[c] = .nan; return }
                    let result = TaskLoss.compute(output: logits, targets: data.targets.gathering(first..<(first + count)))
                    lossSums[c] = result.loss * Double(count)
                    corrects[c] = result.correct
                }
            }
        }
        let lossSum = lossSums.reduce(0, +)
        guard lossSum.isFinite else { return nil }
        return EvaluationResult(lossSum: lossSum, correct: corrects.reduce(0, +), on: data)
    }

    /// Whether any of `count` floats from `values` is NaN or ±∞ (∞ becomes NaN in the next
    /// product: ∞·0, ∞ − ∞). x·0 is 0 for every finite x and NaN otherwise; eight lanes at a time,
    /// no early exit, so it runs at memory speed.
    static func containsNonFinite(_ values: UnsafePointer<Float>, count: Int) -> Bool {
        var lanes = SIMD8<Float>(repeating: 0)
        var i = 0
        let raw = UnsafeRawPointer(values)
        while i + 8 <= count {
            lanes += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * 0
            i += 8
        }
        var tail: Float = 0
        while i < count { tail += values[i] * 0; i += 1 }
        return !(lanes.sum() + tail).isFinite
    }

    static func containsNonFinite(_ values: [Float]) -> Bool {
        values.withUnsafeBufferPointer { b in b.baseAddress.map { containsNonFinite($0, count: b.count) } ?? false }
    }
}

/// The first layer's weights and biases at a plane's centre and along its two directions, for
/// `CompiledEvaluation.evaluate(on:plane:alpha:beta:)`; its identity names the plane.
public final class FirstLayerPlane {
    /// [F, in] each: centre, x direction, y direction (zero for a line).
    public let weights: [Tensor<Float>]
    /// [F] each, in the same order.
    public let biases: [Tensor<Float>]

    public init(weights: [Tensor<Float>], biases: [Tensor<Float>]) {
        precondition(weights.count == 3 && biases.count == 3, "a plane has a centre and two directions")
        self.weights = weights
        self.biases = biases
    }
}
