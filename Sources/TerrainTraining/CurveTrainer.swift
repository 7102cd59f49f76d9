import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainModels
import TerrainIO

/// What a finished epoch of curve training measured: the mean loss (and accuracy) of its batches,
/// each at its own random point θ(t) of the curve.
public struct CurveEpochSummary: Sendable {
    public var epoch: Int
    public var learningRate: Double
    public var train: EvaluationResult
    public var seconds: Double
}

/// Trains the bend of a `ConnectingCurve` between two models of one architecture, as Garipov et
/// al. do: the bend starts at the midpoint (θA + θB)/2; each batch draws t ∼ U(0, 1), sets the
/// network's trainable weights to θ(t), runs forward and backward in training mode (batch norm on
/// the batch's statistics), and the optimizer steps on the bend alone with the gradient at θ(t)
/// times ∂θ(t)/∂θ_b (`ConnectingCurve.bendGradientCoefficient`). Weight decay, clipping,
/// schedules and the optimizer are `TrainingConfig`'s, exactly as `Trainer` applies them, with the
/// bend as the parameters (so weight decay pulls on θ_b). Batch-norm running statistics are not
/// trained: whoever evaluates a point of the curve recomputes them there.
///
/// t comes from a `SeededGenerator` seeded by (seed, epoch), one draw per batch, and the batch
/// order from `BatchSchedule` (seed, epoch): an epoch's randomness needs no saved state, so a
/// stopped run continues from its last finished epoch (`ResumeState`, the bend as the model and
/// the optimizer's state, in `folder/resume.safetensors`) with the bits of an uninterrupted one.
///
///     folder/metrics.csv, .jsonl   per epoch: epoch, iteration, lr, train_loss, train_acc, seconds
///     folder/resume.safetensors    while unfinished
public final class CurveTrainer {
    public let curve: ConnectingCurve
    public let config: TrainingConfig
    public let folder: URL
    /// What else a resume must agree on (the end points' files): compared with the stored one.
    public let identity: String
    public var showProgress = true
    public var onEpoch: ((CurveEpochSummary) -> Void)?
    /// Called when a stopped training has been checked and restored, with the epochs it had done.
    public var onResume: ((Int) -> Void)?
    /// Tests: stop (throwing `Trainer.SimulatedStop`) once this many epochs are done and saved.
    var stopAfterEpochs: Int?

    public init(curve: ConnectingCurve, config: TrainingConfig, folder: URL, identity: String) throws {
        try config.validate()
        self.curve = curve
        self.config = config
        self.folder = folder
        self.identity = identity
    }

    /// The request as a string, which a resume state (and a finished curve's file) must hold: the
    /// curve, the training configuration and the ends.
    public var requestJSON: String {
        canonicalJSON(["curve": curve.rawValue, "training": config.json, "ends": identity])
    }

    /// Whether `folder` holds a stopped training of this request to continue.
    public var canResume: Bool { FileManager.default.fileExists(atPath: ResumeState.url(in: folder).path) }

    /// Trains the bend between `a` and `b` (checkpoints of `a.spec`'s architecture) on `data`,
    /// writes it to `output` as a checkpoint (the model with the bend's trainable weights and A's
    /// buffers, with `metadata` added) and returns it. With `resume`, continues the stopped
    /// training in `folder` when there is one. The resume state goes only once the bend is
    /// written, so a kill at any moment loses at most the epoch under way.
    @discardableResult
    public func run(a: Checkpoint, b: Checkpoint, data: Dataset, resume: Bool, output: URL,
                    metadata: [String: String] = [:]) throws -> Checkpoint {
        let schedule = try LearningRateSchedule.parse(config.schedule, totalEpochs: config.epochs)
        guard data.count > 0 else { throw TrainingError.invalidConfig("the training set holds no samples") }
        let spec = a.spec
        let model: Module<Float> = try spec.build()
        try a.load(into: model, source: "A")
        let endB: Module<Float> = try spec.build()
        try b.load(into: endB, source: "B")
        let trainable = model.namedParameters().filter(\.parameter.isTrainable)
        let ends = zip(trainable, endB.namedParameters().filter(\.parameter.isTrainable)).map { ($0.parameter.value, $1.parameter.value) }
        // The bend: one parameter per trainable tensor, under the model's names, from the midpoint.
        let bend = zip(trainable, ends).map { named, end -> (name: String, parameter: Parameter<Float>) in
            var value = Tensor<Float>(uninitializedShape: named.parameter.shape)
            let (pa, pb, out) = (end.0.pointer, end.1.pointer, value.mutablePointer())
            for i in 0..<value.count { out[i] = Float(ConnectingCurve.initialBend(a: Double(pa[i]), b: Double(pb[i]))) }
            return (named.name, Parameter(named.name, role: named.parameter.role, value: value))
        }
        let bendParameters = bend.map(\.parameter)
        let optimizer = config.makeOptimizer()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)

        let columns = ["epoch", "iteration", "lr", "train_loss", "train_acc", "seconds"]
        var startEpoch = 0, iteration = 0, learningRate = config.learningRate
        let log: MetricsLog
        let started: String
        if resume && canResume {
            let state = try ResumeState.read(from: ResumeState.url(in: folder))
            guard state.configJSON == requestJSON else {
                throw TrainingError.invalidConfig("cannot continue the curve in \(folder.path): it was started with other options or other end points; pass --overwrite to start again")
            }
            guard state.model.spec == spec, (1..<config.epochs).contains(state.epochsDone) else {
                throw TrainingError.invalidConfig("cannot continue the curve in \(folder.path): its saved state does not fit this request")
            }
            for (name, parameter) in bend {
                guard let saved = state.model.tensors[name], saved.shape == parameter.shape else {
                    throw TrainingError.invalidConfig("cannot continue the curve in \(folder.path): its saved bend lacks \(name)")
                }
                parameter.value = saved
            }
            do { try optimizer.restore(state.optimizer, into: bend) } catch {
                throw TrainingError.invalidConfig("cannot continue the curve in \(folder.path): \(error)")
            }
            (startEpoch, iteration, learningRate, started) = (state.epochsDone, state.iteration, state.learningRate, state.started)
            log = try MetricsLog(continuing: folder, name: "metrics", columns: columns, rows: startEpoch)
            onResume?(startEpoch)
        } else {
            try? FileManager.default.removeItem(at: ResumeState.url(in: folder))
            log = try MetricsLog(folder: folder, name: "metrics", columns: columns)
            started = ISO8601DateFormatter().string(from: Date())
        }

        /// The model's trainable weights at θ(t) (buffers stay A's: training mode does not read them).
        func place(at t: Double) {
            let w = curve.weights(at: t)
            let (wa, wb, wc) = (Float(w.a), Float(w.bend), Float(w.b))
            for ((named, end), bendParameter) in zip(zip(trainable, ends), bendParameters) {
                let (pa, pb, pc) = (end.0.pointer, bendParameter.value.pointer, end.1.pointer)
                let out = named.parameter.value.mutablePointer()
                for i in 0..<named.parameter.value.count { out[i] = wa * pa[i] + wb * pb[i] + wc * pc[i] }
            }
        }

        let labelWidth = String(config.epochs).count
        for epoch in startEpoch..<config.epochs {
            let batches = BatchSchedule(count: data.count, batchSize: config.batchSize, shuffle: true, seed: config.seed, epoch: epoch)
                .batches.filter { $0.count > 1 || data.count == 1 }
            var positions = SeededGenerator(seed: Self.positionSeed(config.seed, epoch: epoch))
            let progress = ProgressBar(total: batches.count, label: "curve epoch \(String(epoch + 1).leftPadded(labelWidth))/\(config.epochs)")
            progress.enabled = showProgress
            model.setTraining(true)
            model.setRecording(true)
            let epochStart = Date()
            var lossSum = 0.0, correct = 0, seen = 0
            for (k, indices) in batches.enumerated() {
                let rate = schedule.learningRate(base: config.learningRate, step: epoch * batches.count + k,
                                                 stepsPerEpoch: batches.count, totalSteps: config.epochs * batches.count)
                learningRate = rate
                optimizer.learningRate = rate
                let t = positions.nextUniform()
                place(at: t)
                let (inputs, targets) = data.batch(indices)
                model.zeroGradients()
                let result = TaskLoss.compute(output: model.forward(inputs), targets: targets)
                _ = model.backward(result.gradient)
                guard result.loss.isFinite else { throw TrainingError.diverged(epoch: epoch, iteration: iteration, loss: result.loss) }
                let coefficient = Float(curve.bendGradientCoefficient(at: t))
                for (named, bendParameter) in zip(trainable, bendParameters) {
                    guard var g = named.parameter.gradient else { bendParameter.gradient = nil; continue }
                    Backends.current.scale(&g, by: coefficient)
                    bendParameter.gradient = g
                }
                config.clipGradients(bendParameters)
                optimizer.step(bendParameters)
                iteration += 1
                lossSum += result.loss * Double(indices.count)
                correct += result.correct
                seen += indices.count
                var fields = String(format: "loss %.4f", lossSum / Double(seen))
                if let accuracy = data.accuracy(correct: correct, samples: seen) { fields += String(format: "  acc %5.2f%%", accuracy) }
                progress.update(k + 1, fields)
            }
            progress.finish()
            let seconds = Date().timeIntervalSince(epochStart)
            let train = EvaluationResult(lossSum: lossSum, correct: correct, samples: seen, targets: data.targets)
            try log.append([Double(epoch + 1), Double(iteration), learningRate, train.loss, train.accuracy, seconds])
            if epoch + 1 < config.epochs {
                try ResumeState(epochsDone: epoch + 1, iteration: iteration, learningRate: learningRate, previousPosition: 0,
                                configJSON: requestJSON, model: bendCheckpoint(model: model, bend: bend, spec: spec),
                                optimizer: optimizer.state(of: bend), average: [], averagedModels: 0, started: started,
                                checkpoints: [], learningRateChanges: [])
                    .write(to: ResumeState.url(in: folder))
                if stopAfterEpochs == epoch + 1 { throw Trainer.SimulatedStop() }
            }
            onEpoch?(CurveEpochSummary(epoch: epoch + 1, learningRate: learningRate, train: train, seconds: seconds))
        }
        try a.load(into: model, source: "A")
        var result = bendCheckpoint(model: model, bend: bend, spec: spec)
        result.metadata["terrain.curve"] = curve.rawValue
        result.metadata["terrain.curve.training"] = config.json
        result.metadata["terrain.curve.epochs"] = "\(config.epochs)"
        result.metadata.merge(metadata) { $1 }
        try result.write(to: output)
        try? FileManager.default.removeItem(at: ResumeState.url(in: folder))
        return result
    }

    /// The model's file with the bend as its trainable tensors (its buffers as they are).
    private func bendCheckpoint(model: Module<Float>, bend: [(name: String, parameter: Parameter<Float>)], spec: ModelSpec) -> Checkpoint {
        var checkpoint = Checkpoint(model: model, spec: spec)
        for (name, parameter) in bend { checkpoint.tensors[name] = parameter.value }
        return checkpoint
    }

    /// The seed of an epoch's positions t: its own stream, apart from the batch order's.
    static func positionSeed(_ seed: UInt64, epoch: Int) -> UInt64 {
        var generator = SeededGenerator(seed: seed ^ 0x6375_7276_655F_7421)
        return generator.next() ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
    }
}
