import Testing
import Foundation
import TerrainTensor
import TerrainLandscape
import TerrainTestSupport

/// Paths in a plane (`PlanePathComputation`, `terrain connect`'s curve and line) and their
/// barriers (`PathBarrier`).
@Suite("Paths in a plane")
struct PlanePathTests {
    @Test func barrierIsTheLargestRiseAboveTheChord() throws {
        // L(t) = 1 + t + 4t(1 − t): the chord from 1 to 2 is 1 + t, so the barrier is 4·¼ at t = ½.
        let t = (0...10).map { Double($0) / 10 }
        let hump = try #require(PathBarrier.of(t: t, losses: t.map { 1 + $0 + 4 * $0 * (1 - $0) }))
        #expect(abs(hump.barrier - 1) < 1e-12 && hump.at == 0.5)
        // Below the chord everywhere: the ends, rise 0.
        let valley = try #require(PathBarrier.of(t: t, losses: t.map { 1 - $0 * (1 - $0) }))
        #expect(valley.barrier == 0)
        // Points not computed are skipped; a diverged one is an infinite barrier.
        var gaps = t.map { 1 + $0 + 4 * $0 * (1 - $0) }
        gaps[5] = .nan
        #expect(try #require(PathBarrier.of(t: t, losses: gaps)).barrier < 1)
        gaps[3] = .infinity
        #expect(try #require(PathBarrier.of(t: t, losses: gaps)).barrier == .infinity)
        // No ends, no chord.
        #expect(PathBarrier.of(t: [0, 1], losses: [.nan, 1]) == nil)
        #expect(PathBarrier.of(t: [0], losses: [1]) == nil)
    }

    /// Each path's values are the objective at θ₀ + α·dx + β·dy; the first path is the file's
    /// surface, the others `NAME_quantity`, and a file read back restores every path.
    @Test func pathsAreEvaluatedAndStoredByName() throws {
        let objective = ClosureObjective(groups: .tiling([("w", [2], .weight)]), initial: [0, 0]) { w, set in
            ObjectiveValue(loss: w[0] * w[0] + 3 * w[1] + (set == .test ? 1 : 0), accuracy: 50)
        }
        let t = [0, 0.5, 1.0]
        let paths = [PlanePathComputation.Path(name: "curve", coordinates: t.map { ($0 * $0, 2 * $0 * (1 - $0)) }),
                     PlanePathComputation.Path(name: "line", coordinates: t.map { ($0, 0) })]
        let computation = try PlanePathComputation(objective: objective, center: [1, 0], xDirection: Direction(values: [1, 0]),
                                                   yDirection: Direction(values: [0, 1]), positions: t, paths: paths, sets: [.train, .test])
        #expect(computation.pointCount == 6)
        let path = try makeTemporaryFolder("paths").appendingPathComponent("curve.h5").path
        let runner = SurfaceRunner(computation: computation, path: path, fingerprint: computation.fingerprint(data: "bowl"), options: .quiet())
        let file = try runner.run()
        // The curve at t = ½: (α, β) = (¼, ½), θ = (1.25, 0.5).
        #expect(file.values[.trainLoss] == [1, 1.25 * 1.25 + 1.5, 4])
        #expect(file.values[.testLoss] == [2, 1.25 * 1.25 + 2.5, 5])
        #expect(file.extraDatasets["line_train_loss"] == [1, 2.25, 4])
        #expect(file.extraDatasets["line_test_acc"] == [50, 50, 50])
        let read = try SurfaceFile.read(from: path)
        #expect(read.extraDatasets["line_train_loss"] == [1, 2.25, 4])
        let again = try PlanePathComputation(objective: objective, center: [1, 0], xDirection: Direction(values: [1, 0]),
                                             yDirection: Direction(values: [0, 1]), positions: t, paths: paths, sets: [.train, .test])
        again.restore(from: read)
        #expect(again.pendingPoints.isEmpty)
        #expect(throws: LandscapeError.self) {
            try PlanePathComputation(objective: objective, center: [1, 0], xDirection: Direction(values: [1, 0]),
                                     yDirection: Direction(values: [0, 1]), positions: [0, 1], paths: paths, sets: [.train])
        }
    }
}
