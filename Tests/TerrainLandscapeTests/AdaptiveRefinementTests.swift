import Testing
import Foundation
import TerrainLandscape
import TerrainTestSupport

@Suite("Adaptive refinement")
struct AdaptiveRefinementTests {
    /// A grid over [-1, 1]² with nx × ny points.
    static func square(_ nx: Int, _ ny: Int) throws -> SurfaceGrid {
        SurfaceGrid(x: try Axis.parse("-1:1:\(nx)").coordinates, y: try Axis.parse("-1:1:\(ny)").coordinates)
    }

    /// A plan driven to its end on f, as the runner would: each round's points computed, then
    /// handed back. Returns the plan, the values computed (NaN elsewhere) and the filled grid.
    static func replay(_ f: (Double, Double) -> Double, grid: SurfaceGrid, levels: Int = 3, tolerance: Double = 0.25,
                       contours: RefinementLevels = .evenlySpaced(count: 14)) throws -> (AdaptiveRefinement, [Double], [Double]) {
        let plan = try AdaptiveRefinement(grid: grid, levels: levels, tolerance: tolerance, contourLevels: contours)
        var values = [Double](repeating: .nan, count: grid.pointCount)
        while !plan.isFinished {
            for p in plan.wanted {
                #expect(values[p].isNaN, "point \(p) asked for twice")
                let (a, b) = grid.coordinates(of: p)
                values[p] = f(a, b)
            }
            plan.advance(values: [values])
        }
        return (plan, values, plan.interpolate(values))
    }

    static func exact(_ f: (Double, Double) -> Double, _ grid: SurfaceGrid) -> [Double] {
        (0..<grid.pointCount).map { let (a, b) = grid.coordinates(of: $0); return f(a, b) }
    }

    static func maximumError(_ filled: [Double], _ exact: [Double]) -> Double {
        zip(filled, exact).map { abs($0 - $1) }.max()!
    }

    @Test func aPlaneNeedsOnlyTheCoarseLatticeAndIsReproduced() throws {
        let grid = try Self.square(33, 33)
        let plane = { (a: Double, b: Double) in 0.3 * a - 0.7 * b + 2 }
        let (plan, _, filled) = try Self.replay(plane, grid: grid)
        #expect(plan.levels == 3)
        #expect(plan.computedCount == 5 * 5)   // the stride-8 lattice
        #expect(Self.maximumError(filled, Self.exact(plane, grid)) < 1e-12)
    }

    @Test func aBowlIsRefinedWhereItBendsAndStaysWithinTolerance() throws {
        let grid = try Self.square(65, 65)
        let bowl = { (a: Double, b: Double) in a * a + b * b }
        let tolerance = 0.1
        let (plan, values, filled) = try Self.replay(bowl, grid: grid, tolerance: tolerance)
        #expect(plan.computedCount > 9 * 9 && plan.computedCount < grid.pointCount / 2)
        // Evenly spaced levels over [0, 2]: a spacing of 2/15.
        #expect(Self.maximumError(filled, Self.exact(bowl, grid)) <= tolerance * 2 / 15)
        // Computed points are untouched.
        for p in 0..<grid.pointCount where plan.computedMask[p] { #expect(filled[p].bitPattern == values[p].bitPattern) }
    }

    @Test func aSharpFeatureIsRefinedToTheFullGrid() throws {
        let grid = try Self.square(65, 65)
        // A narrow well at (0.25, -0.25), a point of the coarse lattice (index 40, 24).
        let well = { (a: Double, b: Double) in
            a * a + b * b - 1.5 * exp(-((a - 0.25) * (a - 0.25) + (b + 0.25) * (b + 0.25)) / (2 * 0.06 * 0.06))
        }
        let (plan, _, filled) = try Self.replay(well, grid: grid)
        for j in 22...26 { for i in 38...42 { #expect(plan.computedMask[j * 65 + i], "(\(i), \(j)) not computed") } }
        #expect(plan.computedCount < grid.pointCount)
        let exact = Self.exact(well, grid)
        let range = exact.max()! - exact.min()!
        #expect(Self.maximumError(filled, exact) <= 0.25 * range / 15)
    }

    @Test func thePlanDependsOnlyOnTheValues() throws {
        let grid = try Self.square(41, 33)
        let bumpy = { (a: Double, b: Double) in sin(3 * a) * cos(2 * b) + a * a }
        let (first, _, filledFirst) = try Self.replay(bumpy, grid: grid)
        let (second, _, filledSecond) = try Self.replay(bumpy, grid: grid)
        #expect(first.computedMask == second.computedMask)
        #expect(filledFirst.map(\.bitPattern) == filledSecond.map(\.bitPattern))
        #expect(first.rounds == second.rounds)
        // Other values, another plan: a tighter tolerance computes more.
        let (tight, _, _) = try Self.replay(bumpy, grid: grid, tolerance: 0.05)
        #expect(tight.computedCount > first.computedCount)
    }

    @Test(arguments: [(23, 17), (10, 30), (2, 9), (65, 5), (100, 37)])
    func anyGridSizeIsCoveredAndPlanesStayExact(nx: Int, ny: Int) throws {
        let grid = try Self.square(nx, ny)
        let plane = { (a: Double, b: Double) in -1.25 * a + 0.5 * b }
        let (_, _, filled) = try Self.replay(plane, grid: grid)
        #expect(Self.maximumError(filled, Self.exact(plane, grid)) < 1e-12)
        let bumpy = { (a: Double, b: Double) in sin(3 * a) * cos(2 * b) + a * a }
        let (plan, _, filledBumpy) = try Self.replay(bumpy, grid: grid)
        #expect(!filledBumpy.contains { $0.isNaN })
        #expect(plan.computedCount <= grid.pointCount)
    }

    @Test func divergedRegionsAreComputedAtTheirEdgeAndFilledInside() throws {
        let grid = try Self.square(65, 65)
        let diverging = { (a: Double, b: Double) in a > 0.4 ? Double.infinity : a * a + b * b }
        let (plan, _, filled) = try Self.replay(diverging, grid: grid)
        let exact = Self.exact(diverging, grid)
        for p in 0..<grid.pointCount {
            #expect(filled[p].isFinite == exact[p].isFinite, "point \(p)")
        }
        #expect(plan.computedCount < grid.pointCount)
    }

    @Test func levelsAreReducedToKeepFourCoarseCells() throws {
        #expect(AdaptiveRefinement.effectiveLevels(3, columns: 51, rows: 51) == 3)
        #expect(AdaptiveRefinement.effectiveLevels(6, columns: 51, rows: 51) == 4)   // stride 16: lines 0, 16, 32, 48, 50
        #expect(AdaptiveRefinement.effectiveLevels(3, columns: 21, rows: 51) == 2)
        #expect(AdaptiveRefinement.effectiveLevels(3, columns: 5, rows: 51) == 0)
    }

    @Test func badRequestsAreRefused() throws {
        #expect(throws: LandscapeError.self) {
            try AdaptiveRefinement(grid: SurfaceGrid(x: [0, 1, 2]), levels: 3, tolerance: 0.25, contourLevels: .evenlySpaced(count: 5))
        }
        #expect(throws: LandscapeError.self) {
            try AdaptiveRefinement(grid: try Self.square(9, 9), levels: 3, tolerance: 0, contourLevels: .evenlySpaced(count: 5))
        }
        #expect(throws: LandscapeError.self) {
            try AdaptiveRefinement(grid: try Self.square(9, 9), levels: -1, tolerance: 0.25, contourLevels: .evenlySpaced(count: 5))
        }
    }

    // MARK: through the runner

    struct Interrupted: Error {}

    /// A loss over (α, β) with a well, as a closure objective; `failAfter` stops it like a kill.
    final class Well {
        var calls = 0
        var failAfter: Int?
        func objective() -> ClosureObjective {
            ClosureObjective(groups: .tiling([("w", [2], .weight)]), initial: [0, 0]) { [self] w, _ in
                calls += 1
                if let limit = failAfter, calls > limit { throw Interrupted() }
                let a = w[0], b = w[1]
                return ObjectiveValue(loss: a * a + b * b - exp(-((a - 0.25) * (a - 0.25) + b * b) / 0.02), accuracy: 50 + 10 * b)
            }
        }
    }

    func runner(_ well: Well, path: String, adaptive: Bool = true,
                _ change: (inout SurfaceRunner.Options) -> Void = { _ in }) throws -> SurfaceRunner {
        let objective = well.objective()
        let grid = try Self.square(33, 33)
        let dx = Direction(values: [1, 0]), dy = Direction(values: [0, 1])
        let surface = try SurfaceComputation(objective: objective, center: objective.parameters(), xDirection: dx,
                                             yDirection: dy, grid: grid, sets: [.train])
        let contours = RefinementLevels.evenlySpaced(count: 14)
        let computation: any GridComputation = adaptive
            ? try AdaptiveSurfaceComputation(surface: surface, levels: 3, tolerance: 0.25, contourLevels: contours) : surface
        let tag = adaptive ? AdaptiveSurfaceComputation.requestTag(levels: 3, tolerance: 0.25, contourLevels: contours) : ""
        let r = SurfaceRunner(computation: computation, path: path,
                              fingerprint: SurfaceRunner.fingerprint(center: objective.parameters(), directions: [dx, dy], grid: grid,
                                                                     sets: [.train], data: "well" + tag),
                              options: .quiet { $0.consolidationInterval = 0; change(&$0) })
        return r
    }

    @Test func anAdaptiveRunWritesItsMaskAndMatchesTheFullGridWhereComputed() throws {
        let fullWell = Well()
        let full = try runner(fullWell, path: temporaryPath("full.h5", label: "adaptive"), adaptive: false).run()
        let well = Well()
        let path = try temporaryPath("adaptive.h5", label: "adaptive")
        let file = try runner(well, path: path).run()
        let mask = try #require(file.extraDatasets[AdaptiveSurfaceComputation.maskName])
        let computed = mask.filter { $0 == 1 }.count
        #expect(well.calls == computed && computed < 33 * 33)
        #expect(file.numberAttributes["terrain.adaptive.points_computed"] == Double(computed))
        #expect(file.numberAttributes["terrain.adaptive.points_total"] == Double(33 * 33))
        #expect(file.numberAttributes["terrain.adaptive.levels"] == 3)
        #expect(file.numberAttributes["terrain.adaptive.tolerance"] == 0.25)
        #expect(AdaptiveSurfaceComputation.summary(of: file) == String(format: "computed %d of 1089 points (%.0f%% saved)", computed, 100 * (1 - Double(computed) / 1089)))
        for q in [SurfaceQuantity.trainLoss, .trainAccuracy] {
            let a = file.values[q]!, b = full.values[q]!
            #expect(!a.contains { $0.isNaN })
            for p in mask.indices where mask[p] == 1 { #expect(a[p].bitPattern == b[p].bitPattern) }
        }
        // Read back: the mask is a grid-shaped dataset of the file.
        let read = try SurfaceFile.read(from: path)
        #expect(read.extraDatasets[AdaptiveSurfaceComputation.maskName] == mask)
    }

    @Test(arguments: [5, 40, 90])
    func anInterruptedAdaptiveRunResumesToTheSameFile(stopAfter: Int) throws {
        let whole = try runner(Well(), path: temporaryPath("whole.h5", label: "adaptive")).run()
        let path = try temporaryPath("resumed.h5", label: "adaptive")
        let first = Well()
        first.failAfter = stopAfter
        #expect(throws: Interrupted.self) { try runner(first, path: path).run() }
        let partial = try SurfaceFile.read(from: path)
        #expect(partial.values[.trainLoss]!.contains { $0.isNaN })   // nothing interpolated yet

        let second = Well()
        let r = try runner(second, path: path)
        let resumed = try r.run()
        #expect(r.resumedPoints == stopAfter)
        let computed = whole.extraDatasets[AdaptiveSurfaceComputation.maskName]!.filter { $0 == 1 }.count
        #expect(second.calls == computed - stopAfter)
        #expect(resumed.extraDatasets[AdaptiveSurfaceComputation.maskName] == whole.extraDatasets[AdaptiveSurfaceComputation.maskName])
        for q in [SurfaceQuantity.trainLoss, .trainAccuracy] {
            #expect(resumed.values[q]!.map(\.bitPattern) == whole.values[q]!.map(\.bitPattern))
        }
        // Run once more on the finished file: nothing to compute, the interpolated points are not adopted as data.
        let third = Well()
        let again = try runner(third, path: path).run()
        #expect(third.calls == 0)
        #expect(again.values[.trainLoss]!.map(\.bitPattern) == whole.values[.trainLoss]!.map(\.bitPattern))
    }

    @Test func aFullGridFileIsNotTakenForAnAdaptiveOne() throws {
        let path = try temporaryPath("full.h5", label: "adaptive")
        _ = try runner(Well(), path: path, adaptive: false).run()
        #expect(throws: LandscapeError.self) { try runner(Well(), path: path).run() }
    }

    @Test func roundsAcrossRanksAreRefused() throws {
        let rank = DistributedTests.FakeRank(rank: 0, size: 2)
        let r = try runner(Well(), path: temporaryPath("ranks.h5", label: "adaptive")) { $0.communicator = rank }
        #expect(throws: LandscapeError.self) { try r.run() }
        #expect(rank.broadcasts.isEmpty && rank.sent.isEmpty)   // refused before any message
    }
}
