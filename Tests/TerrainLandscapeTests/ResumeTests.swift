import Testing
import Foundation
import TerrainLandscape
import TerrainTestSupport

@Suite("Resumable surfaces")
struct ResumeTests {
    struct Interrupted: Error {}

    /// A bumpy 2-parameter function; `failAfter` makes the run stop like a killed process.
    final class Bumpy {
        var calls = 0
        var failAfter: Int?
        /// Points with w₀ beyond this have a NaN loss (the ordinary NaN, as data would give it).
        var nanBeyond: Double?
        func objective() -> ClosureObjective {
            ClosureObjective(groups: .tiling([("w", [2], .weight)]), initial: [0.3, -0.2]) { [self] w, _ in
                calls += 1
                if let limit = failAfter, calls > limit { throw Interrupted() }
                if let edge = nanBeyond, w[0] > edge { return ObjectiveValue(loss: .nan, accuracy: 10) }
                return ObjectiveValue(loss: sin(3 * w[0]) * cos(2 * w[1]) + w[0] * w[0], accuracy: 50 + 10 * w[1])
            }
        }
    }

    /// A runner that rewrites the file after every point, unless `change` says otherwise.
    func runner(_ bumpy: Bumpy, path: String, _ change: (inout SurfaceRunner.Options) -> Void = { _ in }) throws -> SurfaceRunner {
        let objective = bumpy.objective()
        let grid = SurfaceGrid(x: try Axis.parse("-1:1:9").coordinates, y: try Axis.parse("-1:1:7").coordinates)
        let dx = Direction(values: [1, 0.2]), dy = Direction(values: [-0.3, 1])
        let computation = try SurfaceComputation(objective: objective, center: objective.parameters(), xDirection: dx,
                                                 yDirection: dy, grid: grid, sets: [.train])
        let r = SurfaceRunner(computation: computation, path: path,
                              fingerprint: SurfaceRunner.fingerprint(center: objective.parameters(), directions: [dx, dy], grid: grid, sets: [.train], data: "bumpy"),
                              options: .quiet { $0.consolidationInterval = 0; change(&$0) })
        return r
    }

    @Test(arguments: [0.0, 1000.0])
    func interruptedRunsResumeToTheSameBits(consolidation: Double) throws {
        let whole = try runner(Bumpy(), path: temporaryPath("whole.h5", label: "resume")).run()

        let path = try temporaryPath("resumed.h5", label: "resume")
        let first = Bumpy()
        first.failAfter = 23
        let r1 = try runner(first, path: path) { $0.consolidationInterval = consolidation }   // 1000: only the journal holds the points
        #expect(throws: Interrupted.self) { try r1.run() }
        let partial = try SurfaceFile.read(from: path)
        #expect(partial.values[.trainLoss]!.contains { $0.isNaN })

        let second = Bumpy()
        let r2 = try runner(second, path: path)
        let resumed = try r2.run()
        #expect(r2.resumedPoints == 23)
        #expect(second.calls == 63 - 23)
        for q in [SurfaceQuantity.trainLoss, .trainAccuracy] {
            #expect(resumed.values[q]!.map(\.bitPattern) == whole.values[q]!.map(\.bitPattern))
        }
        #expect(!FileManager.default.fileExists(atPath: path + ".journal"))
    }

    /// NaN points are stored as NaN (the file, the journal) and a resume keeps them instead of
    /// computing them again, to the same bits as an uninterrupted run.
    @Test(arguments: [0.0, 1000.0])
    func nanPointsAreKeptByAResume(consolidation: Double) throws {
        let wholeBumpy = Bumpy()
        wholeBumpy.nanBeyond = 0.5
        let whole = try runner(wholeBumpy, path: temporaryPath("whole.h5", label: "resume")).run()
        let nanPoints = whole.values[.trainLoss]!.filter(SurfaceValue.isInvalid).count
        #expect(nanPoints > 5 && nanPoints < 40)
        #expect(!whole.values[.trainLoss]!.contains(where: SurfaceValue.isNotComputed))

        let path = try temporaryPath("resumed.h5", label: "resume")
        let first = Bumpy()
        (first.failAfter, first.nanBeyond) = (40, 0.5)
        let r1 = try runner(first, path: path) { $0.consolidationInterval = consolidation }
        #expect(throws: Interrupted.self) { try r1.run() }
        let second = Bumpy()
        second.nanBeyond = 0.5
        let r2 = try runner(second, path: path)
        let resumed = try r2.run()
        #expect(r2.resumedPoints == 40 && second.calls == 63 - 40)
        let reread = try SurfaceFile.read(from: path)
        for q in [SurfaceQuantity.trainLoss, .trainAccuracy] {
            #expect(resumed.values[q]!.map(\.bitPattern) == whole.values[q]!.map(\.bitPattern))
            #expect(reread.values[q]!.map(\.bitPattern) == whole.values[q]!.map(\.bitPattern))
        }
        // A third run finds nothing to do: the NaN points are computed.
        let third = Bumpy()
        third.nanBeyond = 0.5
        _ = try runner(third, path: path).run()
        #expect(third.calls == 0)
    }

    @Test func aDifferentRequestIsNotMixedIn() throws {
        let path = try temporaryPath("s.h5", label: "resume")
        try runner(Bumpy(), path: path).run()
        let objective = Bumpy().objective()
        let grid = SurfaceGrid(x: [0, 1])
        let computation = try SurfaceComputation(objective: objective, center: objective.parameters(),
                                                 xDirection: Direction(values: [1, 0]), yDirection: nil, grid: grid, sets: [.train])
        let other = SurfaceRunner(computation: computation, path: path, fingerprint: "another", options: .quiet())
        #expect { try other.run() } throws: { "\($0)".contains("different request") }
        try other.run(overwrite: true)
        #expect(try SurfaceFile.read(from: path).grid.x == [0, 1])
    }

    @Test func aCorruptJournalTailIsIgnored() throws {
        let path = try temporaryPath("j.journal", label: "resume")
        let journal = PointJournal(path: path, fields: 2, fingerprint: "abc")
        try journal.reset()
        try journal.append(point: 3, values: [1.5, 2.5])
        try journal.append(point: 4, values: [3.5, .nan])
        journal.close()
        // A record cut short by a kill.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([1, 2, 3, 4, 5]))
        try handle.close()
        let records = PointJournal(path: path, fields: 2, fingerprint: "abc").replay()
        #expect(records.map(\.point) == [3, 4])
        #expect(records[0].values == [1.5, 2.5] && records[1].values[1].isNaN)
        #expect(PointJournal(path: path, fields: 2, fingerprint: "other").replay().isEmpty)
    }
}
