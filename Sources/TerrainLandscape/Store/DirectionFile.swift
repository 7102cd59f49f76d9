import Foundation
import TerrainIO

/// Directions in the reference's HDF5 layout: groups `xdirection` and (for 2D) `ydirection`,
/// each with one dataset per covered tensor named "0", "1", … in parameter order (trainable
/// tensors for `weights`, all tensors for `states`).
public enum DirectionFile {
    public static func write(_ directions: [Direction], groups: [ParameterGroup], type: DirectionType,
                             attributes: [String: String] = [:], to path: String) throws {
        let names = ["xdirection", "ydirection"]
        precondition(directions.count <= 2)
        try HDF5File.writeAtomically(to: path, what: "directions") { file in
            for (d, name) in zip(directions, names) {
                for (k, group) in groups.filter(type.covers).enumerated() {
                    try file.write(Array(d.values[group.range]), shape: group.shape, to: "\(name)/\(k)")
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
            var result: [Direction] = []
            for name in ["xdirection", "ydirection"] where file.exists(name) {
                let datasets = try file.datasetNames(in: name)
                guard datasets.count == covered.count else {
                    throw LandscapeError.incompatibleFile(path, "\(name) has \(datasets.count) tensors, the model's \(type.rawValue) have \(covered.count)")
                }
                var d = Direction(zeros: groups.scalarCount)
                for (k, group) in covered.enumerated() {
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
