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
