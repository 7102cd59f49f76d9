import Foundation
import Testing
import TerrainTensor
@testable import TerrainData
import TerrainIO
import TerrainTestSupport

/// Tests on real data that every machine `make deps` has set up: Debian's Fashion-MNIST
/// (`dataset-fashion-mnist`, the official 60k/10k split as gzipped IDX files), and a CSV in
/// scikit-learn's digits layout made from it (`Fixtures.digitsLayoutCSV`). Nothing here reads
/// data beside the checkout: a user's clone has none.
@Suite(.serialized) struct RealDatasetTests {
    @Test(.enabled(if: Fixtures.hasFashionMNIST, "needs apt-get install dataset-fashion-mnist"))
    func fashionMNISTFromItsFolder() throws {
        let start = Date()
        let pair = try DatasetCatalog.load(Fixtures.fashionMNISTFolder, options: .init(normalize: false))
        print("Fashion-MNIST loaded in \(String(format: "%.3f", Date().timeIntervalSince(start))) s")
        #expect(pair.train.count == 60000)
        #expect(pair.test.count == 10000)
        #expect(pair.train.inputs.shape == [60000, 1, 28, 28])
        // The official order's first labels (ankle boot, T-shirt, T-shirt, dress, T-shirt; …).
        #expect(pair.train.targets.labels?.prefix(5) == [9, 0, 0, 3, 0])
        #expect(pair.test.targets.labels?.prefix(5) == [9, 2, 1, 1, 6])
        #expect(pair.train.classCount == 10 && pair.train.outputCount == 10)
        let pixels = pair.train.inputs.scalars
        #expect(pixels.min() == 0 && pixels.max() == 1)
    }

    @Test(.enabled(if: Fixtures.hasFashionMNIST, "needs apt-get install dataset-fashion-mnist"))
    func fashionMNISTNormalizedWithSubsets() throws {
        let options = DatasetOptions(trainSubset: 1000, testSubset: 500, seed: 3)
        let pair = try DatasetCatalog.load(Fixtures.fashionMNISTFolder, options: options)
        #expect(pair.train.count == 1000 && pair.test.count == 500)
        let normalization = try #require(pair.normalization)
        // Fashion-MNIST's training-set statistics: mean 0.2860, standard deviation 0.3530.
        #expect(abs(normalization.mean[0] - 0.2860) < 0.001)
        #expect(abs(normalization.std[0] - 0.3530) < 0.001)
        let again = try DatasetCatalog.load(Fixtures.fashionMNISTFolder, options: options)
        #expect(again.train.targets == pair.train.targets)
    }

    @Test(.enabled(if: Fixtures.hasFashionMNIST, "needs apt-get install dataset-fashion-mnist"))
    func fashionMNISTByName() throws {
        let pair = try DatasetCatalog.load("fashion-mnist", options: .init(normalize: false))
        #expect(pair.train.count == 60000 && pair.test.count == 10000)
        #expect(pair.train.sampleShape == [1, 28, 28])
        #expect(pair.train.classCount == 10)
        let labels = try #require(pair.train.targets.labels)
        #expect(Set(labels) == Set(0..<10))
        #expect(pair.train.name == "fashion-mnist")
    }

    @Test(.enabled(if: Fixtures.hasFashionMNIST, "needs apt-get install dataset-fashion-mnist"))
    func digitsLayoutCSV() throws {
        let folder = try TemporaryFolder()
        let file = try Fixtures.digitsLayoutCSV(in: folder, name: "digits.csv.gz")
        let pair = try DatasetCatalog.load(file, options: .init(normalize: false, seed: 7))
        #expect(pair.train.count + pair.test.count == 1797)
        #expect(pair.test.count == 359)  // 20 % of 1797, rounded
        #expect(pair.train.inputs.shape == [pair.train.count, 1, 8, 8])
        #expect(pair.train.classCount == 10)
        let labels = (pair.train.targets.labels ?? []) + (pair.test.targets.labels ?? [])
        #expect(Set(labels) == Set(0..<10))
        let pixels = pair.train.inputs.scalars + pair.test.inputs.scalars
        #expect(pixels.min() == 0 && pixels.max() == 16)
        #expect(pair.train.name == "digits")
    }

    @Test(.enabled(if: Fixtures.hasFashionMNIST, "needs apt-get install dataset-fashion-mnist"))
    func digitsByNameUnderTerrainData() throws {
        let folder = try TemporaryFolder()
        try Fixtures.digitsLayoutCSV(in: folder, name: "digits/digits.csv.gz")
        let digits = try #require(NamedDataset.find("digits"))
        let raw = try digits.load(options: DatasetOptions(), environment: ["TERRAIN_DATA": folder.path])
        let pair = DatasetCatalog.prepare(raw, options: DatasetOptions())
        #expect(pair.train.count + pair.test.count == 1797)
        let normalization = try #require(pair.normalization)
        #expect(normalization.mean.count == 1)
        // Without $TERRAIN_DATA nothing is found relative to the working directory.
        #expect(throws: DatasetError.self) { try digits.load(options: DatasetOptions(), environment: [:]) }
    }
}
