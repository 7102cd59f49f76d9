import Foundation
import TerrainIO

/// Directions in the reference's HDF5 layout: groups `xdirection` and (for 2D) `ydirection`,
/// each with one dataset per covered tensor named "0", "1", … in parameter order (trainable
/// tensors for `weights`, all tensors for `states`).
///
/// The reference's `set_states` zips the model's whole `state_dict` with a `states` direction's
/// entries, so such a file must hold an entry for every state_dict key, in its order: batch
/// norm's `num_batches_tracked` counter too, right after the layer's running variance, as a
/// scalar. The writer adds them when given `counters` (by their state_dict names); the reader
/// takes files with or without them (files written before they were added have none).
public enum DirectionFile {
    /// PyTorch's name of a batch-norm counter: "<layer>.num_batches_tracked".
    public static let counterSuffix = "num_batches_tracked"

    /// The counter that follows `group` in a state_dict: its name when `group` is a running
    /// variance ("<layer>.running_var"), else nil.
    static func counterName(after group: ParameterGroup) -> String? {
        guard group.role == .runningVariance, group.name.hasSuffix("running_var") else { return nil }
        return String(group.name.dropLast("running_var".count)) + counterSuffix
    }

    /// - Parameter counters: for `states`, each batch-norm counter's value along each direction
    ///   (one per direction, by state_dict name; every running variance's counter or none). In the
    ///   reference a random direction's entry for a counter is a copy of the counter (0 with
    ///   `ignore=biasbn`), like every tensor of ≤ 1 dimension; a two-model direction's is the
    ///   difference of the counters.
    public static func write(_ directions: [Direction], groups: [ParameterGroup], type: DirectionType,
                             counters: [String: [Double]] = [:], attributes: [String: String] = [:], to path: String) throws {
        let names = ["xdirection", "ydirection"]
        precondition(directions.count <= 2)
        let covered = groups.filter(type.covers)
        let withCounters = type == .states && !counters.isEmpty
        if withCounters {
            for group in covered {
                guard let name = counterName(after: group) else { continue }
                guard let values = counters[name], values.count == directions.count else {
                    throw LandscapeError.invalidRequest("no value along each direction for the counter \(name)")
                }
            }
        }
        try HDF5File.writeAtomically(to: path, what: "directions") { file in
            for (index, (d, name)) in zip(directions, names).enumerated() {
                var k = 0
                for group in covered {
                    try file.write(Array(d.values[group.range]), shape: group.shape, to: "\(name)/\(k)")
                    k += 1
                    if withCounters, let counter = counterName(after: group), let values = counters[counter] {
                        try file.write([values[index]], shape: [], to: "\(name)/\(k)")
                        k += 1
                    }
                }
            }
            for (k, v) in attributes { try file.setAttribute(k, v) }
            try file.setAttribute("terrain.direction_type", type.rawValue)
        }
    }

    /// Reads the x (and y, if present) directions, checking every tensor's shape against `groups`.
    public static func read(from path: String, groups: [ParameterGroup], type: DirectionType) throws -> [Direction] {
        do {
            let file = try HDF5File(path: path, mode: .readOnly)
            defer { file.close() }
            let covered = groups.filter(type.covers)
            let counterCount = type == .states ? covered.filter { counterName(after: $0) != nil }.count : 0
            var result: [Direction] = []
            for name in ["xdirection", "ydirection"] where file.exists(name) {
                let datasets = try file.datasetNames(in: name)
                // With the batch-norm counters (the reference's layout) or without (older files).
                let hasCounters = counterCount > 0 && datasets.count == covered.count + counterCount
                guard datasets.count == covered.count || hasCounters else {
                    throw LandscapeError.incompatibleFile(path, "\(name) has \(datasets.count) tensors, the model's \(type.rawValue) have \(covered.count)"
                                                          + (counterCount > 0 ? " (\(covered.count + counterCount) with the batch-norm counters)" : ""))
                }
                var d = Direction(zeros: groups.scalarCount)
                var k = 0
                for group in covered {
                    defer { k += hasCounters && counterName(after: group) != nil ? 2 : 1 }
                    let (shape, values) = try file.readDoubles("\(name)/\(k)")
                    guard values.count == group.count else {
                        throw LandscapeError.incompatibleFile(path, "\(name)/\(k) has shape \(shape), \(group.name) is \(group.shape)")
                    }
                    for i in 0..<group.count { d.values[group.offset + i] = values[i] }
                }
                result.append(d)
            }
            guard !result.isEmpty else { throw LandscapeError.incompatibleFile(path, "no xdirection group") }
            return result
        } catch let error as LandscapeError {
            throw error
        } catch {
            throw LandscapeError.incompatibleFile(path, "cannot read directions: \(error)")
        }
    }
}
