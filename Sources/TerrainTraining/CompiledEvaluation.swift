import TerrainTensor
import TerrainNN
import TerrainData

/// `Evaluation.evaluate` through the back end's compiled graph of the model
/// (`LoweredNetwork`, `Backend.makeInferenceProgram`): batch norm folded into the convolutions,
/// activations and residual additions fused, values kept in the kernels' layout throughout.
///
/// The numbers are `Evaluation.evaluate`'s up to rounding (the tests hold them to 1e-5 relative
/// point by point): the same per-sample loss and arg-max, only summed over chunks of
/// `samplesPerRun` samples instead of batches. Chunk boundaries depend on the set's size alone
/// and chunk sums are added in order, so the result is the same bits for every thread count.
/// Weights are folded afresh at every call: set the model's parameters, then evaluate.
public final class CompiledEvaluation<Scalar: TensorScalar> {
    public let network: LoweredNetwork<Scalar>
    /// Samples per program run: small enough that a chunk's activations stay in cache.
    public let samplesPerRun: Int
    private let backend: any Backend
    /// A program per run size: `samplesPerRun`, and the remainder at the end of a set.
    private var programs: [Int: InferenceProgram] = [:]
    private var foldedWeights: [[Float]]
    private var foldedBiases: [[Float]]

    /// Nil when the model does not lower, is not Float, or the back end has no compiled graphs.
    public init?(model: Module<Scalar>, sampleShape: [Int], samplesPerRun: Int = 16, backend: any Backend = Backends.current) {
        guard Scalar.self == Float.self, samplesPerRun > 0,
              let network = LoweredNetwork.lower(model, sampleShape: sampleShape),
              let program = backend.makeInferenceProgram(network.graph, batchSize: samplesPerRun) else { return nil }
        self.network = network
        self.samplesPerRun = samplesPerRun
        self.backend = backend
        programs[samplesPerRun] = program
        foldedWeights = Array(repeating: [], count: network.slots.count)
        foldedBiases = Array(repeating: [], count: network.slots.count)
    }

    /// Values per sample of the model's output.
    public var outputSize: Int { network.graph.shape(of: network.graph.output).reduce(1, *) }

    /// Loss and accuracy over `data`, like `Evaluation.evaluate` (evaluation mode).
    public func evaluate(on data: Dataset) -> EvaluationResult {
        let n = data.count
        guard n > 0 else { return EvaluationResult(loss: 0, accuracy: data.classCount == nil ? nil : 0, count: 0) }
        let per = samplesPerRun
        let chunks = (n + per - 1) / per
        let tail = n - (chunks - 1) * per
        if programs[tail] == nil {
            guard let program = backend.makeInferenceProgram(network.graph, batchSize: tail) else {
                preconditionFailure("the back end compiled this graph for \(per) samples but not for \(tail)")
            }
            programs[tail] = program
        }
        for slot in network.slots.indices {
            network.slots[slot].fold(weight: &foldedWeights[slot], bias: &foldedBiases[slot])
            for program in programs.values {
                foldedWeights[slot].withUnsafeBufferPointer { w in
                    foldedBiases[slot].withUnsafeBufferPointer { b in program.setWeights(slot, weight: w, bias: b) }
                }
            }
        }
        let sampleSize = data.inputs.count / n
        let outputs = outputSize
        var lossSums = [Double](repeating: 0, count: chunks)
        var corrects = [Int](repeating: 0, count: chunks)
        let inputs = data.inputs
        let programs = self.programs
        lossSums.withUnsafeMutableBufferPointer { lossSums in
            corrects.withUnsafeMutableBufferPointer { corrects in
                Parallel.forEach(chunks: chunks) { c in
                    let first = c * per, count = min(per, n - first)
                    var logits = Tensor<Float>(zeros: [count, outputs])
                    programs[count]!.run(input: inputs.pointer + first * sampleSize, output: logits.mutablePointer())
                    let result = TaskLoss.compute(output: logits, targets: data.targets.gathering(first..<(first + count)))
                    lossSums[c] = result.loss * Double(count)
                    corrects[c] = result.correct
                }
            }
        }
        let lossSum = lossSums.reduce(0, +), correct = corrects.reduce(0, +)
        return EvaluationResult(loss: lossSum / Double(n),
                                accuracy: data.classCount == nil ? nil : 100 * Double(correct) / Double(n),
                                count: n)
    }
}
