/// The training and test parts of one source, with the normalization that was applied to both.
public struct DatasetPair: Sendable {
    public var train: Dataset
    public var test: Dataset
    /// The statistics computed on the training set and applied to both parts, or nil if the
    /// inputs were left as read. Saved with a model so new inputs can be normalized the same way.
    public var normalization: Normalization?

    public init(train: Dataset, test: Dataset, normalization: Normalization? = nil) {
        self.train = train
        self.test = test
        self.normalization = normalization
    }
}
