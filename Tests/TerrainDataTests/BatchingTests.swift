import Testing
import TerrainTensor
@testable import TerrainData

@Suite struct BatchScheduleTests {
    @Test func sameSeedAndEpochGiveTheSameBatches() {
        let a = BatchSchedule(count: 1000, batchSize: 32, shuffle: true, seed: 42, epoch: 3)
        let b = BatchSchedule(count: 1000, batchSize: 32, shuffle: true, seed: 42, epoch: 3)
        #expect(a == b)
        #expect(a.batches == b.batches)
    }

    @Test func differentEpochsAndSeedsDiffer() {
        let epoch0 = BatchSchedule(count: 1000, batchSize: 32, shuffle: true, seed: 42, epoch: 0)
        let epoch1 = BatchSchedule(count: 1000, batchSize: 32, shuffle: true, seed: 42, epoch: 1)
        let otherSeed = BatchSchedule(count: 1000, batchSize: 32, shuffle: true, seed: 43, epoch: 0)
        #expect(epoch0.order != epoch1.order)
        #expect(epoch0.order != otherSeed.order)
    }

    @Test(arguments: [(1000, 32), (10, 3), (7, 7), (5, 100), (0, 4)])
    func everyIndexExactlyOnce(count: Int, batchSize: Int) {
        let schedule = BatchSchedule(count: count, batchSize: batchSize, shuffle: true, seed: 1, epoch: 2)
        #expect(schedule.batches.flatMap { $0 }.sorted() == Array(0..<count))
        #expect(schedule.batchCount == (count + batchSize - 1) / batchSize)
        #expect(schedule.batches.dropLast().allSatisfy { $0.count == batchSize })
        #expect(Array(schedule).count == schedule.batchCount)
    }

    @Test func unshuffledIsInOrderAndDropLastDrops() {
        let plain = BatchSchedule(count: 10, batchSize: 4, shuffle: false, seed: 9, epoch: 5)
        #expect(plain.batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        let dropped = BatchSchedule(count: 10, batchSize: 4, shuffle: false, seed: 9, epoch: 5, dropLast: true)
        #expect(dropped.batches == [[0, 1, 2, 3], [4, 5, 6, 7]])
        #expect(BatchSchedule(count: 3, batchSize: 0, shuffle: false, seed: 0, epoch: 0).batchCount == 3)
    }
}

@Suite struct DatasetTests {
    let dataset = Dataset(
        name: "toy",
        inputs: Tensor(shape: [6, 2], scalars: (0..<12).map(Float.init)),
        targets: .classes([0, 1, 2, 0, 1, 2], count: 3))

    @Test func shapeProperties() {
        #expect(dataset.count == 6 && dataset.sampleShape == [2])
        #expect(dataset.classCount == 3 && dataset.outputCount == 3)
        let regression = Dataset(name: "r", inputs: Tensor(zeros: [4, 3]), targets: .values(Tensor(zeros: [4, 2])))
        #expect(regression.classCount == nil && regression.outputCount == 2)
    }

    @Test func batchCopiesRowsInOrder() {
        let (inputs, targets) = dataset.batch([4, 1])
        #expect(inputs.shape == [2, 2] && inputs.scalars == [8, 9, 2, 3])
        #expect(targets.labels == [1, 1])
        let values = Dataset(name: "v", inputs: Tensor(zeros: [3, 1]),
                             targets: .values(Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])))
        guard case let .values(rows) = values.batch([2, 0]).targets else { Issue.record("not values"); return }
        #expect(rows.scalars == [5, 6, 1, 2])
    }

    @Test func randomSubsetIsDeterministicSortedAndSized() {
        let big = Dataset(name: "big", inputs: Tensor(shape: [100, 1], scalars: (0..<100).map(Float.init)),
                          targets: .classes((0..<100).map { Int32($0 % 5) }, count: 5))
        let a = big.randomSubset(size: 10, seed: 5), b = big.randomSubset(size: 10, seed: 5)
        #expect(a.count == 10 && a.inputs == b.inputs)
        #expect(a.inputs.scalars == a.inputs.scalars.sorted())
        #expect(big.randomSubset(size: 10, seed: 6).inputs != a.inputs)
        #expect(big.randomSubset(size: 500, seed: 5).count == 100)
        #expect(a.classCount == 5)
    }

    @Test func randomSplitPartitionsTheSamples() {
        let split = dataset.randomSplit(testFraction: 0.5, seed: 1)
        #expect(split.train.count == 3 && split.test.count == 3)
        let all = (split.train.inputs.scalars + split.test.inputs.scalars).sorted()
        #expect(all == dataset.inputs.scalars)
        #expect(dataset.randomSplit(testFraction: 0.99, seed: 1).train.count == 1)
    }
}
