import TerrainTensor
import TerrainIO

/// Choices made while loading a dataset: normalization, subsets, the seed, and the shape of
/// sources that do not fix one themselves.
public struct DatasetOptions: Sendable, Equatable {
    /// Standardize inputs per channel with statistics of the full training set (see `Normalization`).
    public var normalize: Bool
    /// Keep only a fixed random subset of this many training samples (drawn with `seed`).
    public var trainSubset: Int?
    /// Keep only a fixed random subset of this many test samples (drawn with `seed`).
    public var testSubset: Int?
    /// The seed of every random choice: the train/test split, the subsets, synthetic samples.
    public var seed: UInt64
    /// The share of samples held out for testing, for sources without their own split
    /// (CSV files, NPZ files with only `x`/`y`, synthetic sets). Must be in `[0, 1)`.
    public var testFraction: Double
    /// The number of samples (train and test together) of a synthetic set.
    public var syntheticCount: Int
    /// The number of classes of the `blobs` set.
    public var blobClasses: Int
    /// The noise level of a synthetic set, or nil for its default (see `SyntheticData`).
    public var syntheticNoise: Double?
    /// How rows of feature values (CSV, two-dimensional arrays) are shaped.
    public var featureLayout: FeatureLayout
    /// Whether the targets are class labels or regression values (see `TargetKind`).
    public var targets: TargetKind = .automatic
    /// The context T of token sequences (`--context`): a file that is not an NPZ archive is then
    /// read as a byte corpus cut into windows of T + 1 bytes (`TokenSequences`), and token arrays
    /// must hold T + 1 tokens per sequence. nil: other data are read as they always were, and
    /// text corpora (`fortunes`) take `TokenSequences.defaultContext`.
    public var context: Int?

    public init(normalize: Bool = true, trainSubset: Int? = nil, testSubset: Int? = nil, seed: UInt64 = 0,
                testFraction: Double = 0.2, syntheticCount: Int = 1000, blobClasses: Int = 3,
                syntheticNoise: Double? = nil, featureLayout: FeatureLayout = .automatic) {
        self.normalize = normalize
        self.trainSubset = trainSubset
        self.testSubset = testSubset
        self.seed = seed
        self.testFraction = testFraction
        self.syntheticCount = syntheticCount
        self.blobClasses = blobClasses
        self.syntheticNoise = syntheticNoise
        self.featureLayout = featureLayout
    }

    /// Throws `DatasetError.invalidOption` for values that make no sense.
    public func validate() throws {
        guard testFraction >= 0, testFraction < 1 else {
            throw DatasetError.invalidOption("testFraction must be in [0, 1), got \(testFraction)")
        }
        if let size = trainSubset, size < 1 {
            throw DatasetError.invalidOption("trainSubset must be at least 1, got \(size)")
        }
        if let size = testSubset, size < 1 {
            throw DatasetError.invalidOption("testSubset must be at least 1, got \(size)")
        }
        guard syntheticCount >= 2 else {
            throw DatasetError.invalidOption("syntheticCount must be at least 2, got \(syntheticCount)")
        }
        guard blobClasses >= 1 else {
            throw DatasetError.invalidOption("blobClasses must be at least 1, got \(blobClasses)")
        }
        if let context, !(1...TokenSequences.maximumContext).contains(context) {
            throw DatasetError.invalidOption("--context must be between 1 and \(TokenSequences.maximumContext), got \(context)")
        }
        if let noise = syntheticNoise, !(noise >= 0 && noise.isFinite) {
            throw DatasetError.invalidOption("syntheticNoise must be a finite non-negative number, got \(noise)")
        }
    }
}

/// How a row of F feature values becomes one sample's input.
public enum FeatureLayout: Sendable, Equatable {
    /// Square single-channel images when F is a perfect square of a side of at least 8
    /// (64 values → 1×8×8 like scikit-learn's digits, 784 → 1×28×28 like MNIST as CSV);
    /// otherwise flat vectors `[F]`.
    case automatic
    /// Always flat vectors `[F]`.
    case vectors
    /// Images of the given shape, stored channel-major; `channels·height·width` must equal F.
    case images(channels: Int, height: Int, width: Int)

    /// The sample shape for rows of `featureCount` values, or nil if an explicit image shape
    /// does not hold that many values.
    func sampleShape(featureCount: Int) -> [Int]? {
        switch self {
        case .vectors:
            return [featureCount]
        case let .images(channels, height, width):
            guard channels > 0, height > 0, width > 0,
                  checkedElementCount([channels, height, width]) == featureCount else { return nil }
            return [channels, height, width]
        case .automatic:
            let side = Int(Double(featureCount).squareRoot().rounded())
            return side >= 8 && side * side == featureCount ? [1, side, side] : [featureCount]
        }
    }
}
