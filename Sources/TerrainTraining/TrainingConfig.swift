import Foundation
import TerrainModels

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

    public init(model: ModelSpec, dataset: String) {
        self.model = model
        self.dataset = dataset
    }

    public var json: String { canonicalJSON(self) }

    public init(json: String) throws {
        self = try JSONDecoder().decode(TrainingConfig.self, from: Data(json.utf8))
    }
}

public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    case sgd, adam, adamw
}
