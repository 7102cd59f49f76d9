import TerrainTensor

extension Dataset {
    /// A seeded random split into training and test parts, for sources without their own split.
    ///
    /// The test part gets `testFraction` of the samples (rounded, but never all of them while
    /// there are any); both parts keep the samples' original order. The same
    /// `(testFraction, seed)` always gives the same split.
    public func randomSplit(testFraction: Double, seed: UInt64) -> DatasetPair {
        let fraction = testFraction.isFinite ? min(max(testFraction, 0), 1) : 0
        let testCount = min(Int((Double(count) * fraction).rounded()), max(count - 1, 0))
        var generator = SeededGenerator(seed: seed)
        let order = generator.permutation(count)
        let testIndices = order.prefix(testCount).sorted()
        let trainIndices = order.dropFirst(testCount).sorted()
        return DatasetPair(train: subset(trainIndices), test: subset(testIndices))
    }
}
