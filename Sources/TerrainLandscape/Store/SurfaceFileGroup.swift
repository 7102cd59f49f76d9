import TerrainIO

/// An HDF5 group stored in a surface file beside the surface (`analysis/`, written by `terrain
/// analyze`), kept as it is when the file is read and written again, so a later writer of the
/// same file (`terrain hessian-map` adding its curvature) does not drop it.
///
/// It holds what Terrain writes into groups: numeric datasets with their shapes, string lists,
/// string and number attributes, and groups inside it (at most `maximumDepth` levels deep; deeper
/// ones, datasets of other types and groups without any dataset are not kept). A surface file written anew by a
/// computation (a resumed `terrain surface`) starts without groups: what they described may
/// have changed.
public struct SurfaceFileGroup: Sendable, Equatable {
    public struct NumericDataset: Sendable, Equatable {
        public var shape: [Int]
        public var values: [Double]
        public init(shape: [Int], values: [Double]) { self.shape = shape; self.values = values }
    }

    public var datasets: [String: NumericDataset] = [:]
    public var textDatasets: [String: [String]] = [:]
    public var textAttributes: [String: String] = [:]
    public var numberAttributes: [String: Double] = [:]
    public var groups: [String: SurfaceFileGroup] = [:]

    public init() {}

    /// How deep groups inside groups are read.
    static let maximumDepth = 4

    /// Reads the group at `path` (and its groups, to `maximumDepth`).
    static func read(from file: HDF5File, at path: String, depth: Int = 1) throws -> SurfaceFileGroup {
        var group = SurfaceFileGroup()
        for name in try file.datasetNames(in: path) {
            let full = path + "/" + name
            if let (shape, values) = try? file.readDoubles(full) {
                group.datasets[name] = NumericDataset(shape: shape, values: values)
            } else if let strings = try? file.readStrings(full) {
                group.textDatasets[name] = strings
            }
        }
        for name in try file.attributeNames(on: path) {
            switch try file.attribute(name, on: path) {
            case .string(let s)?: group.textAttributes[name] = s
            case .double(let d)?: group.numberAttributes[name] = d
            case .int(let i)?: group.numberAttributes[name] = Double(i)
            default: break
            }
        }
        if depth < maximumDepth {
            for name in try file.groupNames(in: path) {
                group.groups[name] = try read(from: file, at: path + "/" + name, depth: depth + 1)
            }
        }
        return group
    }

    /// Writes the group at `path`. Writing a dataset creates the groups above it, so a group is
    /// written only where it holds a dataset somewhere inside it; one holding attributes alone is
    /// not kept.
    func write(to file: HDF5File, at path: String) throws {
        for (name, dataset) in datasets { try file.write(dataset.values, shape: dataset.shape, to: path + "/" + name) }
        for (name, strings) in textDatasets { try file.writeStrings(strings, to: path + "/" + name) }
        for (name, group) in groups { try group.write(to: file, at: path + "/" + name) }
        guard file.exists(path) else { return }
        for (name, value) in textAttributes { try file.setAttribute(name, value, on: path) }
        for (name, value) in numberAttributes { try file.setAttribute(name, value, on: path) }
    }
}
