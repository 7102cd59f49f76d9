import Foundation
import Testing
import TerrainLandscape
import TerrainTestSupport

/// Perplexity beside a next-token loss surface: exp(loss), NaN kept bit for bit, in the file.
@Suite struct SurfacePerplexityTests {
    @Test func perplexityIsTheExponentialOfTheLossAndKeepsNaNs() {
        let losses = [0, 1.5, .infinity, .nan, SurfaceValue.invalid]
        let perplexities = SurfacePerplexity.values(ofLosses: losses)
        #expect(perplexities[0] == 1 && perplexities[1] == Foundation.exp(1.5) && perplexities[2] == .infinity)
        #expect(perplexities[3].bitPattern == Double.nan.bitPattern)
        #expect(perplexities[4].bitPattern == SurfaceValue.invalid.bitPattern, "computed, and NaN, stays so")
    }

    @Test func aSurfaceFileHoldsItBesideEachLoss() throws {
        let folder = try TemporaryFolder("perplexity")
        var file = SurfaceFile(grid: SurfaceGrid(x: [-1, 0, 1], y: [0, 1]),
                               values: [.trainLoss: [1, 2, 3, 4, 5, 6], .trainAccuracy: [10, 20, 30, 40, 50, 60]], directionFile: "")
        SurfacePerplexity.add(to: &file)
        #expect(file.extraDatasets["test_perplexity"] == nil, "no test loss, no test perplexity")
        let path = folder.file("s.h5")
        try file.write(to: path)
        let read = try SurfaceFile.read(from: path)
        #expect(read.extraDatasets["train_perplexity"] == (1...6).map { Foundation.exp(Double($0)) })
        #expect(read.damagedPoints == 0)
    }
}
