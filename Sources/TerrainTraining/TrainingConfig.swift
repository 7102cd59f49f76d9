import Foundation
import TerrainModels
import TerrainData
import TerrainNN
import TerrainTensor

/// Everything a training run was asked to do. Stored in every checkpoint's metadata and in
/// `run.json`, so that a run can be understood, and repeated bit for bit, from its files.
public struct TrainingConfig: Codable, Sendable, Equatable {
    public var model: ModelSpec
    /// A dataset name or path, as `DatasetCatalog.load` takes it.
    public var dataset: String
    public var epochs: Int = 10
    public var batchSize: Int = 128
    public var optimizer: OptimizerKind = .sgd
    public var learningRate: Double = 0.1
    public var momentum: Double = 0.9
    public var nesterov: Bool = false
    public var weightDecay: Double = 5e-4
    /// Adam's β1 and β2.
    public var betas: [Double] = [0.9, 0.999]
    /// Adam's ε (nil: 1e-8, PyTorch's default, and not written, so earlier runs keep their bytes).
    public var epsilon: Double?
    /// Which parameters weight decay applies to (nil: all of them, PyTorch's default).
    public var decayScope: WeightDecayScope?
    /// Clip the global L2 norm of the gradients to this before each step (nil: no clipping).
    public var clipNorm: Double?
    /// Clamp every gradient element to [−clipValue, clipValue] before each step (nil: no clamping).
    public var clipValue: Double?
    /// Learning-rate schedule in `LearningRateSchedule.parse` syntax.
    public var schedule: String = "constant"
    /// SAM's neighbourhood radius ρ; nil trains without SAM.
    public var samRadius: Double?
    /// First epoch (0-based) whose end is folded into a stochastic weight average; nil: no SWA.
    public var swaStart: Int?
    /// Checkpoint every this many epochs (0: only the last).
    public var saveEveryEpochs: Int = 1
    /// Also checkpoint every this many iterations (0: never): the trajectory for PCA plots.
    public var saveEveryIterations: Int = 0
    /// Seed of data shuffling (the model has its own in `model.seed`).
    public var seed: UInt64 = 0
    /// Train on a fixed random subset of this many samples.
    public var trainSubset: Int?
    /// Evaluate on a fixed random subset of this many test samples.
    public var testSubset: Int?
    /// Per-channel standardization with the training set's statistics.
    public var normalize: Bool = true
    /// How a CSV's last column is read (nil: `TargetKind.automatic`, and not written, so the
    /// configurations of earlier runs keep their bytes).
    public var targets: TargetKind?
    /// The context of token sequences (`--context`, `DatasetOptions.context`); nil: not given
    /// (and not written, so the configurations of earlier runs keep their bytes).
    public var context: Int?

    public init(model: ModelSpec, dataset: String) {
        self.model = model
        self.dataset = dataset
    }

    public var json: String { canonicalJSON(self) }

    public init(json: String) throws {
        self = try JSONDecoder().decode(TrainingConfig.self, from: Data(json.utf8))
    }
}

extension TrainingConfig {
    /// The most epochs and the largest batch a run may ask for.
    public static let maximumEpochs = 1_000_000
    public static let maximumBatchSize = 1 << 20

    /// Checks every number of the request before any work: finite, in range, consistent (the
    /// optimizers' own preconditions are never reached from user input). Messages name the
    /// command-line option, the value and the allowed range.
    public func validate() throws {
        func fail(_ text: String) -> TrainingError { .invalidConfig(text) }
        guard (1...Self.maximumEpochs).contains(epochs) else { throw fail("--epochs must be between 1 and \(Self.maximumEpochs), got \(epochs)") }
        guard (1...Self.maximumBatchSize).contains(batchSize) else {
            throw fail("--batch-size must be between 1 and \(Self.maximumBatchSize), got \(batchSize)")
        }
        guard learningRate.isFinite, learningRate > 0 else { throw fail("--lr must be a positive number, got \(learningRate)") }
        guard momentum.isFinite, momentum >= 0, momentum < 1 else { throw fail("--momentum must be in [0, 1), got \(momentum)") }
        if nesterov {
            guard optimizer == .sgd, momentum > 0 else { throw fail("--nesterov needs sgd with a positive --momentum") }
        }
        guard weightDecay.isFinite, weightDecay >= 0 else { throw fail("--weight-decay must be a finite number ≥ 0, got \(weightDecay)") }
        guard betas.count == 2, betas.allSatisfy({ $0.isFinite && $0 >= 0 && $0 < 1 }) else {
            throw fail("--betas must be two numbers in [0, 1), got \(betas)")
        }
        if let epsilon {
            guard epsilon.isFinite, epsilon >= 0 else { throw fail("--eps must be a finite number ≥ 0, got \(epsilon)") }
        }
        if let clipNorm {
            guard clipNorm.isFinite, clipNorm > 0 else { throw fail("--clip-norm must be a positive number, got \(clipNorm)") }
        }
        if let clipValue {
            guard clipValue.isFinite, clipValue > 0 else { throw fail("--clip-value must be a positive number, got \(clipValue)") }
        }
        if let samRadius {
            guard samRadius.isFinite, samRadius > 0 else { throw fail("--sam (the radius ρ) must be a positive number, got \(samRadius)") }
        }
        if let swaStart {
            guard swaStart >= 0, swaStart < epochs else { throw fail("--swa-start must be an epoch between 1 and --epochs (\(epochs)), got \(swaStart &+ 1)") }
        }
        guard saveEveryEpochs >= 0 else { throw fail("--save-every must be 0 or more, got \(saveEveryEpochs)") }
        guard saveEveryIterations >= 0 else { throw fail("--save-every-iterations must be 0 or more, got \(saveEveryIterations)") }
        if let trainSubset, trainSubset < 1 { throw fail("--train-subset must be at least 1, got \(trainSubset)") }
        if let testSubset, testSubset < 1 { throw fail("--test-subset must be at least 1, got \(testSubset)") }
        do { _ = try LearningRateSchedule.parse(schedule, totalEpochs: epochs) } catch { throw fail("--schedule: \(error)") }
        do { try model.validateOptions() } catch { throw fail("\(error)") }
    }
}

extension TrainingConfig {
    /// Whether the run sets anything beyond the original options: gradient clipping, a weight
    /// decay scope, Adam's ε, or a per-step schedule.
    public var usesModernSettings: Bool {
        clipNorm != nil || clipValue != nil || decayScope != nil || epsilon != nil
            || ((try? LearningRateSchedule.parse(schedule, totalEpochs: epochs))?.isPerStep ?? false)
    }

    /// The optimizer settings in one line, as `terrain info` and the training log show them:
    /// `adamw lr 0.001 betas 0.9,0.95 eps 1e-08 weight decay 0.1 (weights only), schedule
    /// warmup-cosine:100:0:0, clip norm 1`.
    public var optimizerSummary: String {
        var parts = ["\(optimizer.rawValue) lr \(learningRate)"]
        switch optimizer {
        case .sgd: parts[0] += " momentum \(momentum)" + (nesterov ? " nesterov" : "")
        case .adam, .adamw: parts[0] += " betas \(betas.map { "\($0)" }.joined(separator: ",")) eps \(epsilon ?? 1e-8)"
        }
        parts[0] += " weight decay \(weightDecay)" + (decayScope == .weights ? " (weights only)" : "")
        let schedule = (try? LearningRateSchedule.parse(schedule, totalEpochs: epochs).description) ?? schedule
        parts.append("schedule \(schedule)")
        if let clipNorm { parts.append("clip norm \(clipNorm)") }
        if let clipValue { parts.append("clip value \(clipValue)") }
        return parts.joined(separator: ", ")
    }
}

public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    case sgd, adam, adamw
}

extension TrainingConfig {
    /// The configured optimizer, as `Trainer` and `CurveTrainer` step with it.
    public func makeOptimizer() -> any Optimizer<Float> {
        switch optimizer {
        case .sgd:
            return SGD<Float>(learningRate: learningRate, momentum: momentum, nesterov: nesterov,
                              weightDecay: weightDecay, decayScope: decayScope ?? .all)
        case .adam, .adamw:
            return Adam<Float>(learningRate: learningRate, beta1: betas[0], beta2: betas[1],
                               epsilon: epsilon ?? 1e-8, weightDecay: weightDecay,
                               decoupled: optimizer == .adamw, decayScope: decayScope ?? .all)
        }
    }

    /// Clips the gradients as configured: element values first, then the global norm.
    public func clipGradients(_ parameters: [Parameter<Float>]) {
        if let clipValue { GradientClipping.clipValue(parameters, clipValue: clipValue) }
        if let clipNorm { GradientClipping.clipNorm(parameters, maxNorm: clipNorm) }
    }
}
