import Testing
import Foundation
import TerrainIO
import TerrainLandscape
import TerrainTestSupport

/// `terrain analyze`'s topology on functions whose answers are known: a bowl, a two-well function,
/// Himmelblau's function; points left out (NaN, ±∞); the file it is stored in; a 1D file refused.
@Suite("Surface topology")
struct SurfaceTopologyTests {
    static func axis(_ low: Double, _ high: Double, _ count: Int) -> [Double] {
        (0..<count).map { low + (high - low) * Double($0) / Double(count - 1) }
    }

    /// f sampled on the grid x × y, row by row over y.
    static func field(x: [Double], y: [Double], _ f: (Double, Double) -> Double) -> GridField {
        let grid = SurfaceGrid(x: x, y: y)
        return GridField(grid: grid, values: (0..<grid.pointCount).map { f(x[$0 % x.count], y[$0 / x.count]) })
    }

    // MARK: A bowl

    @Test("bowl: one minimum that never dies, no saddle, maxima at the corners, disc areas")
    func bowl() throws {
        let x = Self.axis(-1, 1, 101), h = 0.02
        let field = Self.field(x: x, y: x) { a, b in a * a + b * b }
        let t = SurfaceTopology(quantity: "train_loss", field: field, levels: [.rise(0.05), .rise(0.1), .rise(0.25), .absolute(0.09)])
        let minima = t.points(.minimum)
        try #require(minima.count == 1)
        #expect(minima[0].alpha == 0 && minima[0].beta == 0 && minima[0].value == 0)
        #expect(t.points(.saddle).isEmpty)
        // Only the four corners (the edge's highest points) have no higher neighbour.
        let maxima = t.points(.maximum)
        #expect(maxima.count == 4 && maxima.allSatisfy { abs($0.alpha) == 1 && abs($0.beta) == 1 && $0.onEdge })
        #expect(t.persistence.count == 1 && t.persistence[0].saddle == nil && t.persistence[0].death == .infinity)

        let basin = try #require(t.centreBasin)
        #expect(basin.minimum == basin.centre && basin.minimumValue == 0 && basin.mergeLevel == .infinity)
        // The range is 2 (0 at the centre, 2 at the corners): the levels are r² = 0.1, 0.2, 0.5, then 0.09.
        for (level, expected) in zip(basin.levels, [0.1, 0.2, 0.5, 0.09]) {
            #expect(abs(level.value - expected) < 1e-12)
            let r = expected.squareRoot()
            // The disc's area π r², within one cell width along its perimeter.
            #expect(abs(level.area - Double.pi * r * r) <= 2 * Double.pi * r * h, "area \(level.area) at r = \(r)")
            // Widths 2r: the crossings are interpolated linearly, so the error is O(h²).
            #expect(abs(level.widthAlpha - 2 * r) < 1e-3 && abs(level.widthBeta - 2 * r) < 1e-3, "widths at r = \(r)")
            #expect(!level.open && !level.widthAlphaOpen && !level.widthBetaOpen)
        }
        // The second difference of α² is 2h² at every point.
        #expect(abs(t.roughness.alpha - 2 * h * h) < 1e-12 && abs(t.roughness.beta - 2 * h * h) < 1e-12)
        #expect(t.roughness.alphaCount == 99 * 101 && t.roughness.betaCount == 101 * 99)
        #expect(abs(t.roughness.relativeAlpha - h * h) < 1e-12)
    }

    @Test("a basin that reaches the edge is open, and its area is the part on the grid")
    func openBasin() throws {
        let x = Self.axis(-1, 1, 41)
        let t = SurfaceTopology(quantity: "train_loss", field: Self.field(x: x, y: x) { a, b in a * a + b * b }, levels: [.absolute(1.5)])
        let level = try #require(t.centreBasin?.levels.first)
        #expect(level.open && level.widthAlphaOpen && level.widthBetaOpen)
        #expect(abs(level.widthAlpha - 2) < 1e-12)
        #expect(level.pointCount > 0 && level.area < 4)
    }

    // MARK: Two wells

    /// g(α) + β² with g(α) = (α² − 1)² + 0.25·α: wells near α = −1 (lower) and α = +1, a pass near α = 0.06.
    static func twoWell(_ a: Double, _ b: Double) -> Double { (a * a - 1) * (a * a - 1) + 0.25 * a + b * b }

    @Test("two wells: two minima, one saddle, persistence = the saddle's value − the higher minimum's")
    func twoWells() throws {
        let x = Self.axis(-2, 2, 81), y = Self.axis(-1, 1, 41)
        let field = Self.field(x: x, y: y, Self.twoWell)
        let t = SurfaceTopology(quantity: "train_loss", field: field)
        let minima = t.points(.minimum), saddles = t.points(.saddle)
        try #require(minima.count == 2 && saddles.count == 1)
        #expect(minima.allSatisfy { $0.beta == 0 && abs(abs($0.alpha) - 1) < 0.1 && !$0.onEdge })
        let saddle = saddles[0]
        #expect(saddle.beta == 0 && abs(saddle.alpha - 0.06) < 0.05 && saddle.multiplicity == 1 && !saddle.onEdge)
        // f has no interior maximum: the corners and the pass's highest points on the edges β = ±1.
        #expect(t.points(.maximum).count == 6 && t.points(.maximum).allSatisfy(\.onEdge))

        // The grid's answer, found independently: every 8-connected path between the wells crosses
        // each column, and the lowest point of a column is on β = 0, so the pass is the highest
        // value of the row β = 0 between the two minima; the higher minimum is the right one.
        let row = (0..<x.count).map { Self.twoWell(x[$0], 0) }
        let (left, right) = (minima.min { $0.alpha < $1.alpha }!, minima.max { $0.alpha < $1.alpha }!)
        let columns = x.indices.filter { x[$0] > left.alpha && x[$0] < right.alpha }
        let pass = columns.map { row[$0] }.max()!
        #expect(saddle.value == pass)
        let pairs = t.persistence
        try #require(pairs.count == 2)
        #expect(pairs[0].death == .infinity && pairs[0].birth == left.value)
        #expect(pairs[1].birth == right.value && pairs[1].death == pass && pairs[1].saddle == saddle.index)
        #expect(pairs[1].persistence == pass - right.value)
        // And close to the continuous answer: g at its local maximum minus g at the right well.
        func root(_ start: Double) -> Double {
            var a = start
            for _ in 0..<50 { a -= (4 * a * a * a - 4 * a + 0.25) / (12 * a * a - 4) }
            return a
        }
        let exact = Self.twoWell(root(0), 0) - Self.twoWell(root(1), 0)
        #expect(abs(pairs[1].persistence - exact) < 0.01, "\(pairs[1].persistence) vs \(exact)")
        // The centre (α = 0) descends to the side g falls to: g'(0) = 0.25 > 0, so to the left well.
        let basin = try #require(t.centreBasin)
        #expect(basin.minimum == left.index && basin.mergeLevel == .infinity)
    }

    // MARK: Himmelblau

    static func himmelblau(_ a: Double, _ b: Double) -> Double {
        let u = a * a + b - 11, v = a + b * b - 7
        return u * u + v * v
    }

    @Test("Himmelblau: four minima of value 0, four saddles and one maximum inside, at their known places")
    func himmelblau() throws {
        let x = Self.axis(-5, 5, 201)
        let t = SurfaceTopology(quantity: "train_loss", field: Self.field(x: x, y: x, Self.himmelblau))
        let knownMinima = [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848127)]
        let knownSaddles = [(3.385154, 0.073852, 13.311926), (-0.127961, -1.953715, 178.337239),
                            (-3.073026, -0.081353, 104.015163), (0.086678, 2.884255, 67.719150)]
        let inside = t.criticalPoints.filter { !$0.onEdge }
        let minima = inside.filter { $0.kind == .minimum }, saddles = inside.filter { $0.kind == .saddle }
        let maxima = inside.filter { $0.kind == .maximum }
        try #require(minima.count == 4 && saddles.count == 4 && maxima.count == 1, "\(inside)")
        func near(_ p: CriticalPoint, _ a: Double, _ b: Double) -> Bool { abs(p.alpha - a) <= 0.05 && abs(p.beta - b) <= 0.05 }
        for (a, b) in knownMinima {
            let m = try #require(minima.first { near($0, a, b) }, "minimum near (\(a), \(b))")
            #expect(m.value < 0.1)
        }
        #expect(minima.contains { $0.alpha == 3 && $0.beta == 2 && $0.value == 0 })
        for (a, b, value) in knownSaddles {
            let s = try #require(saddles.first { near($0, a, b) }, "saddle near (\(a), \(b))")
            #expect(abs(s.value - value) < 0.5, "saddle (\(a), \(b)): \(s.value) vs \(value)")
        }
        #expect(near(maxima[0], -0.270845, -0.923039) && abs(maxima[0].value - 181.616522) < 0.5)
        // Four minima, one never dies; each other dies at the lowest saddle joining it to a lower one.
        let pairs = t.persistence.filter { pair in minima.contains { $0.index == pair.minimum } }
        #expect(pairs.count == 4 && pairs.filter { $0.death == .infinity }.count == 1)
        #expect(pairs.allSatisfy { pair in pair.death == .infinity || saddles.contains { $0.index == pair.saddle } })
    }

    // MARK: Points left out

    @Test("NaN and infinite points are left out: no critical point, no basin, no roughness triple")
    func excludedPoints() throws {
        let x = Self.axis(-1, 1, 21)
        var values = Self.field(x: x, y: x) { a, b in a * a + b * b }.values
        let grid = SurfaceGrid(x: x, y: x)
        // A wall of NaN (not computed), −NaN (computed NaN) and +∞ (diverged) at α = 0.5.
        for j in 0..<21 { values[j * 21 + 15] = [Double.nan, -Double.nan, .infinity][j % 3] }
        let t = SurfaceTopology(quantity: "train_loss", field: GridField(grid: grid, values: values), levels: [.absolute(1.9)])
        #expect(t.validPoints == 21 * 20 && t.excludedPoints == 21)
        #expect(t.criticalPoints.allSatisfy { $0.index % 21 != 15 })
        // The strip beyond the wall (α > 0.5) is a component of its own: its own minimum, which never dies.
        let pairs = t.persistence
        #expect(pairs.count == 2 && pairs.allSatisfy { $0.death == .infinity })
        #expect(pairs.contains { abs(t.field.coordinates(of: $0.minimum).alpha - 0.6) < 1e-12 && t.field.coordinates(of: $0.minimum).beta == 0 })
        // The centre's basin stops at the wall: it is open there and never crosses it. Along β = 0,
        // α² ≤ 1.9 holds from the edge α = −1 to α = 0.4, the last point before the wall.
        let level = try #require(t.centreBasin?.levels.first)
        #expect(level.open && level.widthAlphaOpen)
        #expect(abs(level.widthAlpha - 1.4) < 1e-12)
        // Cells from α = −1 to 0.45 (up to the wall's cell) over β from −1 to 1, less the two left
        // corners, where f = 2 > 1.9 (cells of a half step each way: 0.05 · 0.05).
        #expect(abs(level.area - (2 * 1.45 - 2 * 0.0025)) < 1e-12)
        // Roughness along α: the 3 triples around each excluded point are gone (rows 20 − 2 − 3 = 16 triples).
        #expect(t.roughness.alphaCount == 21 * 16 && t.roughness.betaCount == 20 * 19)
        #expect(t.roughness.alpha.isFinite)
        // A centre that is itself excluded lies in no basin.
        values[10 * 21 + 10] = .nan
        #expect(SurfaceTopology(quantity: "train_loss", field: GridField(grid: grid, values: values)).centreBasin == nil)
    }

    @Test("a plateau of equal values holds one minimum (ties broken by index)")
    func plateau() {
        let x = Self.axis(-1, 1, 11)
        let t = SurfaceTopology(quantity: "train_loss", field: Self.field(x: x, y: x) { a, b in max(a * a + b * b, 0.25) })
        #expect(t.points(.minimum).count == 1 && t.points(.saddle).isEmpty && t.persistence.count == 1)
    }

    // MARK: The file

    func surfaceFile(oneDimensional: Bool = false) -> SurfaceFile {
        let x = Self.axis(-2, 2, 41), y = oneDimensional ? [] : Self.axis(-1, 1, 21)
        let grid = SurfaceGrid(x: x, y: y)
        let loss = (0..<grid.pointCount).map { Self.twoWell(x[$0 % x.count], oneDimensional ? 0 : y[$0 / x.count]) }
        var file = SurfaceFile(grid: grid, values: [.trainLoss: loss, .trainAccuracy: loss.map { 100 - $0 }], directionFile: "d.h5",
                               textAttributes: ["terrain.version": "test"], numberAttributes: ["terrain.seed": 7])
        file.extraDatasets["train_perplexity"] = loss.map(exp)
        return file
    }

    @Test("stored as analysis/<quantity>/ with the rest of the file unchanged, and kept by later rewrites")
    func storedInTheFile() throws {
        let folder = try TemporaryFolder("topology")
        let path = folder.file("s.h5")
        let original = surfaceFile()
        try original.write(to: path)
        let (read, topology) = try SurfaceFile.topology(at: path, quantity: "train_loss")
        try read.storing(topology).write(to: path)
        let (again, perplexity) = try SurfaceFile.topology(at: path, quantity: "train_perplexity")
        try again.storing(perplexity).write(to: path)

        let back = try SurfaceFile.read(from: path)
        #expect(back.values[.trainLoss] == original.values[.trainLoss] && back.values[.trainAccuracy] == original.values[.trainAccuracy])
        #expect(back.extraDatasets == original.extraDatasets && back.textAttributes == original.textAttributes)
        #expect(back.numberAttributes == original.numberAttributes && back.grid == original.grid && back.damagedPoints == 0)
        let analysis = try #require(back.groups[SurfaceTopology.groupName])
        #expect(Set(analysis.groups.keys) == ["train_loss", "train_perplexity"])
        let loss = try #require(analysis.groups["train_loss"])
        #expect(Self.sameBits(loss, topology.storedGroup))
        #expect(loss.textAttributes["quantity"] == "train_loss" && loss.numberAttributes["minima"] == 2 && loss.numberAttributes["saddles"] == 1)
        #expect(loss.datasets["critical_kind"]?.shape == [21, 41])
        #expect(loss.datasets["minimum_death"]?.values.first == .infinity)
        #expect(loss.datasets["saddle_alpha"]?.values.count == 1 && loss.datasets["basin_area"]?.values.count == 4)

        // h5py's view: plain datasets at analysis/train_loss/…
        let file = try HDF5File(path: path, mode: .readOnly)
        defer { file.close() }
        #expect(try file.readDoubles("analysis/train_loss/minimum_value").values == topology.persistence.map(\.birth))
        #expect(try file.attribute("roughness_alpha", on: "analysis/train_loss") == .double(topology.roughness.alpha))
        #expect(try SurfaceFile.largestDatasetCount(at: path) == 21 * 41)
    }

    /// Whether two groups hold the same names, shapes and bits (NaN ≠ NaN for `==`).
    static func sameBits(_ a: SurfaceFileGroup, _ b: SurfaceFileGroup) -> Bool {
        func bits(_ g: SurfaceFileGroup) -> [String: [UInt64]] {
            g.datasets.mapValues { $0.shape.map(UInt64.init) + [.max] + $0.values.map(\.bitPattern) }
                .merging(g.numberAttributes.mapValues { [$0.bitPattern] }.map { ("@" + $0.key, $0.value) }) { $1 }
        }
        return bits(a) == bits(b) && a.textAttributes == b.textAttributes && a.textDatasets == b.textDatasets
            && a.groups.keys.sorted() == b.groups.keys.sorted() && a.groups.allSatisfy { sameBits($0.value, b.groups[$0.key]!) }
    }

    @Test("a 1D file and a missing quantity are refused with the file's name and what it holds")
    func refusals() throws {
        let folder = try TemporaryFolder("topology")
        let curve = folder.file("curve.h5")
        var file = surfaceFile(oneDimensional: true)
        file.textAttributes["terrain.from"] = "a.safetensors"
        file.textAttributes["terrain.to"] = "b.safetensors"
        try file.write(to: curve)
        do {
            _ = try SurfaceFile.topology(at: curve, quantity: "train_loss")
            Issue.record("a 1D file was analysed")
        } catch let error as LandscapeError {
            let text = error.description
            #expect(text.hasPrefix(curve) && text.contains("1D curve of 41 points") && text.contains("terrain interpolate")
                    && text.contains("not a 2D surface"), "\(text)")
        }
        let surface = folder.file("s.h5")
        try surfaceFile().write(to: surface)
        do {
            _ = try SurfaceFile.topology(at: surface, quantity: "test_loss")
            Issue.record("a missing quantity was analysed")
        } catch let error as LandscapeError {
            #expect(error.description == "\(surface): has no test_loss; it holds train_loss, train_acc, train_perplexity")
        }
    }
}
