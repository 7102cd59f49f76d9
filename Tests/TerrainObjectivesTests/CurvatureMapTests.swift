import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainLandscape
import TerrainObjectives
import TerrainTestSupport

@Suite("Curvature maps")
struct CurvatureMapTests {
    struct Interrupted: Error {}

    /// A tiny Double MLP (2-4-3, tanh) on 60 blobs: 27 parameters, 12 in the weight matrices.
    static func objective() throws -> ModelObjective<Double> {
        var options = DatasetOptions()
        options.syntheticCount = 75
        let data = try DatasetCatalog.load("blobs", options: options)
        func build() -> Module<Double> {
            var g = SeededGenerator(seed: 5)
            return Sequential<Double>(Linear(2, 4, generator: &g), Tanh(), Linear(4, 3, generator: &g))
        }
        return ModelObjective(model: build(), data: data, batchSize: 16, makeModel: build)
    }

    static func directions(_ objective: some Objective) -> [Direction] {
        DirectionRecipe(seed: 40, oneDimensional: [.included, .included])
            .directions(count: 2, for: objective.parameters(), groups: objective.groups)
    }

    static func map(_ objective: ModelObjective<Double>, oneDimensional: OneDimensionalTensors = .included,
                    iterations: Int = 30, grid: SurfaceGrid? = nil) throws -> CurvatureMapComputation {
        let d = directions(objective)
        let grid = try grid ?? SurfaceGrid(x: Axis.parse("-1:1:3").coordinates, y: Axis.parse("-1:1:3").coordinates)
        return try CurvatureMapComputation(objective: objective, center: objective.parameters(), xDirection: d[0], yDirection: d[1],
                                           grid: grid, set: .train, oneDimensional: oneDimensional, iterations: iterations,
                                           tolerance: 1e-3, seed: 7)
    }

    /// Every point's λmax and λmin equal the exact extreme eigenvalues of the dense Hessian built
    /// there column by column from Hessian-vector products, to the Lanczos tolerance; for all
    /// parameters and for the weight matrices alone.
    @Test(arguments: [OneDimensionalTensors.included, .leftOut])
    func eigenvaluesMatchTheDenseHessian(oneDimensional: OneDimensionalTensors) throws {
        let objective = try Self.objective()
        let map = try Self.map(objective, oneDimensional: oneDimensional)
        for point in map.pendingPoints { _ = try map.compute(points: [point]) }
        #expect(map.pendingPoints.isEmpty)
        var sawNegative = false
        for point in 0..<map.grid.pointCount {
            objective.setParameters(map.parameters(at: point))
            let op = HessianOperator(objective: objective, set: .train, oneDimensional: oneDimensional)
            #expect(op.dimension == (oneDimensional == .included ? 27 : 20))
            var dense = [Double](repeating: 0, count: op.dimension * op.dimension)
            for j in 0..<op.dimension {
                var e = [Double](repeating: 0, count: op.dimension)
                e[j] = 1
                let column = try op.apply(e)
                for i in 0..<op.dimension { dense[i * op.dimension + j] = column[i] }
            }
            // Symmetrize the rounding away, then the exact spectrum.
            for i in 0..<op.dimension {
                for j in 0..<i {
                    let m = 0.5 * (dense[i * op.dimension + j] + dense[j * op.dimension + i])
                    dense[i * op.dimension + j] = m; dense[j * op.dimension + i] = m
                }
            }
            let exact = SymmetricEigen.decompose(dense, size: op.dimension).values
            let scale = max(abs(exact.first!), abs(exact.last!))
            #expect(abs(map.maxEigenvalues[point] - exact.first!) <= 1e-3 * scale, "point \(point): \(map.maxEigenvalues[point]) vs \(exact.first!)")
            #expect(abs(map.minEigenvalues[point] - exact.last!) <= 1e-3 * scale, "point \(point): \(map.minEigenvalues[point]) vs \(exact.last!)")
            #expect(map.maxEigenvalues[point] >= map.minEigenvalues[point])
            if exact.last! < 0 { sawNegative = true }
        }
        // Far from the centre the tanh network is not convex: the map must see it.
        #expect(sawNegative)
        map.restoreCenter()
    }

    /// A run interrupted after some points, resumed from its journal (and from the file), gives
    /// the bits of an uninterrupted run; a journal of other Lanczos settings is not mixed in.
    @Test(arguments: [0.0, 1000.0])
    func interruptedMapsResumeToTheSameBits(consolidation: Double) throws {
        func runner(_ map: CurvatureMapComputation, _ path: String, interruptAfter: Int? = nil) -> SurfaceRunner {
            let computation: any GridComputation = interruptAfter.map { InterruptingMap(map, failAfter: $0) } ?? map
            return SurfaceRunner(computation: computation, path: path, fingerprint: map.fingerprint(data: "blobs"),
                                 options: .quiet { $0.consolidationInterval = consolidation; $0.attributePrefix = "terrain.hessian." })
        }
        let whole = try runner(Self.map(try Self.objective()), temporaryPath("whole.h5", label: "hmap")).run()

        let path = try temporaryPath("resumed.h5", label: "hmap")
        let first = try Self.map(try Self.objective())
        #expect(throws: Interrupted.self) { try runner(first, path, interruptAfter: 4).run() }
        // The journal's fingerprint includes the Lanczos settings: another seed adopts nothing.
        let otherObjective = try Self.objective(), d = Self.directions(otherObjective)
        let otherSeed = try CurvatureMapComputation(objective: otherObjective, center: otherObjective.parameters(), xDirection: d[0],
                                                    yDirection: d[1], grid: first.grid, iterations: 30, tolerance: 1e-3, seed: 8)
        #expect(otherSeed.fingerprint(data: "blobs") != first.fingerprint(data: "blobs"))
        let journal = PointJournal(path: path + ".journal", fields: 2, fingerprint: otherSeed.fingerprint(data: "blobs"))
        #expect(journal.replay().isEmpty)

        let second = try Self.map(try Self.objective())
        let r2 = runner(second, path)
        let resumed = try r2.run()
        #expect(r2.resumedPoints == 4)
        for name in CurvatureMapComputation.quantityNames {
            #expect(resumed.extraDatasets[name]!.map(\.bitPattern) == whole.extraDatasets[name]!.map(\.bitPattern))
        }
        #expect(!FileManager.default.fileExists(atPath: path + ".journal"))
        #expect(resumed.numberAttributes["terrain.hessian.resumed_points"] == 4)
        #expect(resumed.textAttributes["terrain.hessian.request"] == second.fingerprint(data: "blobs"))
    }

    /// Writing the map into an existing loss surface keeps its datasets and attributes, and a
    /// file read back gives max_eig and min_eig grid-shaped.
    @Test func theMapIsAddedToTheLossSurface() throws {
        let objective = try Self.objective()
        let map = try Self.map(objective, iterations: 10)
        let path = try temporaryPath("s.h5", label: "hmap")
        let loss = try SurfaceComputation(objective: objective, center: map.center, xDirection: map.xDirection,
                                          yDirection: map.yDirection, grid: map.grid, sets: [.train])
        let surfaceRunner = SurfaceRunner(computation: loss, path: path, fingerprint: "loss-request", options: .quiet())
        let surface = try surfaceRunner.run()

        var options = SurfaceRunner.Options.quiet()
        options.baseFile = try SurfaceFile.read(from: path)
        options.attributePrefix = "terrain.hessian."
        // Without the permission, an unmarked file is another request.
        let refused = SurfaceRunner(computation: map, path: path, fingerprint: map.fingerprint(data: "blobs"), options: options)
        #expect { try refused.run() } throws: { "\($0)".contains("different request") }
        options.acceptsUnmarkedFile = true
        try SurfaceRunner(computation: map, path: path, fingerprint: map.fingerprint(data: "blobs"), options: options).run()
        let back = try SurfaceFile.read(from: path)
        #expect(back.values[.trainLoss]!.map(\.bitPattern) == surface.values[.trainLoss]!.map(\.bitPattern))
        #expect(back.textAttributes["terrain.request"] == "loss-request")
        #expect(back.numberAttributes["terrain.resumed_points"] == surface.numberAttributes["terrain.resumed_points"])
        #expect(back.extraDatasets["max_eig"] == map.maxEigenvalues && back.extraDatasets["min_eig"] == map.minEigenvalues)
        #expect(!map.maxEigenvalues.contains { $0.isNaN })
        // Started again: everything is adopted, nothing recomputed.
        let again = try Self.map(objective, iterations: 10)
        let r2 = SurfaceRunner(computation: again, path: path, fingerprint: again.fingerprint(data: "blobs"),
                               options: .quiet { $0.baseFile = back; $0.attributePrefix = "terrain.hessian." })
        try r2.run()
        #expect(r2.resumedPoints == map.grid.pointCount)
    }

    /// Points side by side on replicas (1, 2 and 3 threads) and one point at a time with each
    /// layer split over the threads give the same bits.
    @Test func pointsOverThreadsEqualsLayers() throws {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        var maps: [[UInt64]] = []
        for (threads, spread) in [(1, false), (2, false), (2, true), (3, true)] {
            Parallel.threadCount = threads
            let map = try Self.map(try Self.objective(), iterations: 12)
            if spread {
                #expect(try map.spreadPointsOverThreads(threads))
                #expect(map.concurrentPoints == threads)
            }
            let pending = map.pendingPoints
            for start in stride(from: 0, to: pending.count, by: map.concurrentPoints) {
                _ = try map.compute(points: Array(pending[start..<min(pending.count, start + map.concurrentPoints)]))
            }
            #expect(map.pendingPoints.isEmpty)
            maps.append(map.maxEigenvalues.map(\.bitPattern) + map.minEigenvalues.map(\.bitPattern))
        }
        for m in maps.dropFirst() { #expect(m == maps[0]) }
    }
}

/// A map whose computation stops after `failAfter` points, like a killed process.
final class InterruptingMap: GridComputation {
    let map: CurvatureMapComputation
    let failAfter: Int
    var done = 0

    init(_ map: CurvatureMapComputation, failAfter: Int) { self.map = map; self.failAfter = failAfter }

    var grid: SurfaceGrid { map.grid }
    var fieldCount: Int { map.fieldCount }
    var pendingPoints: [Int] { map.pendingPoints }
    var concurrentPoints: Int { 1 }
    func compute(points: [Int]) throws -> [[Double]] {
        guard done < failAfter else { throw CurvatureMapTests.Interrupted() }
        done += points.count
        return try map.compute(points: points)
    }
    func record(point: Int, _ row: [Double]) { map.record(point: point, row) }
    func restore(from file: SurfaceFile) { map.restore(from: file) }
    func store(into file: inout SurfaceFile) { map.store(into: &file) }
    func restoreCenter() { map.restoreCenter() }
}
