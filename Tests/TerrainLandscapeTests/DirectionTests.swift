import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainModels
import TerrainLandscape

@Suite("Directions")
struct DirectionTests {
    func resnet() throws -> (groups: [ParameterGroup], theta: [Double]) {
        let model: Module<Float> = try ModelSpec(architecture: "resnet8", width: 0.5, inputShape: [3, 8, 8], outputs: 4, seed: 1).build()
        let named = model.namedParameters()
        let groups = [ParameterGroup].tiling(named.map { ($0.name, $0.parameter.shape, $0.parameter.role) })
        return (groups, named.flatMap { $0.parameter.value.scalars.map(Double.init) })
    }

    @Test func filterNormalizationGivesEachFilterTheNormOfThetasFilter() throws {
        let (groups, theta) = try resnet()
        var d = Direction.random(groups: groups, type: .weights, seed: 123)
        let raw = d.filterNorms(groups: groups, type: .weights)
        d.normalize(against: theta, groups: groups, type: .weights, normalization: .filter, oneDimensional: .leftOut)
        let mine = d.filterNorms(groups: groups, type: .weights)
        let thetas = Direction(values: theta).filterNorms(groups: groups, type: .weights)
        #expect(mine.count == thetas.count && !mine.isEmpty)
        for ((a, w), r) in zip(zip(mine, thetas), raw) {
            // The reference's rule d / (‖d‖ + 1e-10) · ‖w‖, to rounding; hence ‖w‖ to ~1e-10 relative.
            #expect(abs(a - w * r / (r + 1e-10)) <= 1e-14 * w)
            #expect(abs(a - w) <= 1e-9 * w)
        }
        // Biases and BN are zero with biasbn ignored; buffers are never touched by `weights`.
        for g in groups where g.shape.count <= 1 {
            #expect(g.range.allSatisfy { d.values[$0] == 0 }, "\(g.name)")
        }
    }

    /// A transposed weight [in, out] is normalized along its columns: the result is the transpose
    /// of normalizing the [out, in] weight along its rows, for every normalization by filter, and
    /// its filter norms are those of the columns. A weight beside it keeps its rows.
    @Test func aTransposedWeightIsNormalizedAlongItsColumns() {
        let (rows, columns) = (5, 3)   // PyTorch's weight [out 5, in 3], stored [3, 5]
        var g = SeededGenerator(seed: 8)
        let w = (0..<(rows * columns)).map { _ in g.nextNormal() }        // [5, 3], row-major
        let d = (0..<(rows * columns)).map { _ in g.nextNormal() }
        let extra = (0..<8).map { _ in g.nextNormal() }, extraD = (0..<8).map { _ in g.nextNormal() }
        func transposed(_ a: [Double]) -> [Double] {                      // [5, 3] → [3, 5]
            (0..<columns).flatMap { i in (0..<rows).map { o in a[o * columns + i] } }
        }
        let stored: [ParameterGroup] = .tiling([("fc.weightT", [columns, rows], .transposedWeight), ("other", [2, 4], .weight)])
        let plain: [ParameterGroup] = .tiling([("fc.weight", [rows, columns], .weight), ("other", [2, 4], .weight)])
        #expect(stored[0].filterDimension == 1 && stored[0].filterCount == rows && stored[0].filterSize == columns)
        #expect(stored[0].filterRuns(1) == [1..<2, 6..<7, 11..<12])
        for normalization in [DirectionNormalization.filter, .dfilter] {
            var mine = Direction(values: transposed(d) + extraD)
            mine.normalize(against: transposed(w) + extra, groups: stored, type: .weights, normalization: normalization, oneDimensional: .leftOut)
            var reference = Direction(values: d + extraD)
            reference.normalize(against: w + extra, groups: plain, type: .weights, normalization: normalization, oneDimensional: .leftOut)
            // The same sums in another order: equal to rounding.
            let expected = transposed(Array(reference.values[0..<15])) + reference.values[15...]
            #expect(zip(mine.values, expected).allSatisfy { abs($0 - $1) <= 1e-15 * max(1, abs($1)) }, "\(normalization)")
            #expect(mine.values[15...] == reference.values[15...], "\(normalization): the other weight keeps its rows, bit for bit")
            let norms = mine.filterNorms(groups: stored, type: .weights), expectedNorms = reference.filterNorms(groups: plain, type: .weights)
            #expect(zip(norms, expectedNorms).allSatisfy { abs($0 - $1) <= 1e-14 * $1 } && norms.count == rows + 2)
        }
        // An independent computation of one column: d·‖w‖/(‖d‖ + 1e-10) over PyTorch's row 2.
        var mine = Direction(values: transposed(d) + extraD)
        mine.normalize(against: transposed(w) + extra, groups: stored, type: .weights, normalization: .filter, oneDimensional: .leftOut)
        let row = 2, norm = { (a: [Double]) in (0..<columns).map { a[row * columns + $0] * a[row * columns + $0] }.reduce(0, +).squareRoot() }
        for i in 0..<columns {
            let want = d[row * columns + i] * norm(w) / (norm(d) + 1e-10)
            #expect(abs(mine.values[i * rows + row] - want) <= 1e-14 * abs(want))
        }
    }

    @Test func oneDimensionalTensorsCopyTheWeightsWhenNotIgnored() throws {
        let (groups, theta) = try resnet()
        var d = Direction.random(groups: groups, type: .states, seed: 5)
        d.normalize(against: theta, groups: groups, type: .states, normalization: .filter, oneDimensional: .included)
        for g in groups where g.shape.count <= 1 {
            #expect(g.range.allSatisfy { d.values[$0] == theta[$0] }, "\(g.name)")
        }
        var w = Direction.random(groups: groups, type: .weights, seed: 5)
        w.normalize(against: theta, groups: groups, type: .weights, normalization: .filter, oneDimensional: .included)
        for g in groups where !g.isTrainable {
            #expect(g.range.allSatisfy { w.values[$0] == 0 }, "\(g.name) must not move with a weights direction")
        }
    }

    @Test func otherNormalizations() throws {
        let groups = [ParameterGroup].tiling([("w", [2, 3], .weight), ("b", [2], .bias)])
        let theta: [Double] = [1, 2, 2, 0, 3, 4, 7, 8]
        let raw = Direction(values: [3, 0, 4, 1, 1, 1, 5, 5])
        func normalized(_ n: DirectionNormalization) -> [Double] {
            var d = raw
            d.normalize(against: theta, groups: groups, type: .weights, normalization: n, oneDimensional: .leftOut)
            return d.values
        }
        #expect(normalized(.none) == [3, 0, 4, 1, 1, 1, 0, 0])
        #expect(normalized(.weight) == [3, 0, 8, 0, 3, 4, 0, 0])
        let layer = normalized(.layer)   // ‖d‖ = √28, ‖w‖ = √34
        #expect(abs(layer[0] - 3 / (28.0.squareRoot() + 1e-10) * 34.0.squareRoot()) < 1e-12)
        let dfilter = normalized(.dfilter)
        #expect(abs(dfilter[0] - 0.6) < 1e-9 && abs(dfilter[3] - 1 / 3.0.squareRoot()) < 1e-9)
        let dlayer = normalized(.dlayer)
        #expect(abs(Direction(values: Array(dlayer[0..<6])).norm - 1) < 1e-9)
    }

    @Test func randomDirectionsAreSeeded() throws {
        let (groups, _) = try resnet()
        #expect(Direction.random(groups: groups, type: .weights, seed: 1) == Direction.random(groups: groups, type: .weights, seed: 1))
        #expect(Direction.random(groups: groups, type: .weights, seed: 1) != Direction.random(groups: groups, type: .weights, seed: 2))
    }

    @Test func orthogonalizationAndCosine() {
        var y = Direction(values: [1, 1, 0])
        let x = Direction(values: [1, 0, 0])
        #expect(abs(Direction.cosine(x, y) - 1 / 2.0.squareRoot()) < 1e-15)
        y.orthogonalize(against: x)
        #expect(Direction.cosine(x, y) == 0)
    }

    @Test func axisDirections() throws {
        let groups = [ParameterGroup].tiling([("fc.weight", [1, 1], .weight), ("fc.bias", [1], .bias)])
        #expect(try Direction.axis("fc.bias", groups: groups).values == [0, 1])
        #expect(throws: LandscapeError.self) { try Direction.axis("fc.nope", groups: groups) }
    }

    @Test func axisParsing() throws {
        let a = try Axis.parse("-1:1:5")
        #expect(a.coordinates == [-1, -0.5, 0, 0.5, 1])
        #expect(try Axis.parse("-1:1:5", spacing: .cubic).coordinates == [-1, -0.125, 0, 0.125, 1])
        for bad in ["1:1", "a:1:3", "1:-1:3", "0:1:0", "0:inf:3"] {
            #expect(throws: LandscapeError.self, "\(bad)") { try Axis.parse(bad) }
        }
    }
}
