import Foundation
import TerrainTensor
import TerrainNN
import TerrainData

/// Loss (and accuracy, for classification and tokens) of a model on a dataset.
public struct EvaluationResult: Sendable, Equatable {
    /// Mean loss per sample (for token sequences, the mean over every position of every sequence).
    public var loss: Double
    /// Percentage of correct arg-max predictions (of tokens, for token sequences); nil for regression.
    public var accuracy: Double?
    public var count: Int
    /// exp(loss), the perplexity of a next-token loss; nil for other targets.
    public var perplexity: Double?

    /// The result of summed per-sample losses and correct predictions over all of `data`
    /// (an empty set gives loss 0 and, for classes and tokens, accuracy 0).
    public init(lossSum: Double, correct: Int, on data: Dataset) {
        self.init(lossSum: lossSum, correct: correct, samples: data.count, targets: data.targets)
    }

    /// The result of summed per-sample losses and correct predictions over `samples` samples
    /// whose targets are of the kind of `targets`.
    public init(lossSum: Double, correct: Int, samples: Int, targets: Targets) {
        let loss = lossSum / Double(max(samples, 1))
        self.init(loss: loss, accuracy: targets.accuracy(correct: correct, samples: samples), count: samples,
                  perplexity: targets.isTokens ? Self.perplexity(loss) : nil)
    }

    public init(loss: Double, accuracy: Double?, count: Int, perplexity: Double? = nil) {
        self.loss = loss
        self.accuracy = accuracy
        self.count = count
        self.perplexity = perplexity
    }

    /// exp(loss): the perplexity of a mean next-token cross-entropy (in nats). NaN stays NaN
    /// (with its sign bit, `SurfaceValue`'s "computed, and NaN").
    public static func perplexity(_ loss: Double) -> Double { loss.isNaN ? loss : Foundation.exp(loss) }
}

/// The loss that fits a dataset's targets: cross-entropy for classes, MSE for values,
/// next-token cross-entropy for token sequences.
///
/// **Tokens.** The model's output for a batch of B sequences of T tokens holds B·T·V logits
/// (`[B, T, V]`, batch first; a compiled program's `[B, T·V]` is the same memory). The loss is
/// cross-entropy over the B·T rows of `[B·T, V]`, L = (1/BT) Σ_{b,t} −log softmax(z_bt)[y_bt]:
/// the mean over every position, which is also the mean over sequences of each sequence's mean
/// (every sequence has T positions), so batches weigh by their sequence counts as for classes.
/// The gradient and its tangent are those of `Loss.crossEntropy` on the rows, shaped back like
/// the output; `correct` counts correct tokens. `DataFit` checks the output's shape first.
public enum TaskLoss {
    public static func compute<T: TensorScalar>(output: Tensor<T>, targets: Targets) -> LossResult<T> {
        switch targets {
        case .classes(let labels, _):
            return Loss.crossEntropy(logits: output, labels: labels)
        case .values(let values):
            return Loss.meanSquaredError(prediction: output, target: Tensor<T>(converting: values).reshaped(output.shape))
        case .tokens(let ids, _, let vocabulary):
            var result = Loss.crossEntropy(logits: rows(of: output, ids: ids, vocabulary: vocabulary), labels: ids)
            result.gradient = result.gradient.reshaped(output.shape)
            return result
        }
    }

    /// `compute` with the gradient's tangent R{∂L/∂output} along the output's tangent (for
    /// Hessian-vector products): cross-entropy for classes and tokens, MSE for values.
    public static func computeWithTangent<T: TensorScalar>(output: Tensor<T>, tangent: Tensor<T>?, targets: Targets)
        -> (result: LossResult<T>, gradientTangent: Tensor<T>?) {
        switch targets {
        case .classes(let labels, _):
            return Loss.crossEntropyTangent(logits: output, labels: labels, tangent: tangent)
        case .values(let values):
            return Loss.meanSquaredErrorTangent(prediction: output, target: Tensor<T>(converting: values).reshaped(output.shape),
                                                tangent: tangent)
        case .tokens(let ids, _, let vocabulary):
            let (rowResult, gradientTangent) = Loss.crossEntropyTangent(
                logits: rows(of: output, ids: ids, vocabulary: vocabulary), labels: ids,
                tangent: tangent.map { rows(of: $0, ids: ids, vocabulary: vocabulary) })
            var result = rowResult
            result.gradient = result.gradient.reshaped(output.shape)
            return (result, gradientTangent?.reshaped(output.shape))
        }
    }

    /// Each sample's loss and accuracy from a batch's output (`[B, …]`, one row per sample): the
    /// terms `compute`'s mean is made of, per sample. Cross-entropy: each row's
    /// −log softmax(z)[label] (`Backend.softmaxCrossEntropyRows`, the very values `compute` adds),
    /// accuracy 0 or 100. Token sequences: the mean of the sequence's T positions' terms, accuracy
    /// 100·(right tokens)/T. Values: the mean over the sample's outputs of (prediction − target)²,
    /// no accuracy.
    public static func perSample<T: TensorScalar>(output: Tensor<T>, targets: Targets) -> SampleResults {
        let n = output.shape.first ?? 0
        guard n > 0 else { return SampleResults(losses: [], accuracies: targets.hasAccuracy ? [] : nil) }
        switch targets {
        case .classes(let labels, _):
            let (losses, correct) = Backends.current.softmaxCrossEntropyRows(logits: output, labels: labels)
            return SampleResults(losses: losses, accuracies: correct.map { $0 ? 100 : 0 })
        case .tokens(let ids, let length, let vocabulary):
            let (losses, correct) = Backends.current.softmaxCrossEntropyRows(logits: rows(of: output, ids: ids, vocabulary: vocabulary),
                                                                             labels: ids)
            var sequenceLosses: [Double] = [], accuracies: [Double] = []
            for b in 0..<n {
                let positions = (b * length)..<((b + 1) * length)
                sequenceLosses.append(losses[positions].reduce(0, +) / Double(length))
                accuracies.append(100 * Double(correct[positions].filter { $0 }.count) / Double(length))
            }
            return SampleResults(losses: sequenceLosses, accuracies: accuracies)
        case .values(let values):
            precondition(values.count == output.count, "MSE: prediction \(output.shape) vs target \(values.shape)")
            let width = output.count / n
            return withExtendedLifetime((output, values)) {
                let p = output.pointer, t = values.pointer
                let losses = (0..<n).map { i -> Double in
                    var total = 0.0
                    for j in (i * width)..<((i + 1) * width) {
                        let d = Double(p[j]) - Double(t[j])
                        total += d * d
                    }
                    return total / Double(max(width, 1))
                }
                return SampleResults(losses: losses, accuracies: nil)
            }
        }
    }

    /// The output as `[B·T, V]` logit rows, one per target token.
    private static func rows<T: TensorScalar>(of output: Tensor<T>, ids: [Int32], vocabulary: Int) -> Tensor<T> {
        precondition(output.count == ids.count * vocabulary,
                     "next-token loss: output \(output.shape) for \(ids.count) tokens of a vocabulary of \(vocabulary) (DataFit checks this)")
        return output.reshaped([ids.count, vocabulary])
    }
}

/// One loss (and accuracy, in percent) per sample, in the order the samples were asked for.
public struct SampleResults: Sendable, Equatable {
    public var losses: [Double]
    /// nil for regression.
    public var accuracies: [Double]?

    public init(losses: [Double], accuracies: [Double]?) {
        self.losses = losses
        self.accuracies = accuracies
    }
}

public enum Evaluation {
    /// Evaluates in evaluation mode (running BN statistics, no dropout) without recording
    /// backward state, batch by batch; the loss is the per-sample mean over the whole set.
    /// The model's previous modes are restored afterwards.
    public static func evaluate<T: TensorScalar>(_ model: Module<T>, on data: Dataset, batchSize: Int = 256) -> EvaluationResult {
        let wasTraining = model.isTraining, wasRecording = model.isRecording
        model.setTraining(false)
        model.setRecording(false)
        defer { model.setTraining(wasTraining); model.setRecording(wasRecording) }
        var lossSum = 0.0, correct = 0
        data.forEachBatch(of: batchSize, as: T.self) { rows, inputs, targets in
            let result = TaskLoss.compute(output: model.forward(inputs), targets: targets)
            lossSum += result.loss * Double(rows.count)
            correct += result.correct
        }
        return EvaluationResult(lossSum: lossSum, correct: correct, on: data)
    }

    /// Each sample's loss and accuracy at `indices` (in that order), in evaluation mode like
    /// `evaluate`, `batchSize` samples per forward pass (`TaskLoss.perSample`).
    public static func evaluateSamples<T: TensorScalar>(_ model: Module<T>, on data: Dataset, indices: ArraySlice<Int>,
                                                        batchSize: Int = 256) -> SampleResults {
        let wasTraining = model.isTraining, wasRecording = model.isRecording
        model.setTraining(false)
        model.setRecording(false)
        defer { model.setTraining(wasTraining); model.setRecording(wasRecording) }
        var results = SampleResults(losses: [], accuracies: data.targets.hasAccuracy ? [] : nil)
        var start = indices.startIndex
        while start < indices.endIndex {
            let end = Swift.min(indices.endIndex, start + Swift.max(batchSize, 1))
            let (inputs, targets) = data.batch(indices[start..<end])
            let converted = T.self == Float.self ? inputs as! Tensor<T> : Tensor<T>(converting: inputs)
            let batch = TaskLoss.perSample(output: model.forward(converted), targets: targets)
            results.losses += batch.losses
            if let accuracies = batch.accuracies { results.accuracies? += accuracies }
            start = end
        }
        return results
    }
}
