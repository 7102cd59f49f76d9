import Testing
import Foundation
import TerrainTensor
@testable import TerrainLandscape

/// Blocks of products (`SymmetricOperator.apply(block:)`): Hutchinson's probes and the spectral
/// density's Lanczos runs asked for several products at once give the estimates of one product at
/// a time, bit for bit, when the block's products are the single ones.
@Suite("Probe blocks")
struct ProbeBlockTests {
    /// A dense matrix that records the size of every block it is asked for.
    final class RecordingOperator: SymmetricOperator {
        let matrix: DenseSymmetricMatrix
        private(set) var blocks: [Int] = []
        init(_ matrix: DenseSymmetricMatrix) { self.matrix = matrix }
        var dimension: Int { matrix.dimension }
        func apply(_ v: [Double]) throws -> [Double] {
            blocks.append(1)
            return try matrix.apply(v)
        }
        func apply(block: [[Double]]) throws -> [[Double]] {
            blocks.append(block.count)
            return try block.map { try matrix.apply($0) }
        }
        var products: Int { blocks.reduce(0, +) }
    }

    static func operatorUnderTest() throws -> DenseSymmetricMatrix {
        try CurvatureAlgorithmTests.matrix(spectrum: CurvatureAlgorithmTests.spectrum, seed: 5).a
    }

    @Test func defaultBlockApplyIsOneApplyPerVector() throws {
        let a = try Self.operatorUnderTest()
        var g = SeededGenerator(seed: 4)
        let vectors = (0..<3).map { _ in (0..<a.dimension).map { _ in g.nextNormal() } }
        let block = try a.apply(block: vectors)
        #expect(block.count == 3)
        for (v, product) in zip(vectors, block) { #expect(try a.apply(v).map(\.bitPattern) == product.map(\.bitPattern)) }
    }

    /// A fixed budget (tolerance 0) and a stopping rule that fires mid-block: the same estimate,
    /// error, samples and probe count as probes one at a time, and at most block − 1 products
    /// more.
    @Test func hutchinsonInBlocksEqualsOneAtATime() throws {
        let a = try Self.operatorUnderTest()
        for (maxProbes, tolerance) in [(13, 0.0), (100, 0.02), (100, 1e-3)] {
            let single = RecordingOperator(a)
            let one = try HutchinsonTrace.estimate(of: single, maxProbes: maxProbes, tolerance: tolerance, seed: 9)
            #expect(single.blocks.allSatisfy { $0 == 1 })
            for block in [2, 4, 8] {
                let recorded = RecordingOperator(a)
                var reported: [Int] = []
                let blocked = try HutchinsonTrace.estimate(of: recorded, maxProbes: maxProbes, tolerance: tolerance, seed: 9, block: block,
                                                           progress: { reported.append($0) })
                #expect(blocked == one, "block \(block), tolerance \(tolerance)")
                #expect(reported == Array(1...one.probes))
                #expect(recorded.products >= one.probes && recorded.products < one.probes + block)
                #expect(recorded.products <= maxProbes)
                #expect(recorded.blocks.dropLast().allSatisfy { $0 == block })
            }
        }
    }

    /// Probes in lockstep (groups of 1, 3 and more than the probes): the same nodes and weights,
    /// bit for bit, as each probe run alone; also when the runs stop early on an exhausted space.
    @Test func spectralDensityInLockstepEqualsSeparateRuns() throws {
        let big = try Self.operatorUnderTest()
        let small = try CurvatureAlgorithmTests.matrix(spectrum: [3, 1, 1, -2, 0.5], seed: 2).a
        for (a, steps) in [(big, 30), (small, 12)] {
            let one = try SpectralDensity.estimate(of: RecordingOperator(a), probes: 5, steps: steps, seed: 3)
            for block in [3, 5, 8] {
                let recorded = RecordingOperator(a)
                var reported: [Int] = []
                let lockstep = try SpectralDensity.estimate(of: recorded, probes: 5, steps: steps, seed: 3, block: block,
                                                            progress: { reported.append($0) })
                #expect(lockstep.nodes.map { $0.map(\.bitPattern) } == one.nodes.map { $0.map(\.bitPattern) })
                #expect(lockstep.weights.map { $0.map(\.bitPattern) } == one.weights.map { $0.map(\.bitPattern) })
                #expect(reported == Array(1...recorded.products))
                #expect(recorded.blocks.max()! <= min(block, 5))
            }
        }
    }

    @Test func aBlockOfNoProbesIsRefused() throws {
        let a = try Self.operatorUnderTest()
        #expect(throws: LandscapeError.self) { try HutchinsonTrace.estimate(of: a, seed: 1, block: 0) }
        #expect(throws: LandscapeError.self) { try SpectralDensity.estimate(of: a, seed: 1, block: 0) }
    }
}
