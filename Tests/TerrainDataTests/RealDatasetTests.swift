import Foundation
import Testing
import TerrainTensor
@testable import TerrainData

/// Tests on the real datasets of developer machines; each is skipped where its data is absent.
@Suite(.serialized) struct RealDatasetTests {
    @Test(.enabled(if: Fixtures.hasMNIST, "needs ../shared/datasets/mnist"))
    func mnistFromItsFolder() throws {
        let start = Date()
        let pair = try DatasetCatalog.load(Fixtures.mnistFolder, options: .init(normalize: false))
        print("MNIST loaded in \(String(format: "%.3f", Date().timeIntervalSince(start))) s")
        #expect(pair.train.count == 60000)
        #expect(pair.test.count == 10000)
        #expect(pair.train.inputs.shape == [60000, 1, 28, 28])
        #expect(pair.train.targets.labels?.prefix(5) == [5, 0, 4, 1, 9])
        #expect(pair.test.targets.labels?.prefix(5) == [7, 2, 1, 0, 4])
        #expect(pair.train.classCount == 10 && pair.train.outputCount == 10)
        let pixels = pair.train.inputs.scalars
        #expect(pixels.min() == 0 && pixels.max() == 1)
        #expect(pair.train.name == "mnist")
    }

    @Test(.enabled(if: Fixtures.hasMNIST, "needs ../shared/datasets/mnist"))
    func mnistNormalizedWithSubsets() throws {
        let options = DatasetOptions(trainSubset: 1000, testSubset: 500, seed: 3)
        let pair = try DatasetCatalog.load(Fixtures.mnistFolder, options: options)
        #expect(pair.train.count == 1000 && pair.test.count == 500)
        let normalization = try #require(pair.normalization)
        // The well-known MNIST statistics.
        #expect(abs(normalization.mean[0] - 0.1307) < 0.001)
        #expect(abs(normalization.std[0] - 0.3081) < 0.001)
        let again = try DatasetCatalog.load(Fixtures.mnistFolder, options: options)
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
    }

    @Test(.enabled(if: Fixtures.hasDigits, "needs ../shared/datasets/digits"))
    func digitsCSV() throws {
        let pair = try DatasetCatalog.load(Fixtures.digitsFile, options: .init(normalize: false, seed: 7))
        #expect(pair.train.count + pair.test.count == 1797)
        #expect(pair.test.count == 359)  // 20 % of 1797, rounded
        #expect(pair.train.inputs.shape == [pair.train.count, 1, 8, 8])
        #expect(pair.train.classCount == 10)
        let labels = (pair.train.targets.labels ?? []) + (pair.test.targets.labels ?? [])
        #expect(Set(labels) == Set(0..<10))
        let pixels = pair.train.inputs.scalars
        #expect(pixels.min() == 0 && pixels.max() == 16)
        #expect(pair.train.name == "digits")
    }

    @Test(.enabled(if: Fixtures.hasDigits && FileManager.default.fileExists(atPath: "../shared/datasets/digits"),
                   "needs ../shared/datasets/digits relative to the current directory"))
    func digitsByName() throws {
        let pair = try DatasetCatalog.load("digits")
        #expect(pair.train.count + pair.test.count == 1797)
        let normalization = try #require(pair.normalization)
        #expect(normalization.mean.count == 1)
    }
}
