import Testing
import Foundation
import TerrainLandscape
import TerrainTestSupport

/// `terrain analyze` on an ensemble: each member analysed as one surface, each number's mean and
/// sample deviation over the members, stored beside the member 0 analysis; the ensemble itself
/// survives a write and a read.
@Suite("Topology spread over an ensemble")
struct TopologySpreadTests {
    func ensemble() -> SurfaceFile {
        let axis = (0..<9).map { -1 + 2 * Double($0) / 8 }
        let grid = SurfaceGrid(x: axis, y: axis)
        let members: [[SurfaceQuantity: [Double]]] = (0..<3).map { k in
            let w = 1 + 0.5 * Double(k)
            return [.trainLoss: axis.flatMap { b in axis.map { a in w * a * a + b * b + 0.1 * Double(k) * sin(5 * a) } }]
        }
        var file = SurfaceFile(grid: grid, values: members[0], directionFile: "")
        file.groups[SurfaceRepeats.groupName] = SurfaceRepeats(kind: .subsets, seeds: [0, 2, 4], members: members, grid: grid).storedGroup
        return file
    }

    @Test func eachNumberIsTheMembersMeanAndDeviation() throws {
        let path = try temporaryPath("ensemble.h5", label: "spread")
        try ensemble().write(to: path)
        let file = try SurfaceFile.read(from: path)
        let repeats = try #require(file.repeats)
        #expect(repeats == ensemble().repeats)
        #expect(repeats.kind == .subsets && repeats.seeds == [0, 2, 4])
        let levels = SurfaceTopology.defaultRises.map { CentreBasin.LevelSpec.rise($0) }
        let spread = try #require(file.topologySpread(of: "train_loss", levels: levels))
        let members = repeats.members.map {
            SurfaceTopology(quantity: "train_loss", field: GridField(grid: file.grid, values: $0[.trainLoss]!), levels: levels)
        }
        let roughness = try #require(spread.numbers.first { $0.name == "roughness_alpha" })
        #expect(roughness.values == members.map(\.roughness.alpha))
        let direct = SurfaceRepeats.spread(of: members.map(\.roughness.alpha))
        #expect(roughness.mean == direct.mean && roughness.standardDeviation == direct.standardDeviation && roughness.count == 3)
        #expect(roughness.standardDeviation > 0, "the members differ")
        let area = try #require(spread.numbers.first { $0.name == "basin_area_2" })
        #expect(area.values == members.map { $0.centreBasin!.levels[2].area })

        let stored = file.storing(members[0]).storing(spread)
        try stored.write(to: path)
        let group = try #require(try SurfaceFile.read(from: path).groups["analysis"]?.groups["train_loss"]?.groups["repeats"])
        #expect(group.datasets["roughness_alpha"]?.values == roughness.values)
        #expect(group.numberAttributes["roughness_alpha_std"] == roughness.standardDeviation)
        #expect(group.numberAttributes["members"] == 3)
    }

    @Test func aPlainSurfaceHasNoSpread() {
        var file = ensemble()
        file.groups = [:]
        #expect(file.repeats == nil)
        #expect(file.topologySpread(of: "train_loss", levels: [.rise(0.1)]) == nil)
    }
}
