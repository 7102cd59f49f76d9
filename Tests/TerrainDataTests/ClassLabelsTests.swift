import Testing
import Foundation
import TerrainData
import TerrainIO
import TerrainTestSupport

/// The targets of a CSV are decided explicitly: labels when most values are whole numbers (and
/// then every value must be a valid label), a regression otherwise or when asked.
@Suite("Class labels")
struct ClassLabelsTests {
    func csv(_ folder: TemporaryFolder, _ labels: [String], name: String) throws -> String {
        let rows = labels.enumerated().map { "\($0.offset),\($0.offset * 2),\($0.element)" }
        return try folder.write(Data(rows.joined(separator: "\n").utf8), to: name)
    }

    @Test func suspiciousLabelsAreErrorsNotRegressions() throws {
        let folder = try TemporaryFolder()
        for bad in ["-1", "1e9", "9999.5", "10000"] {
            let labels = (0..<20).map { String($0 % 3) }.enumerated().map { $0.offset == 7 ? bad : $0.element }
            let path = try csv(folder, labels, name: "bad\(bad).csv")
            expectDatasetError("row 8", "class labels") { _ = try DatasetCatalog.load(path, options: .init(normalize: false)) }
        }
    }

    @Test func realValuesAreARegressionAndAskingDecides() throws {
        let folder = try TemporaryFolder()
        let real = try csv(folder, (0..<20).map { String(Double($0) * 0.37 + 0.01) }, name: "real.csv")
        #expect(try DatasetCatalog.load(real, options: .init(normalize: false)).train.classCount == nil)
        let labels = (0..<20).map { String($0 % 3) }.enumerated().map { $0.offset == 7 ? "9999.5" : $0.element }
        let mixed = try csv(folder, labels, name: "mixed.csv")
        var options = DatasetOptions(normalize: false)
        options.targets = .regression
        let regression = try DatasetCatalog.load(mixed, options: options)
        #expect(regression.train.classCount == nil && regression.train.outputCount == 1)
        options.targets = .classes
        expectDatasetError("row 1 is 0.01", "asked to be classes") { _ = try DatasetCatalog.load(real, options: options) }
        let whole = try csv(folder, (0..<20).map { String($0 % 4) }, name: "whole.csv")
        #expect(try DatasetCatalog.load(whole, options: .init(normalize: false)).train.classCount == 4)
    }

    /// One stray large label must not invent hundreds of empty classes.
    @Test func mostlyEmptyClassesAreRefused() throws {
        let folder = try TemporaryFolder()
        let labels = (0..<30).map { String($0 % 10) }.enumerated().map { $0.offset == 12 ? "255" : $0.element }
        let path = try csv(folder, labels, name: "stray.csv")
        expectDatasetError("label 255 of sample 12", "256 classes") { _ = try DatasetCatalog.load(path, options: .init(normalize: false)) }
    }

    @Test func emptySetsAndZeroSubsetsAreErrors() throws {
        expectDatasetError("testSubset") { _ = try DatasetCatalog.load("blobs", options: .init(testSubset: 0)) }
        expectDatasetError("trainSubset") { _ = try DatasetCatalog.load("blobs", options: .init(trainSubset: 0)) }
        let folder = try TemporaryFolder()
        let empty = NPZ.write(arrays: [("x_train", NumpyArray([Float](), shape: [0, 2])), ("y_train", NumpyArray([Int64](), shape: [0])),
                                       ("x_test", NumpyArray([Float](repeating: 0, count: 6), shape: [3, 2])),
                                       ("y_test", NumpyArray([Int64](repeating: 0, count: 3), shape: [3]))])
        let path = try folder.write(empty, to: "empty.npz")
        expectDatasetError("no training samples") { _ = try DatasetCatalog.load(path) }
    }
}
