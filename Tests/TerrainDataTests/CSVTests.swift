import Foundation
import Testing
import TerrainTensor
@testable import TerrainData
import TerrainIO
import TerrainTestSupport

@Suite struct CSVTests {
    @Test func readsNumbersSkippingHeaderAndBlankLines() throws {
        let text = "a, b ,label\r\n1,2.5,0\r\n\r\n-3,4e2,1\n\"5\",.25,2\n"
        let table = try CSV.read(Data(text.utf8), file: "t.csv")
        #expect(table.header == ["a", "b", "label"])
        #expect(table.rowCount == 3 && table.columnCount == 3)
        #expect(table.values == [1, 2.5, 0, -3, 400, 1, 5, 0.25, 2])
    }

    @Test func decimalsAreParsedExactly() throws {
        let table = try CSV.read(Data("0.1,123456.789,-0.003,1e-3,nan\n".utf8), file: "x")
        #expect(table.values[0] == Float(0.1) && table.values[1] == Float(123456.789))
        #expect(table.values[2] == Float(-0.003) && table.values[3] == Float(0.001))
        #expect(table.values[4].isNaN)
    }

    @Test func badCellNamesLineAndColumn() {
        let text = "1,2,0\n3,4,1\n5,abc,1\n"
        expectDatasetError("bad.csv", "line 3, column 2", "'abc' is not a number") {
            _ = try CSV.read(Data(text.utf8), file: "bad.csv")
        }
        expectDatasetError("empty-cell.csv", "line 2, column 1 is empty") {
            _ = try CSV.read(Data("1,2\n,3\n".utf8), file: "empty-cell.csv")
        }
    }

    @Test func raggedRowsThrow() {
        expectDatasetError("ragged.csv", "line 3 has 2 columns but line 1 has 3") {
            _ = try CSV.read(Data("1,2,3\n4,5,6\n7,8\n".utf8), file: "ragged.csv")
        }
    }

    @Test func sixtyFourFeaturesBecomeEightByEightImages() throws {
        let folder = try TemporaryFolder()
        var lines: [String] = []
        for row in 0..<50 { lines.append((0..<64).map { String(($0 + row) % 17) }.joined(separator: ",") + ",\(row % 10)") }
        let path = try folder.write(Gzip.compress(Data(lines.joined(separator: "\n").utf8)), to: "small.csv.gz")
        let pair = try DatasetCatalog.load(path, options: .init(normalize: false, testFraction: 0.2))
        #expect(pair.train.count == 40 && pair.test.count == 10)
        #expect(pair.train.sampleShape == [1, 8, 8])
        #expect(pair.train.classCount == 10)
        #expect(pair.train.name == "small")

        let vectors = try DatasetCatalog.load(path, options: .init(normalize: false, featureLayout: .vectors))
        #expect(vectors.train.sampleShape == [64])
        expectDatasetError("does not hold 64 features") {
            _ = try DatasetCatalog.load(path, options: .init(featureLayout: .images(channels: 3, height: 4, width: 4)))
        }
    }

    @Test func fewFeaturesStayVectorsAndRealTargetsAreRegression() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write(Data("1,2,0.5\n3,4,1.5\n5,6,2.5\n7,8,3.5\n9,10,4.5\n".utf8), to: "reg.csv")
        let pair = try DatasetCatalog.load(path, options: .init(normalize: false, testFraction: 0.4))
        #expect(pair.train.sampleShape == [2])
        #expect(pair.train.classCount == nil && pair.train.outputCount == 1)
        #expect(pair.train.count == 3 && pair.test.count == 2)
    }

    @Test func splitIsSeeded() throws {
        let folder = try TemporaryFolder()
        let rows = (0..<100).map { "\($0),\($0 % 3)" }.joined(separator: "\n")
        let path = try folder.write(Data(rows.utf8), to: "seeded.csv")
        let a = try DatasetCatalog.load(path, options: .init(normalize: false, seed: 1))
        let b = try DatasetCatalog.load(path, options: .init(normalize: false, seed: 1))
        let c = try DatasetCatalog.load(path, options: .init(normalize: false, seed: 2))
        #expect(a.test.inputs == b.test.inputs)
        #expect(a.test.inputs != c.test.inputs)
        #expect(Set(a.train.inputs.scalars).isDisjoint(with: a.test.inputs.scalars))
    }
}
