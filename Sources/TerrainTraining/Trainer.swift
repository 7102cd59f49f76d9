import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainModels
import TerrainIO

public enum TrainingError: Error, CustomStringConvertible {
    case invalidConfig(String)
    case cannotWrite(String)
    case diverged(epoch: Int, iteration: Int, loss: Double)

    public var description: String {
        switch self {
        case .invalidConfig(let why): "invalid training configuration: \(why)"
        case .cannotWrite(let path): "cannot write \(path) (check the folder exists, permissions and free space)"
        case .diverged(let epoch, let iteration, let loss):
            "training diverged: loss \(loss) at epoch \(epoch + 1), iteration \(iteration); lower the learning rate (the checkpoints written so far are kept)"
        }
    }
}

/// What a finished epoch measured.
public struct EpochSummary: Sendable {
    public var epoch: Int
    public var learningRate: Double
    public var train: EvaluationResult
    public var test: EvaluationResult
    public var weightNorm: Double
    public var seconds: Double
    public var imagesPerSecond: Double
}

/// Trains a zoo model on a dataset and records the run in a folder:
///
///     run.json                 configuration, learning-rate changes, checkpoints, final metrics
///     metrics.csv / .jsonl     per epoch: lr, train and test loss/accuracy, weight norm, speed
///     iterations.csv           per iteration: lr, batch loss/accuracy, weight norm (Li et al. Fig. 8)
///     checkpoints/epoch-NNNN.safetensors   epoch 0 is the initialization
///     checkpoints/iter-NNNNNNNN.safetensors (with --save-every-iterations: the trajectory)
///     final.safetensors        the weights after the last epoch (swa.safetensors with SWA)
///     resume.safetensors       while unfinished: the state to continue from (`ResumeState`)
///
/// Each step: forward and backward on a batch, gradient clipping (`clipValue`, then
/// `clipNorm`, on every gradient the optimizer or SAM uses), the scheduled learning rate, the
/// optimizer's update. A stopped run continues with `run(data:resume: true)` from the end of its
/// last completed epoch, with the same result as a run that never stopped.
public final class Trainer {
    public let config: TrainingConfig
    public let folder: URL
    public var showProgress = true
    /// Called after each epoch (for the CLI's summary lines).
    public var onEpoch: ((EpochSummary) -> Void)?
    /// Called when a resumed run has been checked and restored, with the epochs it had done.
    public var onResume: ((Int) -> Void)?

    /// Tests: stop (throwing `SimulatedStop`) once this many epochs are done and the resume
    /// state is written, as a run killed at that point would.
    var stopAfterEpochs: Int?
    struct SimulatedStop: Error {}

    public init(config: TrainingConfig, folder: URL) throws {
        try config.validate()
        self.config = config
        self.folder = folder
    }

    /// Runs the whole training on data already loaded; returns the per-epoch summaries (of the
    /// epochs this call trained).
    ///
    /// - Parameter resume: continue the unfinished run in `folder` (its `resume.safetensors`)
    ///   instead of starting afresh; its configuration must equal `config`.
    @discardableResult
    public func run(data: DatasetPair, resume: Bool = false) throws -> [EpochSummary] {
        // Everything that can be wrong with the request is found before anything is written.
        let schedule = try LearningRateSchedule.parse(config.schedule, totalEpochs: config.epochs)
        // An empty set would train or score "fine" on nothing (a loss of 0).
        guard data.train.count > 0 else { throw TrainingError.invalidConfig("the training set of \(config.dataset) holds no samples") }
        guard data.test.count > 0 else { throw TrainingError.invalidConfig("the test set of \(config.dataset) holds no samples") }
        var spec = config.model
        spec.inputShape = data.train.sampleShape
        spec.outputs = data.train.outputCount
        // What the shapes alone do not tell, checked before anything is written: a gpt needs
        // token-sequence targets, a token model logits for every position over the whole
        // vocabulary and a context that holds the data's sequences.
        do { try DataFit.check(spec, model: spec.architecture, fits: data, dataName: config.dataset) } catch {
            throw TrainingError.invalidConfig("\(error)")
        }
        let model: Module<Float> = try spec.build()
        let resumed = resume ? try resumeState(spec: spec) : nil
        // A fresh run in the folder of a stopped one: that run's state no longer applies.
        if !resume { try? FileManager.default.removeItem(at: ResumeState.url(in: folder)) }
        let checkpoints = folder.appendingPathComponent("checkpoints")
        do { try FileManager.default.createDirectory(at: checkpoints, withIntermediateDirectories: true) } catch {
            throw TrainingError.cannotWrite(checkpoints.path)
        }
        let optimizer = makeOptimizer()
        let sam = config.samRadius.map { samStepper(optimizer, rho: $0) }
        let averager = config.swaStart.map { _ in StochasticWeightAverage<Float>() }

        // Token sequences add their perplexity, exp(loss), after the columns every run has.
        let tokens = data.train.targets.isTokens
        let epochColumns = ["epoch", "iteration", "lr", "train_loss", "train_acc", "test_loss", "test_acc",
                            "weight_norm", "seconds", "images_per_s"] + (tokens ? ["train_perplexity", "test_perplexity"] : [])
        let iterationColumns = ["iteration", "epoch", "lr", "loss", "acc", "weight_norm"] + (tokens ? ["perplexity"] : [])
        let epochLog: MetricsLog, iterationLog: MetricsLog
        var record = RunRecord(config: config, model: spec, normalization: data.normalization)
        if let resumed {
            epochLog = try MetricsLog(continuing: folder, name: "metrics", columns: epochColumns, rows: resumed.epochsDone)
            iterationLog = try MetricsLog(continuing: folder, name: "iterations", columns: iterationColumns,
                                          rows: resumed.iteration, jsonLines: false)
            do {
                try resumed.model.load(into: model, source: ResumeState.url(in: folder).path)
                try optimizer.restore(resumed.optimizer, into: model.namedParameters().filter(\.parameter.isTrainable))
            } catch {
                throw TrainingError.invalidConfig("cannot resume from \(ResumeState.url(in: folder).path): \(error)")
            }
            if let averager { averager.restore(resumed.average, averagedModels: resumed.averagedModels) }
            record.started = resumed.started
            record.checkpoints = resumed.checkpoints
            record.learningRateChanges = resumed.learningRateChanges
            onResume?(resumed.epochsDone)
        } else {
            epochLog = try MetricsLog(folder: folder, name: "metrics", columns: epochColumns)
            iterationLog = try MetricsLog(folder: folder, name: "iterations", columns: iterationColumns, jsonLines: false)
        }
        let normalizationJSON = data.normalization.map(canonicalJSON)

        func save(_ name: String, epoch: Int, iteration: Int, extra: [String: String] = [:]) throws {
            var meta = ["terrain.training": config.json, "terrain.epoch": "\(epoch)", "terrain.iteration": "\(iteration)",
                        "terrain.dataset": config.dataset]
            if let normalizationJSON { meta["terrain.normalization"] = normalizationJSON }
            meta.merge(extra) { $1 }
            let url = folder.appendingPathComponent(name)
            try Checkpoint(model: model, spec: spec, metadata: meta).write(to: url)
            record.checkpoints.append(.init(file: name, epoch: epoch, iteration: iteration))
        }

        if resumed == nil { try save("checkpoints/epoch-0000.safetensors", epoch: 0, iteration: 0) }
        var summaries: [EpochSummary] = []
        var iteration = resumed?.iteration ?? 0
        var learningRate = resumed?.learningRate ?? config.learningRate
        var previousPosition = resumed?.previousPosition ?? 0.0
        let labelWidth = String(config.epochs).count
        func batchesOf(epoch: Int) -> [[Int]] {
            BatchSchedule(count: data.train.count, batchSize: config.batchSize, shuffle: true,
                          seed: config.seed, epoch: epoch).batches.filter { $0.count > 1 || data.train.count == 1 }
        }
        // Every epoch has the same number of steps (the batch sizes do not depend on the order).
        let stepsPerEpoch = batchesOf(epoch: 0).count
        for epoch in (resumed?.epochsDone ?? 0)..<config.epochs {
            let batches = batchesOf(epoch: epoch)
            let progress = ProgressBar(total: batches.count,
                                       label: "epoch \(String(epoch + 1).leftPadded(labelWidth))/\(config.epochs)")
            progress.enabled = showProgress
            model.setTraining(true)
            model.setRecording(true)
            let epochStart = Date()
            var lossSum = 0.0, correct = 0, seen = 0
            for (b, indices) in batches.enumerated() {
                // Epoch-based schedules are read at the middle of the iteration: a warm-up never
                // gives a zero first step, and milestones still fall between epochs.
                let rate = schedule.learningRate(base: config.learningRate, step: epoch * stepsPerEpoch + b,
                                                 stepsPerEpoch: stepsPerEpoch, totalSteps: config.epochs * stepsPerEpoch)
                // The schedule's jumps (multi-step drops) are recorded: trajectory plots mark
                // them. Every iteration's rate is in iterations.csv.
                let position = Double(epoch) + Double(b) / Double(batches.count)
                if iteration > 0 && schedule.discontinuities.contains(where: { $0 > previousPosition && $0 <= position }) {
                    record.learningRateChanges.append(.init(epoch: epoch, iteration: iteration, from: learningRate, to: rate))
                }
                previousPosition = position
                learningRate = rate
                optimizer.learningRate = rate
                let (inputs, targets) = data.train.batch(indices)
                var batchResult: LossResult<Float>!
                let step = {
                    model.zeroGradients()
                    let result = TaskLoss.compute(output: model.forward(inputs), targets: targets)
                    _ = model.backward(result.gradient)
                    self.clipGradients(model.trainableParameters)
                    if batchResult == nil { batchResult = result }
                    return result.loss
                }
                if let sam {
                    _ = sam(model.trainableParameters, step)
                } else {
                    _ = step()
                    optimizer.step(model.trainableParameters)
                }
                guard batchResult.loss.isFinite else {
                    throw TrainingError.diverged(epoch: epoch, iteration: iteration, loss: batchResult.loss)
                }
                iteration += 1
                lossSum += batchResult.loss * Double(indices.count)
                correct += batchResult.correct
                seen += indices.count
                let norm = weightNorm(model)
                let batchPerplexity: [Double?] = tokens ? [EvaluationResult.perplexity(batchResult.loss)] : []
                try iterationLog.append([Double(iteration), Double(epoch + 1), rate, batchResult.loss,
                                         data.train.accuracy(correct: batchResult.correct, samples: indices.count), norm] + batchPerplexity)
                if config.saveEveryIterations > 0 && iteration % config.saveEveryIterations == 0 {
                    try save(String(format: "checkpoints/iter-%08d.safetensors", iteration), epoch: epoch + 1, iteration: iteration)
                }
                let speed = Double(seen) / max(Date().timeIntervalSince(epochStart), 1e-9)
                var fields = String(format: "loss %.4f", lossSum / Double(seen))
                if let accuracy = data.train.accuracy(correct: correct, samples: seen) { fields += String(format: "  acc %5.2f%%", accuracy) }
                fields += "  " + Throughput.label(samplesPerSecond: speed, targets: data.train.targets)
                progress.update(b + 1, fields)
            }
            progress.finish()
            if let averager, let start = config.swaStart, epoch >= start { averager.update(from: model) }
            let seconds = Date().timeIntervalSince(epochStart)
            let train = EvaluationResult(lossSum: lossSum, correct: correct, samples: seen, targets: data.train.targets)
            let test = Evaluation.evaluate(model, on: data.test)
            let summary = EpochSummary(epoch: epoch + 1, learningRate: learningRate, train: train, test: test,
                                       weightNorm: weightNorm(model), seconds: seconds,
                                       imagesPerSecond: Double(seen) / max(seconds, 1e-9))
            summaries.append(summary)
            let perplexities: [Double?] = tokens ? [train.perplexity, test.perplexity] : []
            try epochLog.append([Double(epoch + 1), Double(iteration), learningRate, train.loss, train.accuracy,
                                 test.loss, test.accuracy, summary.weightNorm, seconds, summary.imagesPerSecond] + perplexities)
            let isLast = epoch + 1 == config.epochs
            if isLast || (config.saveEveryEpochs > 0 && (epoch + 1) % config.saveEveryEpochs == 0) {
                try save(String(format: "checkpoints/epoch-%04d.safetensors", epoch + 1), epoch: epoch + 1, iteration: iteration,
                         extra: metricsMetadata(summary))
            }
            if !isLast {
                try ResumeState(epochsDone: epoch + 1, iteration: iteration, learningRate: learningRate,
                                previousPosition: previousPosition, configJSON: config.json,
                                model: Checkpoint(model: model, spec: spec, metadata: normalizationJSON.map { ["terrain.normalization": $0] } ?? [:]),
                                optimizer: optimizer.state(of: model.namedParameters().filter(\.parameter.isTrainable)),
                                average: averager?.averagedParameters ?? [], averagedModels: averager?.averagedModels ?? 0,
                                started: record.started, checkpoints: record.checkpoints,
                                learningRateChanges: record.learningRateChanges)
                    .write(to: ResumeState.url(in: folder))
                if stopAfterEpochs == epoch + 1 { throw SimulatedStop() }
            }
            onEpoch?(summary)
        }
        let last = summaries.last!
        try save("final.safetensors", epoch: config.epochs, iteration: iteration, extra: metricsMetadata(last))
        if let averager, averager.averagedModels > 0 {
            averager.apply(to: model)
            let batches = BatchSchedule(count: data.train.count, batchSize: config.batchSize, shuffle: false, seed: 0, epoch: 0)
                .batches.lazy.map { data.train.batch($0).inputs }
            StochasticWeightAverage<Float>.recomputeBatchNormStatistics(model, batches: batches)
            let test = Evaluation.evaluate(model, on: data.test)
            record.swaTest = test
            var extra = ["terrain.test_loss": "\(test.loss)", "terrain.test_acc": test.accuracy.map { "\($0)" } ?? ""]
            if let perplexity = test.perplexity { extra["terrain.test_perplexity"] = "\(perplexity)" }
            try save("swa.safetensors", epoch: config.epochs, iteration: iteration, extra: extra)
        }
        record.finalTrain = last.train
        record.finalTest = last.test
        record.finished = ISO8601DateFormatter().string(from: Date())
        try record.write(to: folder.appendingPathComponent("run.json"))
        // Finished: nothing to resume (and the folder holds only the run's results).
        try? FileManager.default.removeItem(at: ResumeState.url(in: folder))
        return summaries
    }

    /// The resume state of the run in `folder`, checked against this trainer's configuration.
    func resumeState(spec: ModelSpec) throws -> ResumeState {
        let url = ResumeState.url(in: folder)
        guard FileManager.default.fileExists(atPath: url.path) else {
            let finished = FileManager.default.fileExists(atPath: folder.appendingPathComponent("run.json").path)
            throw TrainingError.invalidConfig("cannot resume \(folder.path): " + (finished
                ? "the run has finished (run.json is written and it keeps no resume state)"
                : "it has no \(ResumeState.fileName) (a run can be resumed once it has finished its first epoch)"))
        }
        let state = try ResumeState.read(from: url)
        guard state.configJSON == config.json else {
            let stored = (try? TrainingConfig(json: state.configJSON)).map(differences) ?? "unreadable"
            throw TrainingError.invalidConfig("cannot resume \(folder.path): it was started with other options (\(stored)); "
                                              + "resume with the command line that started it, plus --resume")
        }
        guard state.model.spec == spec else {
            throw TrainingError.invalidConfig("cannot resume \(folder.path): its model (\(state.model.spec.json)) is not this data's \(spec.json)")
        }
        guard (1..<config.epochs).contains(state.epochsDone) else {
            throw TrainingError.invalidConfig("cannot resume \(folder.path): its state is after epoch \(state.epochsDone) of \(config.epochs)")
        }
        return state
    }

    /// The settings in which `stored` differs from this trainer's configuration, as "key: stored → asked".
    private func differences(_ stored: TrainingConfig) -> String {
        func fields(_ c: TrainingConfig) -> [String: String] {
            guard let object = try? JSONSerialization.jsonObject(with: Data(c.json.utf8)) as? [String: Any] else { return [:] }
            return object.mapValues { value in
                (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]))
                    .map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
            }
        }
        let old = fields(stored), new = fields(config)
        return Set(old.keys).union(new.keys).sorted().compactMap { key in
            old[key] == new[key] ? nil : "\(key): \(old[key] ?? "unset") → \(new[key] ?? "unset")"
        }.joined(separator: "; ")
    }

    /// Clips the gradients as configured (`TrainingConfig.clipGradients`).
    func clipGradients(_ parameters: [Parameter<Float>]) { config.clipGradients(parameters) }

    func makeOptimizer() -> any Optimizer<Float> { config.makeOptimizer() }

    /// SAM around the configured optimizer (opens the existential to get its concrete type).
    func samStepper<O: Optimizer>(_ base: O, rho: Double) -> ([Parameter<O.Scalar>], () -> Double) -> Double {
        let sam = SAM(base: base, rho: rho)
        return { sam.step($0, computeGradients: $1) }
    }

    func metricsMetadata(_ s: EpochSummary) -> [String: String] {
        var m = ["terrain.train_loss": "\(s.train.loss)", "terrain.test_loss": "\(s.test.loss)", "terrain.lr": "\(s.learningRate)"]
        if let a = s.train.accuracy { m["terrain.train_acc"] = "\(a)" }
        if let a = s.test.accuracy { m["terrain.test_acc"] = "\(a)" }
        if let p = s.train.perplexity { m["terrain.train_perplexity"] = "\(p)" }
        if let p = s.test.perplexity { m["terrain.test_perplexity"] = "\(p)" }
        return m
    }
}

/// ‖θ‖₂ over all trainable parameters.
public func weightNorm<T: TensorScalar>(_ model: Module<T>) -> Double {
    model.trainableParameters.reduce(0.0) { $0 + Backends.current.dot($1.value, $1.value) }.squareRoot()
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
