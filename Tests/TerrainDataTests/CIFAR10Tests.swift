import Foundation
import Testing
import TerrainTensor
@testable import TerrainData
import TerrainIO
import TerrainTestSupport

@Suite struct CIFAR10Tests {
    /// `count` records whose label is `(first + i) % 10` and whose pixel p of channel c is `(i + c + p) % 256`.
    static func records(_ count: Int, firstLabel: Int = 0) -> Data {
        var data = Data()
        for i in 0..<count {
            data.append(UInt8((firstLabel + i) % 10))
            data.append(contentsOf: (0..<3072).map { UInt8((i + $0 / 1024 + $0 % 1024) % 256) })
        }
        return data
    }

    @Test func readsRecordsChannelMajor() throws {
        let (images, labels) = try CIFAR10.readBatch(Self.records(3, firstLabel: 8), file: "b")
        #expect(images.shape == [3, 3, 32, 32])
        #expect(labels == [8, 9, 0])
        // Record 2, channel 1 (green), pixel 5: (2 + 1 + 5) / 255.
        #expect(images[flat: 2 * 3072 + 1024 + 5] == Float(8) / 255)
    }

    @Test func loadsAFolderInOrderOfBatchNumber() throws {
        let folder = try TemporaryFolder()
        try folder.write(Self.records(3, firstLabel: 5), to: "cifar-10-batches-bin/data_batch_2.bin")
        try folder.write(Gzip.compress(Self.records(4)), to: "cifar-10-batches-bin/data_batch_1.bin.gz")
        try folder.write(Self.records(2, firstLabel: 1), to: "cifar-10-batches-bin/test_batch.bin")
        let pair = try DatasetCatalog.load(folder.path, options: .init(normalize: false))
        #expect(pair.train.count == 7 && pair.test.count == 2)
        #expect(pair.train.targets.labels == [0, 1, 2, 3, 5, 6, 7])
        #expect(pair.test.targets.labels == [1, 2])
        #expect(pair.train.sampleShape == [3, 32, 32] && pair.train.classCount == 10)

        let normalized = try DatasetCatalog.load(folder.path)
        #expect(normalized.normalization?.mean.count == 3)
    }

    @Test func sizeNotAMultipleOfTheRecordThrows() {
        expectDatasetError("data_batch_1.bin", "not a multiple of the 3073-byte") {
            _ = try CIFAR10.readBatch(Self.records(2) + Data([1, 2, 3]), file: "data_batch_1.bin")
        }
        expectDatasetError("empty.bin", "empty") { _ = try CIFAR10.readBatch(Data(), file: "empty.bin") }
    }

    @Test func labelOutOfRangeThrows() {
        var data = Self.records(2)
        data[3073] = 42
        expectDatasetError("b.bin", "record 1 has label 42") { _ = try CIFAR10.readBatch(data, file: "b.bin") }
    }

    @Test func missingTestBatchIsNamed() throws {
        let folder = try TemporaryFolder()
        try folder.write(Self.records(1), to: "data_batch_1.bin")
        expectDatasetError("test_batch.bin") { _ = try DatasetCatalog.load(folder.path) }
    }
}
