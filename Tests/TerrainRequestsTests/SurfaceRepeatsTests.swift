import Testing
import Foundation
import TerrainTensor
import TerrainLandscape
import TerrainRequests

/// `terrain surface --repeats K` through the request: member 0 is the plain run, member k the
/// plain run with --seed + 2k, the statistics are the members', a killed run resumes to the same
/// file, and the refusals.
@Suite("Surface ensembles (--repeats)")
struct SurfaceRepeatsTests {
    struct Killed: Error {}

    /// A bumpy function of six parameters (a weight matrix and a bias, so directions are filter
    /// normalized); `failAfter` evaluations, it throws like a killed process.
    final class Bumpy {
        var calls = 0
        var failAfter: Int?
        let groups: [ParameterGroup] = .tiling([("w", [2, 2], .weight), ("b", [2], .bias)])
        func objective() -> ClosureObjective {
            ClosureObjective(groups: groups, initial: [1, -0.5, 0.25, 2, 0.1, -0.1]) { [self] w, _ in
                calls += 1
                if let limit = failAfter, calls > limit { throw Killed() }
                let loss = sin(3 * w[0]) * cos(2 * w[1]) + w[2] * w[2] + 0.5 * w[3] * w[3] * w[3] + w[4]
                return ObjectiveValue(loss: loss, accuracy: 50 + 10 * tanh(w[0] - w[3]))
            }
        }
    }

    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-repeats-\(UUID().uuidString)").path
    let axis = Axis(minimum: -1, maximum: 1, count: 5)

    func request(_ name: String, seed: UInt64 = 7, repeats: SurfaceRequest.Repeats? = nil, twoDimensional: Bool = true,
                 bumpy: Bumpy = Bumpy()) -> SurfaceRequest {
        SurfaceRequest(model: .objective(bumpy.objective(), data: "bumpy"), x: axis, y: twoDimensional ? axis : nil,
                       directions: .random(RandomDirections(seed: seed)), output: folder + "/" + name, repeats: repeats)
    }

    func bits(_ v: [Double]?) -> [UInt64] { (v ?? []).map(\.bitPattern) }

    @Test func oneMemberIsThePlainRunBitForBit() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plain = try request("plain.h5").run(progress: .silent)
        let one = try request("one.h5", repeats: .init(kind: .directions, members: 1)).run(progress: .silent)
        for q in [SurfaceQuantity.trainLoss, .trainAccuracy] { #expect(bits(plain.values[q]) == bits(one.values[q])) }
        #expect(plain.textAttributes[SurfaceRunner.fingerprintKey] == one.textAttributes[SurfaceRunner.fingerprintKey])
        #expect(one.repeats == nil)
    }

    @Test func membersAreThePlainRunsOfTheirSeedsAndTheStatisticsAreTheirs() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let written = try request("three.h5", repeats: .init(kind: .directions, members: 3)).run(progress: .silent)
        let file = try SurfaceFile.read(from: folder + "/three.h5")
        let repeats = try #require(file.repeats)
        #expect(repeats.kind == .directions && repeats.members.count == 3 && repeats.seeds == [7, 9, 11])
        #expect(written.repeats == repeats)
        for k in 0..<3 {
            let plain = try request("plain\(k).h5", seed: 7 + 2 * UInt64(k)).run(progress: .silent)
            for q in [SurfaceQuantity.trainLoss, .trainAccuracy] {
                #expect(bits(repeats.members[k][q]) == bits(plain.values[q]), "member \(k), \(q)")
                if k == 0 { #expect(bits(file.values[q]) == bits(plain.values[q]), "the surface is member 0") }
            }
            #expect(repeats.memberAttributes[k][DirectionFile.digestAttribute] == plain.textAttributes[DirectionFile.digestAttribute])
        }
        let losses = repeats.members.map { $0[.trainLoss]! }
        #expect(losses[0] != losses[1] && losses[1] != losses[2], "other directions, another landscape")
        let stored = try #require(file.groups["repeats"])
        for q in [SurfaceQuantity.trainLoss, .trainAccuracy] {
            let mean = try #require(stored.groups["mean"]?.datasets[q.rawValue]), std = try #require(stored.groups["std"]?.datasets[q.rawValue])
            let count = try #require(stored.groups["count"]?.datasets[q.rawValue])
            #expect(mean.shape == [5, 5])
            for point in 0..<25 {
                let v = repeats.members.map { $0[q]![point] }
                let m = (v[0] + v[1] + v[2]) / 3
                let s = (((v[0] - m) * (v[0] - m) + (v[1] - m) * (v[1] - m) + (v[2] - m) * (v[2] - m)) / 2).squareRoot()
                #expect(mean.values[point] == m && std.values[point] == s && count.values[point] == 3)
            }
        }
    }

    @Test func aRunKilledInTheMiddleOfAMemberResumesToTheSameFile() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let repeats = SurfaceRequest.Repeats(kind: .directions, members: 3)
        let whole = try request("whole.h5", repeats: repeats, twoDimensional: false).run(progress: .silent)
        let killed = Bumpy()
        killed.failAfter = 7   // 5 points per member: killed in member 1
        #expect(throws: Killed.self) { try request("resumed.h5", repeats: repeats, twoDimensional: false, bumpy: killed).run(progress: .silent) }
        let second = Bumpy()
        let resumed = try request("resumed.h5", repeats: repeats, twoDimensional: false, bumpy: second).run(progress: .silent)
        #expect(second.calls == 15 - 7)
        #expect(resumed.numberAttributes["terrain.resumed_points"] == 7)
        let (a, b) = (try #require(whole.repeats), try #require(resumed.repeats))
        for k in 0..<3 {
            for q in [SurfaceQuantity.trainLoss, .trainAccuracy] { #expect(bits(a.members[k][q]) == bits(b.members[k][q])) }
        }
        #expect(bits(whole.values[.trainLoss]) == bits(resumed.values[.trainLoss]))
        #expect(!FileManager.default.fileExists(atPath: folder + "/resumed.h5.journal"))
    }

    @Test func aPlainFileIsNotTakenForAnEnsemble() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try request("s.h5").run(progress: .silent)
        #expect(throws: LandscapeError.self) { try request("s.h5", repeats: .init(kind: .directions, members: 2)).run(progress: .silent) }
    }

    @Test func refusals() throws {
        func refused(_ r: SurfaceRequest, _ words: String) {
            do { try r.validate(); Issue.record("accepted: \(words)") } catch { #expect("\(error)".contains(words), "\(error)") }
        }
        refused(request("a.h5", repeats: .init(kind: .directions, members: 0)), "from 1 to")
        refused(request("a.h5", repeats: .init(kind: .subsets, members: 3)), "give --subset too")
        var fromFile = request("a.h5", repeats: .init(kind: .directions, members: 3))
        fromFile.directions = .file("d.h5")
        refused(fromFile, "--directions d.h5 gives one fixed pair")
        var subsets = request("a.h5", repeats: .init(kind: .subsets, members: 3))
        subsets.data.subset = 10
        refused(subsets, "an objective given in Swift has none")
        var adaptive = request("a.h5", repeats: .init(kind: .directions, members: 2))
        adaptive.adaptive = AdaptiveSettings(levels: 1, tolerance: 0.25)
        refused(adaptive, "--adaptive")
    }

    @Test func theSpreadIsTheMeanAndSampleDeviationOfTheFiniteValues() {
        let s = SurfaceRepeats.spread(of: [1, 2, .infinity, 4, .nan])
        #expect(s.count == 3 && s.mean == 7.0 / 3)
        #expect(abs(s.standardDeviation - (((1 - 7.0 / 3) * (1 - 7.0 / 3) + (2 - 7.0 / 3) * (2 - 7.0 / 3) + (4 - 7.0 / 3) * (4 - 7.0 / 3)) / 2).squareRoot()) == 0)
        #expect(SurfaceValue.isNotComputed(SurfaceRepeats.summary(of: [1, .nan, 2]).mean))
        #expect(SurfaceValue.isInvalid(SurfaceRepeats.summary(of: [1, .infinity]).standardDeviation))
        #expect(SurfaceRepeats.summary(of: [.infinity, SurfaceValue.invalid]).count == 0)
    }
}
