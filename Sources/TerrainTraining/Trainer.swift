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
public final class Trainer {
    public let config: TrainingConfig
    public let folder: URL
    public var showProgress = true
    /// Called after each epoch (for the CLI's summary lines).
    public var onEpoch: ((EpochSummary) -> Void)?

    public init(config: TrainingConfig, folder: URL) throws {
        try config.validate()
        self.config = config
        self.folder = folder
    }

    /// Runs the whole training on data already loaded; returns the per-epoch summaries.
    @discardableResult
    public func run(data: DatasetPair) throws -> [EpochSummary] {
        // Everything that can be wrong with the request is found before anything is written.
        let schedule = try LearningRateSchedule.parse(config.schedule, totalEpochs: config.epochs)
        // An empty set would train or score "fine" on nothing (a loss of 0).
        guard data.train.count > 0 else { throw TrainingError.invalidConfig("the training set of \(config.dataset) holds no samples") }
        guard data.test.count > 0 else { throw TrainingError.invalidConfig("the test set of \(config.dataset) holds no samples") }
        var spec = config.model
        spec.inputShape = data.train.sampleShape
        spec.outputs = data.train.outputCount
        // What the shapes alone do not tell (a gpt's token ids and per-position targets).
        try DataFit.check(spec, model: spec.architecture, fits: data, dataName: config.dataset)
        let model: Module<Float> = try spec.build()
        let checkpoints = folder.appendingPathComponent("checkpoints")
        do { try FileManager.default.createDirectory(at: checkpoints, withIntermediateDirectories: true) } catch {
            throw TrainingError.cannotWrite(checkpoints.path)
        }
        let optimizer = makeOptimizer()
        let sam = config.samRadius.map { samStepper(optimizer, rho: $0) }
        let averager = config.swaStart.map { _ in StochasticWeightAverage<Float>() }

        let epochColumns = ["epoch", "iteration", "lr", "train_loss", "train_acc", "test_loss", "test_acc",
                            "weight_norm", "seconds", "images_per_s"]
        let epochLog = try MetricsLog(folder: folder, name: "metrics", columns: epochColumns)
        let iterationLog = try MetricsLog(folder: folder, name: "iterations",
                                          columns: ["iteration", "epoch", "lr", "loss", "acc", "weight_norm"], jsonLines: false)
        var record = RunRecord(config: config, model: spec, normalization: data.normalization)
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

        try save("checkpoints/epoch-0000.safetensors", epoch: 0, iteration: 0)
        var summaries: [EpochSummary] = []
        var iteration = 0
        var learningRate = config.learningRate
        var previousPosition = 0.0
        let labelWidth = String(config.epochs).count
        for epoch in 0..<config.epochs {
            let batches = BatchSchedule(count: data.train.count, batchSize: config.batchSize, shuffle: true,
                                        seed: config.seed, epoch: epoch).batches.filter { $0.count > 1 || data.train.count == 1 }
            let progress = ProgressBar(total: batches.count,
                                       label: "epoch \(String(epoch + 1).leftPadded(labelWidth))/\(config.epochs)")
            progress.enabled = showProgress
            model.setTraining(true)
            model.setRecording(true)
            let epochStart = Date()
            var lossSum = 0.0, correct = 0, seen = 0
            for (b, indices) in batches.enumerated() {
                // The schedule is read at the middle of the iteration: a warm-up never gives a
                // zero first step, and epoch-based milestones still fall between epochs.
                let rate = schedule.learningRate(base: config.learningRate,
                                                 epoch: Double(epoch) + (Double(b) + 0.5) / Double(batches.count))
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
                try iterationLog.append([Double(iteration), Double(epoch + 1), rate, batchResult.loss,
                                         data.train.classCount == nil ? nil : 100 * Double(batchResult.correct) / Double(indices.count), norm])
                if config.saveEveryIterations > 0 && iteration % config.saveEveryIterations == 0 {
                    try save(String(format: "checkpoints/iter-%08d.safetensors", iteration), epoch: epoch + 1, iteration: iteration)
                }
                let speed = Double(seen) / max(Date().timeIntervalSince(epochStart), 1e-9)
                var fields = String(format: "loss %.4f", lossSum / Double(seen))
                if data.train.classCount != nil { fields += String(format: "  acc %5.2f%%", 100 * Double(correct) / Double(seen)) }
                fields += String(format: "  %.0f img/s", speed)
                progress.update(b + 1, fields)
            }
            progress.finish()
            if let averager, let start = config.swaStart, epoch >= start { averager.update(from: model) }
            let seconds = Date().timeIntervalSince(epochStart)
            let train = EvaluationResult(loss: lossSum / Double(max(seen, 1)),
                                         accuracy: data.train.classCount == nil ? nil : 100 * Double(correct) / Double(max(seen, 1)),
                                         count: seen)
            let test = Evaluation.evaluate(model, on: data.test)
            let summary = EpochSummary(epoch: epoch + 1, learningRate: learningRate, train: train, test: test,
                                       weightNorm: weightNorm(model), seconds: seconds,
                                       imagesPerSecond: Double(seen) / max(seconds, 1e-9))
            summaries.append(summary)
            try epochLog.append([Double(epoch + 1), Double(iteration), learningRate, train.loss, train.accuracy,
                                 test.loss, test.accuracy, summary.weightNorm, seconds, summary.imagesPerSecond])
            let isLast = epoch + 1 == config.epochs
            if isLast || (config.saveEveryEpochs > 0 && (epoch + 1) % config.saveEveryEpochs == 0) {
                try save(String(format: "checkpoints/epoch-%04d.safetensors", epoch + 1), epoch: epoch + 1, iteration: iteration,
                         extra: metricsMetadata(summary))
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
            try save("swa.safetensors", epoch: config.epochs, iteration: iteration,
                     extra: ["terrain.test_loss": "\(test.loss)", "terrain.test_acc": test.accuracy.map { "\($0)" } ?? ""])
        }
        record.finalTrain = last.train
        record.finalTest = last.test
        record.finished = ISO8601DateFormatter().string(from: Date())
        try record.write(to: folder.appendingPathComponent("run.json"))
        return summaries
    }

    func makeOptimizer() -> any Optimizer<Float> {
        switch config.optimizer {
        case .sgd:
            return SGD<Float>(learningRate: config.learningRate, momentum: config.momentum, nesterov: config.nesterov,
                              weightDecay: config.weightDecay)
        case .adam, .adamw:
            return Adam<Float>(learningRate: config.learningRate, beta1: config.betas[0], beta2: config.betas[1],
                               weightDecay: config.weightDecay, decoupled: config.optimizer == .adamw)
        }
    }

    /// SAM around the configured optimizer (opens the existential to get its concrete type).
    func samStepper<O: Optimizer>(_ base: O, rho: Double) -> ([Parameter<O.Scalar>], () -> Double) -> Double {
        let sam = SAM(base: base, rho: rho)
        return { sam.step($0, computeGradients: $1) }
    }

    func metricsMetadata(_ s: EpochSummary) -> [String: String] {
        var m = ["terrain.train_loss": "\(s.train.loss)", "terrain.test_loss": "\(s.test.loss)", "terrain.lr": "\(s.learningRate)"]
        if let a = s.train.accuracy { m["terrain.train_acc"] = "\(a)" }
        if let a = s.test.accuracy { m["terrain.test_acc"] = "\(a)" }
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
