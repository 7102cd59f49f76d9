import Testing
import Foundation
@testable import TerrainLandscape
import TerrainTestSupport

/// Sequential data sampling (`DataSampling`, `SurfaceSampler`) on a closed-form per-sample loss:
/// ℓᵢ(w) = (w₀ − aᵢ)² + (w₁ − bᵢ)², aᵢ = sin(1.7 i), bᵢ = cos(2.3 i), N = 4000.
@Suite("Sequential data sampling")
struct DataSamplingTests {
    static let count = 4000

    static func objective() -> PerSampleObjective {
        PerSampleObjective(groups: .tiling([("w", [2], .weight)]), initial: [0.4, -0.3], counts: [.train: count, .test: count / 2]) { w, set, i in
            let a = sin(1.7 * Double(i)), b = cos(2.3 * Double(i)) + (set == .test ? 0.5 : 0)
            return (w[0] - a) * (w[0] - a) + (w[1] - b) * (w[1] - b)
        }
    }

    /// The objective, remembering the indices each call asked for, a new list at each new point.
    final class Recording: SampleEvaluating {
        let inner = DataSamplingTests.objective()
        var points: [[[Int]]] = []
        var groups: [ParameterGroup] { inner.groups }
        func parameters() -> [Double] { inner.parameters() }
        func setParameters(_ values: [Double]) { inner.setParameters(values); points.append([]) }
        func evaluate(_ set: EvaluationSet) throws -> ObjectiveValue { try inner.evaluate(set) }
        func sampleCount(_ set: EvaluationSet) -> Int { inner.sampleCount(set) }
        func evaluateSamples(_ set: EvaluationSet, at indices: ArraySlice<Int>) throws -> SampleLosses {
            if points.isEmpty { points.append([]) }
            points[points.count - 1].append(Array(indices))
            return try inner.evaluateSamples(set, at: indices)
        }
    }

    /// √((1 − n/N)·s²/n) written out again, for the first n losses.
    static func standardError(_ losses: ArraySlice<Double>, of total: Int) -> Double {
        let n = Double(losses.count)
        let mean = losses.reduce(0, +) / n
        let variance = losses.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)
        return (variance / n * (Double(total) - n) / Double(total)).squareRoot()
    }

    /// A point's per-sample losses over the whole set in the order's order: a reference.
    static func reference(at parameters: [Double], order: SampleOrder, set: EvaluationSet = .train) throws -> ControlVariate {
        let objective = Self.objective()
        objective.setParameters(parameters)
        return ControlVariate(losses: try objective.evaluateSamples(set, at: order.indices[...]).losses)
    }

    /// The regression estimate on a nearby point's losses needs far fewer samples than the plain
    /// mean, and at n = N both are the plain mean.
    @Test func aNearbyReferenceNeedsFewerSamples() throws {
        let sampling = DataSampling(tolerance: .absolute(0.005), seed: 4, minimumSamples: 64, blockSize: 32)
        let order = SampleOrder(count: Self.count, seed: 4)
        let objective = Self.objective()
        objective.setParameters([0.5, -0.25])
        let reference = try Self.reference(at: [0.45, -0.3], order: order)
        let plain = try sampling.estimate(on: objective, set: .train, order: order, tolerance: { _ in 0.005 })
        let regression = try sampling.estimate(on: objective, set: .train, order: order, reference: reference, tolerance: { _ in 0.005 })
        let exact = try objective.evaluate(.train).loss
        #expect(regression.samples * 4 <= plain.samples, "\(regression.samples) vs \(plain.samples)")
        #expect(regression.standardError <= 0.005 && abs(regression.loss - exact) <= 3 * 0.005)
        let whole = try sampling.estimate(on: objective, set: .train, order: order, reference: reference, tolerance: { _ in 0 })
        let wholePlain = try sampling.estimate(on: objective, set: .train, order: order, tolerance: { _ in 0 })
        #expect(whole.samples == Self.count && whole.standardError == 0 && whole.loss == wholePlain.loss)
    }

    @Test func stopsAtTheFirstPrefixWhoseStandardErrorIsWithinTheTolerance() throws {
        let sampling = DataSampling(tolerance: .absolute(0.01), seed: 7, minimumSamples: 64, blockSize: 32)
        let objective = Recording()
        objective.setParameters([0.5, -0.3])
        let order = SampleOrder(count: Self.count, seed: 7)
        let estimate = try sampling.estimate(on: objective, set: .train, order: order, tolerance: { _ in 0.01 })
        let all = try objective.inner.evaluateSamples(.train, at: order.indices[...]).losses
        let calls = objective.points.last!
        #expect(calls.count >= 2)
        #expect(estimate.samples < Self.count && estimate.samples >= 64 && estimate.samples % 32 == 0)
        #expect(estimate.samples == calls.map(\.count).reduce(0, +))
        #expect(estimate.standardError <= 0.01)
        #expect(abs(estimate.standardError - Self.standardError(all[..<estimate.samples], of: Self.count)) <= 1e-12)
        #expect(estimate.loss == all[..<estimate.samples].reduce(0, +) / Double(estimate.samples))
        // Every earlier prefix was still above the tolerance.
        var n = 0
        for call in calls.dropLast() {
            n += call.count
            #expect(Self.standardError(all[..<n], of: Self.count) > 0.01, "stopped late at \(n)")
        }
    }

    /// With a tolerance no prefix meets the whole set is used: SE 0 exactly, and the mean is the
    /// exact loss up to the rounding of adding the same numbers in the order's order instead of
    /// index order (the bits may differ; the relative difference is a few ulps of the sum).
    @Test func aTinyToleranceUsesTheWholeSetAndGivesTheExactLoss() throws {
        let objective = Self.objective()
        let sampling = DataSampling(tolerance: .absolute(1e-300), seed: 3, minimumSamples: 100, blockSize: 50)
        let estimate = try sampling.estimate(on: objective, set: .train, order: SampleOrder(count: Self.count, seed: 3), tolerance: { _ in 1e-300 })
        let exact = try objective.evaluate(.train).loss
        #expect(estimate.samples == Self.count)
        #expect(estimate.standardError == 0)
        #expect(abs(estimate.loss - exact) <= 1e-13 * exact)
    }

    static func grid1D() throws -> SurfaceGrid { SurfaceGrid(x: try Axis.parse("-1:1:5").coordinates, y: []) }
    static func grid2D(_ n: Int) throws -> SurfaceGrid {
        SurfaceGrid(x: try Axis.parse("-1:1:\(n)").coordinates, y: try Axis.parse("-1:1:\(n)").coordinates)
    }
    static let dx = Direction(values: [1, 0.2]), dy = Direction(values: [-0.3, 1])

    /// Pilot points (0, 4, 8 of 9 at stride 4) are evaluated on the whole set first; every other point takes
    /// a prefix of the same order.
    @Test func everyPointTakesPrefixesOfTheSameOrder() throws {
        let objective = Recording()
        let sampling = DataSampling(tolerance: .absolute(0.01), seed: 11, minimumSamples: 64, blockSize: 64, pilotStride: 4)
        let surface = try SurfaceComputation(objective: objective, center: objective.parameters(), xDirection: Self.dx,
                                             yDirection: nil, grid: SurfaceGrid(x: try Axis.parse("-2:2:9").coordinates, y: []),
                                             sets: [.train], sampling: sampling)
        #expect(throws: LandscapeError.self) { try surface.compute(point: 1) }
        try surface.prepareSampling()
        let order = SampleOrder(count: Self.count, seed: 11).indices
        #expect(objective.points.filter { !$0.isEmpty }.map { $0.flatMap { $0 } } == [order, order, order])
        objective.points = []
        for p in 0..<surface.grid.pointCount { try surface.compute(point: p) }
        let taken = objective.points.filter { !$0.isEmpty }.map { $0.flatMap { $0 } }
        #expect(taken.count == 6)
        for (p, indices) in zip([1, 2, 3, 5, 6, 7], taken) {
            #expect(Array(order.prefix(indices.count)) == indices)
            #expect(surface.samplingValues["train_loss_samples"]![p] == Double(indices.count))
        }
        for p in [0, 4, 8] { #expect(surface.samplingValues["train_loss_samples"]![p] == Double(Self.count)) }
    }

    /// A pilot kept in a journal is read back by a later run of the same request instead of being
    /// evaluated again, also after a kill that cut its last record short (that point alone is
    /// evaluated again), and the points estimated on it are the same bits. A read-only run (a
    /// rank under mpirun) reads it and writes nothing; another request's journal is not read.
    @Test func aJournaledPilotIsReadBackNotEvaluatedAgain() throws {
        let sampling = DataSampling(tolerance: .absolute(0.01), seed: 11, minimumSamples: 64, blockSize: 64, pilotStride: 4)
        let grid = SurfaceGrid(x: try Axis.parse("-2:2:9").coordinates, y: [])
        func surface(_ objective: Recording) throws -> SurfaceComputation {
            try SurfaceComputation(objective: objective, center: objective.parameters(), xDirection: Self.dx, yDirection: nil,
                                   grid: grid, sets: [.train], sampling: sampling)
        }
        func evaluatedPoints(_ objective: Recording) -> Int { objective.points.filter { !$0.isEmpty }.count }
        let path = try temporaryPath("pilot.journal", label: "sampling")
        let journal = SurfaceComputation.PilotJournal(path: path, fingerprint: "request")

        let first = Recording(), original = try surface(first)
        #expect(try original.prepareSampling(keepingPilotIn: journal) == 0)
        #expect(evaluatedPoints(first) == 3)
        // Bits, not values: a row's accuracy is NaN for this objective.
        func bits(_ surface: SurfaceComputation) throws -> [[UInt64]] { try (0..<9).map { try surface.compute(point: $0).map(\.bitPattern) } }
        let expected = try bits(original)
        // A kill in the middle of the last record's write.
        let size = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(size - 100))
        try handle.close()

        let second = Recording(), resumed = try surface(second)
        #expect(try resumed.prepareSampling(keepingPilotIn: journal) == 2)
        #expect(evaluatedPoints(second) == 1)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == size)
        #expect(try bits(resumed) == expected)

        let third = Recording(), reader = try surface(third)
        var readOnly = journal
        readOnly.writes = false
        #expect(try reader.prepareSampling(keepingPilotIn: readOnly) == 3)
        #expect(evaluatedPoints(third) == 0)
        #expect(try bits(reader) == expected)

        let fourth = Recording(), other = try surface(fourth)
        #expect(try other.prepareSampling(keepingPilotIn: .init(path: path, fingerprint: "another request")) == 0)
        #expect(evaluatedPoints(fourth) == 3)
    }

    func runner(_ objective: Objective, grid: SurfaceGrid, sampling: DataSampling, path: String, threads: Int = 1,
                sets: [EvaluationSet] = [.train]) throws -> SurfaceRunner {
        let surface = try SurfaceComputation(objective: objective, center: objective.parameters(), xDirection: Self.dx,
                                             yDirection: grid.isTwoDimensional ? Self.dy : nil, grid: grid, sets: sets, sampling: sampling)
        if threads > 1 { #expect(try surface.spreadPointsOverThreads(threads)) }
        try surface.prepareSampling()
        return SurfaceRunner(computation: surface, path: path,
                             fingerprint: SurfaceRunner.fingerprint(center: objective.parameters(), directions: [Self.dx, Self.dy], grid: grid,
                                                                    sets: sets, data: "closed form" + sampling.requestTag),
                             options: .quiet { $0.consolidationInterval = 0 })
    }

    static func bits(_ file: SurfaceFile) -> [String: [UInt64]] {
        var all: [String: [UInt64]] = [:]
        for (q, v) in file.values { all[q.rawValue] = v.map(\.bitPattern) }
        for (name, v) in file.extraDatasets { all[name] = v.map(\.bitPattern) }
        return all
    }

    @Test func theFileStoresEachPointsErrorAndSamplesAndResumesAndThreadsToTheSameBits() throws {
        let sampling = DataSampling(tolerance: .absolute(0.015), seed: 5, minimumSamples: 64, blockSize: 32, pilotStride: 3)
        let grid = try Self.grid2D(7)
        let wholePath = try temporaryPath("whole.h5", label: "sampling")
        let whole = try runner(Self.objective(), grid: grid, sampling: sampling, path: wholePath, sets: [.train, .test]).run()
        let samples = whole.extraDatasets["train_loss_samples"]!, errors = whole.extraDatasets["train_loss_stderr"]!
        #expect(whole.extraDatasets["test_loss_samples"]?.count == 49)
        #expect(samples.count == 49 && errors.allSatisfy { $0 <= 0.015 })
        // Pilot points are exact; every other stored count is the point's own estimate on its
        // reference: the per-sample losses of its lattice cell's corners, interpolated linearly,
        // and what the interpolation through the lines around adds (10 and 17 lie on column 3
        // between rows 0 and 3 of the lattice 0, 3, 6: points 3 and 24, and 45 for the
        // quadratic through all three rows).
        let center = Self.objective().parameters(), order = SampleOrder(count: Self.count, seed: 5)
        for p in [0, 3, 24, 48] { #expect(samples[p] == Double(Self.count) && errors[p] == 0) }
        let nodes = try [3, 24, 45].map { try Self.reference(at: grid.parameters(at: $0, center: center, x: Self.dx, y: Self.dy), order: order) }
        for p in [10, 17] {
            let objective = Self.objective()
            objective.setParameters(grid.parameters(at: p, center: center, x: Self.dx, y: Self.dy))
            func interpolated(_ weights: [(line: Int, weight: Double)]) -> [Double] {
                var losses = [Double](repeating: 0, count: Self.count)
                for (row, weight) in weights { for k in losses.indices { losses[k] += weight * nodes[row / 3].losses[k] } }
                return losses
            }
            let linear = interpolated(SurfaceSampler.weights(at: p / 7, lines: [0, 3, 6], coordinates: grid.y, order: 1))
            let quadratic = interpolated(SurfaceSampler.weights(at: p / 7, lines: [0, 3, 6], coordinates: grid.y, order: 3))
            let reference = ControlVariate(columns: [linear, zip(quadratic, linear).map { $0 - $1 }])
            let estimate = try sampling.estimate(on: objective, set: .train, order: order, reference: reference, tolerance: { _ in 0.015 })
            #expect(Double(estimate.samples) == samples[p] && estimate.loss == whole.values[.trainLoss]![p])
            #expect(estimate.samples < Self.count)
        }
        let testSamples = whole.extraDatasets["test_loss_samples"]!
        #expect(whole.numberAttributes["terrain.sampling.samples_evaluated"] == samples.reduce(0, +) + testSamples.reduce(0, +))
        #expect(whole.numberAttributes["terrain.sampling.samples_exact"] == 49 * Double(Self.count + Self.count / 2))
        #expect(DataSampling.summary(of: whole) != nil && DataSampling.caption(of: whole) == "sampled: SE ≤ 0.015")
        let read = try SurfaceFile.read(from: wholePath)
        #expect(Self.bits(read) == Self.bits(whole))

        let threaded = try runner(Self.objective(), grid: grid, sampling: sampling, path: temporaryPath("threads.h5", label: "sampling"),
                                  threads: 3, sets: [.train, .test]).run()
        #expect(Self.bits(threaded) == Self.bits(whole))

        // A file holding some points only (a killed run's) resumes to the same bits.
        var partial = whole
        for p in stride(from: 0, to: 49, by: 3) {
            for q in partial.values.keys { partial.values[q]![p] = .nan }
            for name in partial.extraDatasets.keys { partial.extraDatasets[name]![p] = .nan }
        }
        let path = try temporaryPath("resumed.h5", label: "sampling")
        try partial.write(to: path)
        let r = try runner(Self.objective(), grid: grid, sampling: sampling, path: path, sets: [.train, .test])
        let resumed = try r.run()
        #expect(r.resumedPoints == 49 - 17)
        #expect(Self.bits(resumed).filter { !$0.key.hasPrefix("terrain") } == Self.bits(whole))
    }

    @Test func theLocalContourSpacing() {
        let levels = LevelSet(levels: [1, 2, 4, 8], range: 10)
        #expect(levels.localSpacing(at: 3) == 2)
        #expect(levels.localSpacing(at: 2) == 2)
        #expect(levels.localSpacing(at: 1.5) == 1)
        #expect(levels.localSpacing(at: 0.5) == 0.5)   // the lowest gap scaled by v / lowest level
        #expect(levels.localSpacing(at: -1) == 1)
        #expect(levels.localSpacing(at: 20) == 4)
        #expect(LevelSet(levels: [3], range: 2).localSpacing(at: 3) == 2)
    }

    /// A tolerance relative to the contour spacing: the pilot's lattice (on 9×9, stride 2 by
    /// default: 5×5) is exact, its losses give the levels (stored), and every other point's SE is
    /// within the fraction of the local spacing at its value.
    @Test func aRelativeToleranceFollowsThePilotsLevels() throws {
        let rule = RefinementLevels.evenlySpaced(count: 6)
        let sampling = DataSampling(tolerance: .contourSpacing(fraction: 0.05, levels: rule), seed: 2, minimumSamples: 64, blockSize: 32)
        let grid = try Self.grid2D(9)
        let file = try runner(Self.objective(), grid: grid, sampling: sampling, path: temporaryPath("relative.h5", label: "sampling")).run()
        let losses = file.values[.trainLoss]!, samples = file.extraDatasets["train_loss_samples"]!, errors = file.extraDatasets["train_loss_stderr"]!
        let lines = [0, 2, 4, 6, 8]
        let pilot = lines.flatMap { j in lines.map { j * 9 + $0 } }
        for p in pilot { #expect(samples[p] == Double(Self.count) && errors[p] == 0) }
        let levels = LevelSet(levels: rule.levels(for: pilot.map { losses[$0] }), range: pilot.map { losses[$0] }.max()! - pilot.map { losses[$0] }.min()!)
        #expect(file.textAttributes["terrain.sampling.train_loss_levels"] == levels.levels.map { "\($0)" }.joined(separator: ","))
        #expect(file.numberAttributes["terrain.sampling.pilot_points"] == 25)
        #expect(file.numberAttributes["terrain.sampling.pilot_stride"] == 2)
        #expect(file.numberAttributes["terrain.sampling.pilot_stride_y"] == 2)
        for p in 0..<81 { #expect(errors[p] <= 0.05 * levels.localSpacing(at: losses[p])) }
        #expect(samples.contains { $0 < Double(Self.count) })
        #expect(DataSampling.caption(of: file) == "sampled: SE ≤ 5% of the contour spacing")
    }

    /// With `--adaptive`, interpolated points used no samples: the stored total is the whole saving.
    @Test func adaptiveSamplingCountsOnlyComputedPoints() throws {
        let sampling = DataSampling(tolerance: .absolute(0.02), seed: 1, minimumSamples: 64, blockSize: 32)
        let objective = Self.objective()
        let grid = try Self.grid2D(17)
        let surface = try SurfaceComputation(objective: objective, center: objective.parameters(), xDirection: Self.dx,
                                             yDirection: Self.dy, grid: grid, sets: [.train], sampling: sampling)
        try surface.prepareSampling()
        let adaptive = try AdaptiveSurfaceComputation(surface: surface, levels: 2, tolerance: 0.25, contourLevels: .evenlySpaced(count: 8))
        let file = try SurfaceRunner(computation: adaptive, path: temporaryPath("adaptive.h5", label: "sampling"), fingerprint: "adaptive",
                                     options: .quiet()).run()
        let mask = file.extraDatasets[AdaptiveSurfaceComputation.maskName]!
        let samples = file.extraDatasets["train_loss_samples"]!, errors = file.extraDatasets["train_loss_stderr"]!
        #expect(mask.contains(0))
        for p in mask.indices {
            if mask[p] == 0 { #expect(samples[p] == 0 && errors[p].isNaN) } else { #expect(samples[p] >= 64 && errors[p] <= 0.02) }
        }
        // The pilot's points (by default on 17×17 the 5×5 lattice of rows and columns 0, 4, … 16)
        // count where the plan did not take them.
        let lines = [0, 4, 8, 12, 16]
        let pilot = lines.flatMap { j in lines.map { j * 17 + $0 } }
        let unused = pilot.filter { samples[$0] == 0 }.count
        #expect(file.numberAttributes["terrain.sampling.samples_evaluated"] == samples.reduce(0, +) + Double(unused * Self.count))
        #expect(file.numberAttributes["terrain.sampling.samples_exact"] == Double(17 * 17 * Self.count))
    }

    /// The pilot's stride: a quarter of the axis from 2 to 8 steps unless one is asked for; the
    /// lattice is its multiples and the last line, on each axis by its own length.
    @Test func thePilotStrideFollowsTheGridUnlessGiven() throws {
        let automatic = DataSampling(tolerance: .absolute(1))
        #expect([3, 5, 9, 13, 17, 25, 33, 51, 201].map { automatic.pilotStride(alongAxisOf: $0) } == [2, 2, 2, 3, 4, 6, 8, 8, 8])
        let given = DataSampling(tolerance: .absolute(1), pilotStride: 5)
        #expect([3, 17, 51].map { given.pilotStride(alongAxisOf: $0) } == [5, 5, 5])
        #expect(automatic.requestTag != given.requestTag)
        let surface = try SurfaceComputation(objective: Self.objective(), center: Self.objective().parameters(), xDirection: Self.dx,
                                             yDirection: Self.dy, grid: SurfaceGrid(x: try Axis.parse("-1:1:17").coordinates, y: try Axis.parse("-1:1:5").coordinates), sets: [.train],
                                             sampling: automatic)
        #expect(surface.samplingPilotDescription == "stride 4 along x, 2 along y: 15 points")
        let square = try SurfaceComputation(objective: Self.objective(), center: Self.objective().parameters(), xDirection: Self.dx,
                                            yDirection: Self.dy, grid: try Self.grid2D(11), sets: [.train], sampling: given)
        #expect(square.samplingPilotDescription == "stride 5 (rows and columns 0, 5, 10, … and the last): 9 points")
        #expect(throws: LandscapeError.self) { try DataSampling(tolerance: .absolute(1), pilotStride: 0).validate() }
    }

    /// The interpolation weights of the references: Lagrange's through the lattice lines around
    /// (two, or up to four for the cubic: three in an edge cell), reproducing polynomials of
    /// their degree at uneven lines too (a lattice's last line can be closer).
    @Test func theReferencesInterpolationWeights() {
        let t = (0..<11).map { -1 + 0.2 * Double($0) }, lines = [0, 4, 8, 10]
        #expect(SurfaceSampler.weights(at: 4, lines: lines, coordinates: t, order: 3).map(\.line) == [4])
        #expect(SurfaceSampler.weights(at: 5, lines: lines, coordinates: t, order: 1).map(\.line) == [4, 8])
        #expect(SurfaceSampler.weights(at: 5, lines: lines, coordinates: t, order: 3).map(\.line) == [0, 4, 8, 10])
        #expect(SurfaceSampler.weights(at: 2, lines: lines, coordinates: t, order: 3).map(\.line) == [0, 4, 8])
        #expect(SurfaceSampler.weights(at: 9, lines: lines, coordinates: t, order: 3).map(\.line) == [4, 8, 10])
        for index in 0...10 {
            for (order, degree) in [(1, 1), (3, index < 4 || index > 8 ? 2 : 3)] {
                let weights = SurfaceSampler.weights(at: index, lines: lines, coordinates: t, order: order)
                for power in 0...degree {
                    let value = weights.reduce(0) { $0 + $1.weight * pow(t[$1.line], Double(power)) }
                    #expect(abs(value - pow(t[index], Double(power))) <= 1e-12, "index \(index) order \(order) power \(power)")
                }
            }
        }
    }

    /// Per-sample losses quadratic in the weights, each with its own curvature, cᵢ(w₀ − aᵢ)² +
    /// (w₁ − bᵢ)², are quadratic along the grid: the cubic correction follows them exactly, so
    /// every point off the pilot stops at its first prefix with its exact loss (to rounding),
    /// where the bilinear reference alone, off by each sample's own curvature, needs more.
    @Test func theCubicCorrectionFollowsCurvedLosses() throws {
        func curved() -> PerSampleObjective {
            PerSampleObjective(groups: .tiling([("w", [2], .weight)]), initial: [0.4, -0.3], counts: [.train: Self.count]) { w, _, i in
                let a = sin(1.7 * Double(i)), b = cos(2.3 * Double(i)), c = 1 + 0.9 * sin(3.1 * Double(i))
                return c * (w[0] - a) * (w[0] - a) + (w[1] - b) * (w[1] - b)
            }
        }
        let sampling = DataSampling(tolerance: .absolute(0.001), seed: 8, minimumSamples: 64, blockSize: 32, pilotStride: 4)
        let objective = curved(), grid = try Self.grid2D(13), center = objective.parameters()
        let surface = try SurfaceComputation(objective: objective, center: center, xDirection: Self.dx,
                                             yDirection: Self.dy, grid: grid, sets: [.train], sampling: sampling)
        try surface.prepareSampling()
        let sampler = try #require(surface.sampler)
        let order = SampleOrder(count: Self.count, seed: 8)
        var bilinearSamples = 0
        for p in 0..<grid.pointCount where !sampler.pilotPoints.contains(p) {
            let point = curved()
            point.setParameters(grid.parameters(at: p, center: center, x: Self.dx, y: Self.dy))
            let reference = try #require(sampler.reference(for: p, set: .train))
            #expect(reference.columns.count == 2)
            let estimate = try sampling.estimate(on: point, set: .train, order: order, reference: reference, tolerance: { _ in 0.001 })
            let exact = try point.evaluate(.train).loss
            #expect(estimate.samples == 64 && abs(estimate.loss - exact) <= 1e-10 * exact, "point \(p): \(estimate.samples) samples, \(estimate.loss) for \(exact)")
            let bilinear = try sampling.estimate(on: point, set: .train, order: order, reference: ControlVariate(columns: [reference.columns[0]]),
                                                 tolerance: { _ in 0.001 })
            bilinearSamples += bilinear.samples
        }
        let others = grid.pointCount - sampler.pilotPoints.count
        #expect(bilinearSamples > 2 * 64 * others, "the bilinear reference alone used \(bilinearSamples) samples")
    }

    /// The multiple regression: a column that is a multiple of an earlier one, or constant, is
    /// left out (the estimate is that of the others); the coefficients solve the normal equations.
    @Test func aRedundantColumnIsLeftOut() throws {
        let order = SampleOrder(count: Self.count, seed: 6)
        let near = try Self.reference(at: [0.45, -0.3], order: order)
        let objective = Self.objective()
        objective.setParameters([0.5, -0.25])
        let losses = try objective.evaluateSamples(.train, at: order.indices[..<512]).losses
        let mean = losses.reduce(0, +) / 512
        let one = DataSampling.regression(losses, mean: mean, on: near)
        let doubled = DataSampling.regression(losses, mean: mean, on: ControlVariate(columns: [near.losses, near.losses.map { 2 * $0 }]))
        let constant = DataSampling.regression(losses, mean: mean, on: ControlVariate(columns: [near.losses, near.losses.map { _ in 3 }]))
        for other in [doubled, constant] {
            #expect(abs(other.loss - one.loss) <= 1e-12 && abs(other.variance - one.variance) <= 1e-12 * one.variance)
        }
        let b = try #require(DataSampling.leastSquares(gram: [4, 2, 0, 2, 5, 1, 0, 1, 3], cross: [2, 3, 4], columns: 3))
        let residual = [4 * b[0] + 2 * b[1] - 2, 2 * b[0] + 5 * b[1] + b[2] - 3, b[1] + 3 * b[2] - 4]
        #expect(residual.allSatisfy { abs($0) <= 1e-12 })
        #expect(DataSampling.leastSquares(gram: [1, 1, 1, 1], cross: [1, 1], columns: 2) == [1, 0])
        #expect(DataSampling.leastSquares(gram: [.nan], cross: [1], columns: 1) == nil)
    }

    @Test func settingsAreChecked() {
        #expect(throws: LandscapeError.self) { try DataSampling(tolerance: .absolute(0)).validate() }
        #expect(throws: LandscapeError.self) { try DataSampling(tolerance: .absolute(.nan)).validate() }
        #expect(throws: LandscapeError.self) { try DataSampling(tolerance: .absolute(1), minimumSamples: 1).validate() }
        let closure = ClosureObjective(groups: .tiling([("w", [1], .weight)]), initial: [0]) { _, _ in ObjectiveValue(loss: 0) }
        #expect(throws: LandscapeError.self) {
            try SurfaceComputation(objective: closure, center: [0], xDirection: Direction(values: [1]), yDirection: nil,
                                   grid: SurfaceGrid(x: [0, 1], y: []), sets: [.train], sampling: DataSampling(tolerance: .absolute(1)))
        }
    }
}
