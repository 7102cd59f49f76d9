import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainModels
import TerrainIO
import TerrainLandscape
import TerrainTestSupport

/// Direction files in the reference's layout: a `states` file lists every state_dict entry in
/// order, batch norm's `num_batches_tracked` counters included (the reference's `set_states`
/// zips the two lists), and files written without the counters still load.
@Suite("Direction files")
struct DirectionFileTests {
    func model() throws -> (groups: [ParameterGroup], theta: [Double]) {
        let model: Module<Float> = try ModelSpec(architecture: "resnet8", width: 0.5, inputShape: [3, 8, 8], outputs: 4, seed: 1).build()
        let named = model.namedParameters()
        let groups = [ParameterGroup].tiling(named.map { ($0.name, $0.parameter.shape, $0.parameter.role) })
        return (groups, named.flatMap { $0.parameter.value.scalars.map(Double.init) })
    }

    @Test func statesFilesListTheCountersAfterEachRunningVariance() throws {
        let (groups, _) = try model()
        let dx = Direction.random(groups: groups, type: .states, seed: 1), dy = Direction.random(groups: groups, type: .states, seed: 2)
        let variances = groups.filter { $0.role == .runningVariance }
        #expect(!variances.isEmpty)
        var counters: [String: [Double]] = [:]
        for (k, v) in variances.enumerated() {
            counters[String(v.name.dropLast("running_var".count)) + "num_batches_tracked"] = [Double(10 + k), 0]
        }
        let path = try temporaryPath("states.h5", label: "dirfile")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try DirectionFile.write([dx, dy], groups: groups, type: .states, counters: counters, to: path)

        // The state_dict's order: each counter right after its layer's running variance.
        var expected: [(name: String, shape: [Int])] = []
        for g in groups {
            expected.append((g.name, g.shape))
            if g.role == .runningVariance { expected.append((String(g.name.dropLast("running_var".count)) + "num_batches_tracked", [])) }
        }
        let file = try HDF5File(path: path, mode: .readOnly)
        for (axis, name) in ["xdirection", "ydirection"].enumerated() {
            #expect(try file.datasetNames(in: name).count == expected.count)
            for (k, entry) in expected.enumerated() {
                let (shape, values) = try file.readDoubles("\(name)/\(k)")
                #expect(shape == entry.shape, "\(name)/\(k) is \(entry.name)")
                if let counter = counters[entry.name] { #expect(values == [counter[axis]], "\(entry.name)") }
            }
        }
        file.close()
        // Read back: the same directions.
        let read = try DirectionFile.read(from: path, groups: groups, type: .states)
        #expect(read.map(\.values) == [dx.values, dy.values])
    }

    @Test func filesWithoutCountersStillLoad() throws {
        let (groups, _) = try model()
        let dx = Direction.random(groups: groups, type: .states, seed: 3)
        let path = try temporaryPath("old.h5", label: "dirfile")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try DirectionFile.write([dx], groups: groups, type: .states, to: path)
        let file = try HDF5File(path: path, mode: .readOnly)
        #expect(try file.datasetNames(in: "xdirection").count == groups.count)
        file.close()
        #expect(try DirectionFile.read(from: path, groups: groups, type: .states).map(\.values) == [dx.values])
        // weights files have no counters either way.
        let weights = Direction.random(groups: groups, type: .weights, seed: 4)
        try DirectionFile.write([weights], groups: groups, type: .weights, counters: ["bn1.num_batches_tracked": [1]], to: path)
        #expect(try DirectionFile.read(from: path, groups: groups, type: .weights).map(\.values) == [weights.values])
    }

    @Test func aCounterMissingAValueIsRefusedBeforeAnythingIsWritten() throws {
        let (groups, _) = try model()
        let dx = Direction.random(groups: groups, type: .states, seed: 5)
        let path = try temporaryPath("refused.h5", label: "dirfile")
        #expect(throws: LandscapeError.self) {
            try DirectionFile.write([dx], groups: groups, type: .states, counters: ["bn1.num_batches_tracked": [1]], to: path)
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
