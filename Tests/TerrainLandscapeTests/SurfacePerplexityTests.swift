import Foundation
import Testing
import TerrainIO
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

    /// A stack of surfaces (`terrain evolve`) holds its perplexity shaped like its losses,
    /// frames first, covered by the point checksums; each frame's surface gets its slice, and
    /// the frames' captions give the perplexity of their losses.
    @Test func aStackHoldsItShapedLikeItsLosses() throws {
        let folder = try TemporaryFolder("perplexity")
        let losses = (1...12).map { Double($0) / 4 }
        var file = SurfaceFile(grid: SurfaceGrid(x: [-1, 0, 1], y: [0, 1]),
                               values: [.trainLoss: losses, .trainAccuracy: losses.map { $0 * 10 }], directionFile: "")
        file.frameCount = 2
        file.extraDatasets["frame_train_loss"] = [0.5, 0.25]
        file.extraDatasets["frame_epoch"] = [0, 1]
        file.extraDatasets["frame_iteration"] = [0, 10]
        SurfacePerplexity.add(to: &file)
        let path = folder.file("stack.h5")
        try file.write(to: path)
        let stored = try HDF5File(path: path, mode: .readOnly)
        let (shape, values) = try stored.readDoubles("train_perplexity")
        stored.close()
        #expect(shape == [2, 2, 3] && values == SurfacePerplexity.values(ofLosses: losses))
        let stack = try SurfaceStack.read(from: path)
        #expect(stack.file.damagedPoints == 0)
        #expect(stack.file.extraDatasets["train_perplexity"] == SurfacePerplexity.values(ofLosses: losses))
        #expect(stack.surface(at: 1).extraDatasets["train_perplexity"] == SurfacePerplexity.values(ofLosses: Array(losses[6...])))
        #expect(stack.frames[1].label == "epoch 1 · iteration 10 · train loss 0.25, perplexity \(String(format: "%.4g", Foundation.exp(0.25)))")
        // A surface of class labels keeps its caption.
        #expect(!StackFrame(checkpoint: "c", epoch: 1, iteration: 10, values: [.trainLoss: 0.25]).label.contains("perplexity"))
    }
}
