/// The training and test parts of one source, with the normalization that was applied to both.
public struct DatasetPair: Sendable {
    public var train: Dataset
    public var test: Dataset
    /// The statistics computed on the training set and applied to both parts, or nil if the
    /// inputs were left as read. Saved with a model so new inputs can be normalized the same way.
    public var normalization: Normalization?
    /// What reading the source found that a user should hear, or nil: a text corpus says how
    /// many bytes it read and whether they were UTF-8 text ("story.txt: read 1234 bytes (not
    /// UTF-8 text; modelled as bytes), …").
    public var note: String?

    public init(train: Dataset, test: Dataset, normalization: Normalization? = nil) {
        self.train = train
        self.test = test
        self.normalization = normalization
    }
}
