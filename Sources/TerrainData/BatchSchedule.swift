import TerrainTensor

/// The mini-batches of one epoch: index arrays covering `0..<count`, each index exactly once.
///
/// With `shuffle` the order is a permutation drawn from `(seed, epoch)`, so the same pair always
/// gives the same batches (a training run can be replayed or resumed mid-way), and different
/// epochs give different orders. Without `shuffle` the batches are consecutive runs `0, 1, 2, …`.
public struct BatchSchedule: Sendable, Equatable, Sequence {
    /// The order in which samples are visited this epoch.
    public let order: [Int]
    /// The batches, in order; all have `batchSize` indices except possibly the last.
    public let batches: [[Int]]

    /// - Parameters:
    ///   - count: the number of samples; negative counts are treated as 0.
    ///   - batchSize: indices per batch; sizes below 1 are treated as 1.
    ///   - dropLast: whether to leave out a final batch smaller than `batchSize`.
    public init(count: Int, batchSize: Int, shuffle: Bool, seed: UInt64, epoch: Int, dropLast: Bool = false) {
        let count = Swift.max(count, 0), batchSize = Swift.max(batchSize, 1)
        if shuffle {
            var generator = SeededGenerator(
                seed: SeedMixing.seed(seed, for: .batchOrder, index: UInt64(bitPattern: Int64(epoch))))
            order = generator.permutation(count)
        } else {
            order = Array(0..<count)
        }
        var batches: [[Int]] = []
        batches.reserveCapacity((count + batchSize - 1) / batchSize)
        for start in stride(from: 0, to: count, by: batchSize) {
            let end = Swift.min(start + batchSize, count)
            if dropLast && end - start < batchSize { break }
            batches.append(Array(order[start..<end]))
        }
        self.batches = batches
    }

    /// The number of batches this epoch.
    public var batchCount: Int { batches.count }

    public func makeIterator() -> IndexingIterator<[[Int]]> { batches.makeIterator() }
}
