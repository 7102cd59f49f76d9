import Testing
import Foundation
import TerrainLandscape
import TerrainTestSupport

/// The distributed surface protocol without MPI: rank 1's messages are captured by a fake
/// communicator and replayed to rank 0's, which must write the single-process file's bits.
@Suite("Distributed surfaces")
struct DistributedTests {
    /// A rank of a pretend world: broadcasts deliver `broadcastValues` (what rank 0 would send),
    /// sends are captured, receives come from `inbox`.
    final class FakeRank: Communicator, @unchecked Sendable {
        let rank: Int, size: Int
        var broadcasts: [[Int64]] = []
        var sent: [(to: Int, values: [Double])] = []
        var inbox: [[Double]] = []
        var barriers = 0
        init(rank: Int, size: Int) { self.rank = rank; self.size = size }
        func broadcast(_ values: inout [Int64], root: Int) {
            if rank == root { broadcasts.append(values) } else { values = broadcasts.removeFirst() }
        }
        func send(_ values: [Double], to rank: Int) { sent.append((rank, values)) }
        func receive(count: Int, wait: Bool) -> [Double]? {
            guard !inbox.isEmpty else { precondition(!wait, "rank 0 would wait for ever"); return nil }
            let message = inbox.removeFirst()
            precondition(message.count == count)
            return message
        }
        func barrier() { barriers += 1 }
        func abort(_ code: Int32) -> Never { fatalError("abort \(code)") }
    }

    @Test func chunksAreContiguousAndTheFirstRanksTakeTheRemainder() {
        #expect((0..<3).map { WorkSplit.chunk(count: 10, rank: $0, size: 3) } == [0..<4, 4..<7, 7..<10])
        #expect((0..<4).map { WorkSplit.chunk(count: 2, rank: $0, size: 4).count } == [1, 1, 0, 0])
        #expect(WorkSplit.chunk(count: 7, rank: 0, size: 1) == 0..<7)
    }

    @Test func twoRanksWriteTheSingleProcessBits() throws {
        let resume = ResumeTests()
        let whole = try resume.runner(ResumeTests.Bumpy(), path: temporaryPath("whole.h5", label: "resume")).run()

        // Rank 0 broadcasts the pending list (all 63 points); rank 1 computes the last 31.
        let path = try temporaryPath("two.h5", label: "resume")
        let root = FakeRank(rank: 0, size: 2), worker = FakeRank(rank: 1, size: 2)
        worker.broadcasts = [[0, 63], (0..<63).map(Int64.init)]
        let workerBumpy = ResumeTests.Bumpy()
        let r1 = try resume.runner(workerBumpy, path: path) { $0.communicator = worker }
        try r1.run()
        #expect(workerBumpy.calls == 31)
        #expect(worker.sent.map(\.to).allSatisfy { $0 == 0 } && worker.sent.map { Int($0.values[0]) } == Array(32..<63))
        #expect(!FileManager.default.fileExists(atPath: path), "only rank 0 touches the file")

        let rootBumpy = ResumeTests.Bumpy()
        let r0 = try resume.runner(rootBumpy, path: path) { $0.communicator = root }
        root.inbox = worker.sent.map(\.values)
        let result = try r0.run()
        #expect(rootBumpy.calls == 32)
        #expect(root.broadcasts == [[0, 63], (0..<63).map(Int64.init)])
        #expect(root.barriers == 1 && worker.barriers == 1)
        let stored = try SurfaceFile.read(from: path)
        for q in [SurfaceQuantity.trainLoss, .trainAccuracy] {
            #expect(result.values[q]!.map(\.bitPattern) == whole.values[q]!.map(\.bitPattern))
            #expect(stored.values[q]!.map(\.bitPattern) == whole.values[q]!.map(\.bitPattern))
        }
        #expect(!FileManager.default.fileExists(atPath: path + ".journal"))
    }

    @Test func aRefusedStartReachesEveryRank() throws {
        let resume = ResumeTests()
        let path = try temporaryPath("s.h5", label: "resume")
        try resume.runner(ResumeTests.Bumpy(), path: path).run()
        let root = FakeRank(rank: 0, size: 2)
        let objective = ResumeTests.Bumpy().objective()
        let computation = try SurfaceComputation(objective: objective, center: objective.parameters(),
                                                 xDirection: Direction(values: [1, 0]), yDirection: nil,
                                                 grid: SurfaceGrid(x: [0, 1]), sets: [.train])
        let other = SurfaceRunner(computation: computation, path: path, fingerprint: "another",
                                  options: .quiet { $0.communicator = root })
        #expect { try other.run() } throws: { "\($0)".contains("different request") }
        #expect(root.broadcasts == [[1, 0]])

        let worker = FakeRank(rank: 1, size: 2)
        worker.broadcasts = root.broadcasts
        let r1 = try resume.runner(ResumeTests.Bumpy(), path: temporaryPath("w.h5", label: "resume")) { $0.communicator = worker }
        #expect { try r1.run() } throws: { "\($0)".contains("rank 0 could not start") }
        #expect(worker.sent.isEmpty)
    }
}
