import Foundation
import Testing
import TerrainTensor
@testable import TerrainData
import TerrainIO
import TerrainTestSupport

@Suite struct IDXTests {
    @Test func readsImagesScaledToUnitInterval() throws {
        let data = Fixtures.idxImages(count: 3, rows: 4, columns: 5) { image, offset in
            image == 1 && offset == 0 ? 255 : UInt8(offset)
        }
        let images = try IDX.readImages(data, file: "images")
        #expect(images.shape == [3, 1, 4, 5])
        #expect(images[flat: 20] == 1)
        #expect(images[flat: 7] == Float(7) / 255)
        #expect(images.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func readsGzippedFilesLikePlainOnes() throws {
        let images = Fixtures.idxImages(count: 2, rows: 3, columns: 3)
        let labels = Fixtures.idxLabels([4, 2])
        #expect(try IDX.readImages(Gzip.compress(images), file: "g") == IDX.readImages(images, file: "p"))
        #expect(try IDX.readLabels(Gzip.compress(labels), file: "g") == [4, 2])
    }

    @Test(arguments: [false, true])
    func loadsAFolder(gzipped: Bool) throws {
        let folder = try TemporaryFolder()
        func put(_ data: Data, _ name: String) throws {
            try folder.write(gzipped ? Gzip.compress(data) : data, to: name + (gzipped ? ".gz" : ""))
        }
        try put(Fixtures.idxImages(count: 6, rows: 28, columns: 28), "train-images-idx3-ubyte")
        try put(Fixtures.idxLabels([5, 0, 4, 1, 9, 2]), "train-labels-idx1-ubyte")
        try put(Fixtures.idxImages(count: 2, rows: 28, columns: 28), "t10k-images-idx3-ubyte")
        try put(Fixtures.idxLabels([7, 2]), "t10k-labels-idx1-ubyte")

        let pair = try DatasetCatalog.load(folder.path, options: .init(normalize: false))
        #expect(pair.train.count == 6 && pair.test.count == 2)
        #expect(pair.train.sampleShape == [1, 28, 28])
        #expect(pair.train.targets.labels == [5, 0, 4, 1, 9, 2])
        #expect(pair.test.targets.labels == [7, 2])
        #expect(pair.train.classCount == 10)
        #expect(pair.normalization == nil)
    }

    @Test func truncatedImagesNameTheShortfall() {
        let data = Fixtures.idxImages(count: 3, rows: 4, columns: 5).prefix(16 + 10)
        expectDatasetError("train-images-idx3-ubyte", "truncated",
                           "header says 3 images of 4x5 (60 bytes) but only 10 bytes follow") {
            _ = try IDX.readImages(data, file: "train-images-idx3-ubyte")
        }
    }

    @Test func truncatedHeaderThrows() {
        expectDatasetError("x-idx3", "truncated") { _ = try IDX.readImages(Data([0, 0, 8]), file: "x-idx3") }
        expectDatasetError("x-idx3", "truncated") { _ = try IDX.readImages(Data([0, 0, 8, 3, 0, 0]), file: "x-idx3") }
    }

    @Test func absurdDimensionsAreAnErrorNotACrash() {
        var data = Data()
        data.appendBigEndian(IDX.imagesMagic)
        for _ in 0..<3 { data.appendBigEndian(UInt32.max) }
        expectDatasetError("huge", "truncated") { _ = try IDX.readImages(data, file: "huge") }
    }

    @Test func wrongMagicThrows() {
        let labels = Fixtures.idxLabels([1, 2, 3])
        expectDatasetError("labels-as-images", "wrong magic", "0x00000803", "0x00000801", "label file") {
            _ = try IDX.readImages(labels, file: "labels-as-images")
        }
        expectDatasetError("text", "wrong magic", "not an IDX file") {
            _ = try IDX.readLabels(Data("hello world".utf8), file: "text")
        }
    }

    @Test func extraBytesAreReported() {
        let data = Fixtures.idxLabels([1, 2]) + Data([9])
        expectDatasetError("labels", "header says 2 labels but 3 bytes follow") {
            _ = try IDX.readLabels(data, file: "labels")
        }
    }

    @Test func imageAndLabelCountsMustMatch() throws {
        let folder = try TemporaryFolder()
        try folder.write(Fixtures.idxImages(count: 3, rows: 2, columns: 2), to: "train-images-idx3-ubyte")
        try folder.write(Fixtures.idxLabels([1, 2]), to: "train-labels-idx1-ubyte")
        try folder.write(Fixtures.idxImages(count: 1, rows: 2, columns: 2), to: "t10k-images-idx3-ubyte")
        try folder.write(Fixtures.idxLabels([1]), to: "t10k-labels-idx1-ubyte")
        expectDatasetError("train-images-idx3-ubyte has 3 images", "train-labels-idx1-ubyte has 2 labels") {
            _ = try DatasetCatalog.load(folder.path)
        }
    }

    @Test func corruptGzipInAFolderThrows() throws {
        let folder = try TemporaryFolder()
        var broken = try Gzip.compress(Fixtures.idxImages(count: 50, rows: 8, columns: 8))
        for i in 30..<80 { broken[i] = 0xFF }
        try folder.write(broken, to: "train-images-idx3-ubyte.gz")
        try folder.write(Fixtures.idxLabels(Array(repeating: 1, count: 50)), to: "train-labels-idx1-ubyte")
        expectDatasetError("train-images-idx3-ubyte.gz", "corrupt") { _ = try DatasetCatalog.load(folder.path) }
    }

    @Test func missingTestFilesAreNamed() throws {
        let folder = try TemporaryFolder()
        try folder.write(Fixtures.idxImages(count: 1, rows: 2, columns: 2), to: "train-images-idx3-ubyte")
        try folder.write(Fixtures.idxLabels([1]), to: "train-labels-idx1-ubyte")
        expectDatasetError("t10k-images-idx3-ubyte", "no such file") { _ = try DatasetCatalog.load(folder.path) }
    }
}
