import TerrainLandscape
import TerrainObjectives

/// Where a request's loss is evaluated: the data set, which of its sets, a fixed subset, the
/// batch size, and how the threads share the points.
public struct EvaluationData: Equatable, Sendable, Codable {
    /// A data set's name or a data file (NPZ with x and y, or anything `DatasetCatalog` reads);
    /// nil: the one a Terrain checkpoint was trained on.
    public var dataset: String?
    /// The sets evaluated at each point (train, test or both; a data file is the train set).
    public var sets: [EvaluationSet]
    /// ONNX models and state_dicts: standardize inputs per channel with the training set's
    /// statistics (default: the data as stored).
    public var normalize: Bool
    /// A checkpoint trained on normalized inputs: fit the normalization on this data's training
    /// set instead of using the statistics the checkpoint stores.
    public var refitNormalization: Bool
    /// A fixed random subset of this many samples of each set.
    public var subset: Int?
    public var subsetSeed: UInt64
    public var batchSize: Int
    public var spread: ThreadUse
    /// The length of token sequences cut from a text corpus (`--context`, `DatasetOptions.context`);
    /// nil: a checkpoint's own (its training configuration's), else the data's default.
    public var context: Int?
    /// The arithmetic of the loss's convolutions and matrix products (`EvaluationPrecision`):
    /// fp32, or bf16 where the CPU has it (a network on the compiled path only; a bf16 run
    /// measures its own error, `PrecisionCheck`). Gradients and curvature are always Float.
    public var precision: EvaluationPrecision

    /// The largest evaluation batch.
    public static let maximumBatchSize = 1 << 20

    public init(dataset: String? = nil, sets: [EvaluationSet] = [.train], normalize: Bool = false, refitNormalization: Bool = false,
                subset: Int? = nil, subsetSeed: UInt64 = 0, batchSize: Int = 500, spread: ThreadUse = .auto, context: Int? = nil,
                precision: EvaluationPrecision = .fp32) {
        self.dataset = dataset
        self.sets = sets
        self.normalize = normalize
        self.refitNormalization = refitNormalization
        self.subset = subset
        self.subsetSeed = subsetSeed
        self.batchSize = batchSize
        self.spread = spread
        self.context = context
        self.precision = precision
    }

    /// The one set a Hessian or a sharpness is measured on.
    func singleSet(_ what: String) throws -> EvaluationSet {
        guard sets.count == 1 else { throw RequestError(what) }
        return sets[0]
    }
}

/// How a landscape's threads share the work.
public enum ThreadUse: String, Sendable, Codable, CaseIterable {
    /// Points, which measured faster for every zoo model on 2 cores (README).
    case auto
    /// Grid points side by side, one copy of the network per thread.
    case points
    /// One point at a time, each layer split over the threads.
    case layers

    /// Spreads grid points over threads unless told not to. Both ways give the same bits.
    func apply(to computation: SurfaceComputation) throws {
        if self != .layers { try computation.spreadPointsOverThreads() }
    }

    /// Whether points are spread over the threads.
    var spreadsPoints: Bool { self != .layers }
}
