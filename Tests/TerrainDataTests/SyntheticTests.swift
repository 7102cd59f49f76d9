import Testing
import TerrainTensor
@testable import TerrainData

@Suite struct SyntheticTests {
    @Test func parabolaFollowsItsLaw() {
        let data = SyntheticData.parabola(count: 20000, seed: 1)
        #expect(data.inputs.shape == [20000, 1])
        guard case let .values(y) = data.targets else { Issue.record("parabola is a regression"); return }
        #expect(y.shape == [20000, 1])
        let x = data.inputs.scalars
        #expect(x.allSatisfy { $0 >= -1 && $0 <= 1 })
        let residuals = zip(x, y.scalars).map { Double($1 - $0 * $0) }
        let mean = residuals.reduce(0, +) / Double(residuals.count)
        let variance = residuals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(residuals.count)
        #expect(abs(mean) < 0.02)
        #expect(abs(variance - 0.25) < 0.02)
    }

    @Test func spiralsAndBlobsAreBalancedClassSets() {
        let spirals = SyntheticData.spirals(count: 101, seed: 2)
        #expect(spirals.inputs.shape == [101, 2] && spirals.classCount == 2)
        #expect(spirals.targets.labels?.filter { $0 == 1 }.count == 50)
        let blobs = SyntheticData.blobs(count: 90, classes: 5, seed: 2)
        #expect(blobs.classCount == 5 && blobs.sampleShape == [2])
        #expect(Set(blobs.targets.labels ?? []) == Set(0..<5))
    }

    @Test(arguments: ["parabola", "spirals", "blobs"])
    func namedSetsAreSeededAndSplit(name: String) throws {
        let options = DatasetOptions(seed: 9, testFraction: 0.25, syntheticCount: 200)
        let a = try DatasetCatalog.load(name, options: options)
        let b = try DatasetCatalog.load(name.uppercased(), options: options)
        #expect(a.train.count == 150 && a.test.count == 50)
        #expect(a.train.inputs == b.train.inputs && a.test.targets == b.test.targets)
        var other = options
        other.seed = 10
        #expect(try DatasetCatalog.load(name, options: other).train.inputs != a.train.inputs)
        #expect(a.train.name == name)
    }
}
