import Foundation
import TerrainIO
import TerrainTensor

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
    public static func write(_ directions: [Direction], groups: [ParameterGroup], type: TensorSet,
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
            try file.setAttribute(digestAttribute, digest(directions, groups: groups, type: type))
        }
    }

    /// The attribute holding `digest` in a direction file, and in each surface computed along it.
    public static let digestAttribute = "terrain.directions_digest"

    /// A digest of the directions as their file holds them (the covered tensors' values, FNV-1a
    /// over their bit patterns): a surface records the digest of its directions, so that a
    /// direction file rewritten by another request is noticed instead of used with it.
    public static func digest(_ directions: [Direction], groups: [ParameterGroup], type: TensorSet) -> String {
        var hasher = FingerprintHasher()
        let covered = groups.filter(type.covers)
        for d in directions {
            hasher.mix(UInt64(covered.count))
            for group in covered {
                hasher.mix(UInt64(group.count))
                for v in d.values[group.range] { hasher.mix(v.bitPattern) }
            }
        }
        return hasher.hex
    }

    /// Throws unless `directions` (read from `path`) are those the surface at `surfacePath` was
    /// computed along, when the surface recorded their digest (older files did not).
    public static func checkMatches(_ directions: [Direction], groups: [ParameterGroup], type: TensorSet,
                                    path: String, surface: SurfaceFile, surfacePath: String) throws {
        guard let recorded = surface.textAttributes[digestAttribute] else { return }
        let count = surface.grid.isTwoDimensional ? 2 : 1
        guard directions.count >= count,
              digest(Array(directions.prefix(count)), groups: groups, type: type) == recorded else {
            throw LandscapeError.incompatibleFile(path, "does not hold the directions \(surfacePath) was computed along (its digest differs from the surface's \(digestAttribute) \(recorded)): it was rewritten for another request; compute the surface again or give the right file")
        }
    }

    /// Reads the x (and y, if present) directions, checking every tensor's shape against `groups`.
    public static func read(from path: String, groups: [ParameterGroup], type: TensorSet) throws -> [Direction] {
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

    /// Where the direction file of the surface at `surfacePath` may be, most likely first:
    /// `dir_file` as written (relative to the folder the run was started in, as the reference
    /// stores it), `dir_file` relative to the surface's folder, its name in the surface's folder
    /// (a folder moved or copied elsewhere), and `S.directions.h5` beside `S.h5`.
    public static func candidates(for surface: SurfaceFile, at surfacePath: String) -> [String] {
        let folder = URL(fileURLWithPath: surfacePath).deletingLastPathComponent()
        var paths: [String] = []
        let recorded = surface.directionFile
        if !recorded.isEmpty {
            paths.append(recorded)
            if !recorded.hasPrefix("/") { paths.append(folder.appendingPathComponent(recorded).path) }
            paths.append(folder.appendingPathComponent(URL(fileURLWithPath: recorded).lastPathComponent).path)
        }
        let stem = surfacePath.hasSuffix(".h5") ? String(surfacePath.dropLast(3)) : surfacePath
        paths.append(stem + ".directions.h5")
        var seen = Set<String>()
        return paths.filter { seen.insert(URL(fileURLWithPath: $0).standardizedFileURL.path).inserted }
    }

    /// The directions the surface at `surfacePath` was computed along, from the first of its
    /// `candidates` that exists and (when the surface recorded their digest) holds them.
    public static func read(for surface: SurfaceFile, at surfacePath: String, groups: [ParameterGroup],
                            type: TensorSet) throws -> (path: String, directions: [Direction]) {
        let existing = candidates(for: surface, at: surfacePath).filter { FileManager.default.fileExists(atPath: $0) }
        var firstError: Error?
        for path in existing {
            do {
                let directions = try read(from: path, groups: groups, type: type)
                try checkMatches(directions, groups: groups, type: type, path: path, surface: surface, surfacePath: surfacePath)
                return (path, directions)
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
        throw LandscapeError.incompatibleFile(surfacePath, "cannot find its direction file (tried \(candidates(for: surface, at: surfacePath).joined(separator: ", ")))")
    }
}
