/// How `terrain analyze` stores a `SurfaceTopology` in the surface file: the group
/// `analysis/<quantity>/` (one per quantity analysed, so `train_loss` and `test_loss` live side
/// by side; analysing a quantity again replaces its group). Everything else in the file stays as
/// it was. Lists are 1-D float64 datasets, one entry per point listed, so h5py reads each as a
/// column:
///
///     critical_kind            (len(y), len(x))  0 regular or excluded, 1 minimum, 2 saddle, 3 maximum
///     minimum_alpha, _beta, _value (birth), _death (+inf: never dies), _persistence,
///     minimum_saddle_alpha, _beta (NaN: never dies), minimum_on_edge (0/1)
///                                                by decreasing persistence (`MinimumPersistence`)
///     saddle_alpha, _beta, _value, _multiplicity, _on_edge     in index order
///     maximum_alpha, _beta, _value, _on_edge                    in index order
///     basin_level, basin_rise (the fraction of the range; NaN for an absolute level), basin_points,
///     basin_area, basin_width_alpha, basin_width_beta, basin_open, basin_width_alpha_open,
///     basin_width_beta_open                      one entry per level (`CentreBasin`)
///
/// and the group's attributes: `quantity`, `valid_points`, `excluded_points`, `minimum`,
/// `maximum`, `roughness_alpha`, `roughness_beta`, `roughness_relative_alpha`,
/// `roughness_relative_beta` (`SurfaceRoughness`), the counts `minima`, `saddles`, `maxima`,
/// and, when the centre is valid, `centre_alpha`, `centre_beta`, `basin_minimum_alpha`,
/// `basin_minimum_beta`, `basin_minimum`, `basin_merge_level` (+inf: never merges).
extension SurfaceTopology {
    /// The name of the group holding every quantity's analysis.
    public static let groupName = "analysis"

    /// The analysis as a group of the surface file.
    public var storedGroup: SurfaceFileGroup {
        var group = SurfaceFileGroup()
        func put(_ name: String, _ values: [Double]) {
            group.datasets[name] = .init(shape: [values.count], values: values)
        }
        func flag(_ b: Bool) -> Double { b ? 1 : 0 }
        var kinds = [Double](repeating: 0, count: field.values.count)
        for point in criticalPoints { kinds[point.index] = Double(point.kind.rawValue) }
        group.datasets["critical_kind"] = .init(shape: field.grid.shape, values: kinds)

        let edge = field.isOnEdge
        put("minimum_alpha", persistence.map { field.coordinates(of: $0.minimum).alpha })
        put("minimum_beta", persistence.map { field.coordinates(of: $0.minimum).beta })
        put("minimum_value", persistence.map(\.birth))
        put("minimum_death", persistence.map(\.death))
        put("minimum_persistence", persistence.map(\.persistence))
        put("minimum_saddle_alpha", persistence.map { $0.saddle.map { field.coordinates(of: $0).alpha } ?? .nan })
        put("minimum_saddle_beta", persistence.map { $0.saddle.map { field.coordinates(of: $0).beta } ?? .nan })
        put("minimum_on_edge", persistence.map { flag(edge($0.minimum)) })
        for (kind, prefix) in [(CriticalPointKind.saddle, "saddle"), (.maximum, "maximum")] {
            let list = points(kind)
            put(prefix + "_alpha", list.map(\.alpha))
            put(prefix + "_beta", list.map(\.beta))
            put(prefix + "_value", list.map(\.value))
            if kind == .saddle { put("saddle_multiplicity", list.map { Double($0.multiplicity) }) }
            put(prefix + "_on_edge", list.map { flag($0.onEdge) })
        }
        let levels = centreBasin?.levels ?? []
        put("basin_level", levels.map(\.value))
        put("basin_rise", levels.map { if case .rise(let r) = $0.spec { r } else { .nan } })
        put("basin_points", levels.map { Double($0.pointCount) })
        put("basin_area", levels.map(\.area))
        put("basin_width_alpha", levels.map(\.widthAlpha))
        put("basin_width_beta", levels.map(\.widthBeta))
        put("basin_open", levels.map { flag($0.open) })
        put("basin_width_alpha_open", levels.map { flag($0.widthAlphaOpen) })
        put("basin_width_beta_open", levels.map { flag($0.widthBetaOpen) })

        group.textAttributes["quantity"] = quantity
        let numbers: [String: Double] = [
            "valid_points": Double(validPoints), "excluded_points": Double(excludedPoints),
            "minimum": minimumValue, "maximum": maximumValue,
            "roughness_alpha": roughness.alpha, "roughness_beta": roughness.beta,
            "roughness_relative_alpha": roughness.relativeAlpha, "roughness_relative_beta": roughness.relativeBeta,
            "minima": Double(points(.minimum).count), "saddles": Double(points(.saddle).count),
            "maxima": Double(points(.maximum).count),
        ]
        group.numberAttributes = numbers
        if let basin = centreBasin {
            let (ca, cb) = field.coordinates(of: basin.centre), (ma, mb) = field.coordinates(of: basin.minimum)
            group.numberAttributes.merge(["centre_alpha": ca, "centre_beta": cb, "basin_minimum_alpha": ma,
                                          "basin_minimum_beta": mb, "basin_minimum": basin.minimumValue,
                                          "basin_merge_level": basin.mergeLevel]) { $1 }
        }
        return group
    }
}

extension SurfaceFile {
    /// The file with `topology` stored as `analysis/<quantity>/` (replacing an earlier analysis of
    /// the same quantity; other quantities' analyses stay).
    public func storing(_ topology: SurfaceTopology) -> SurfaceFile {
        var file = self
        file.groups[SurfaceTopology.groupName, default: SurfaceFileGroup()].groups[topology.quantity] = topology.storedGroup
        return file
    }

    /// Analyses the quantity `name` of the 2D surface file at `path`: the file's errors name it
    /// (a 1D curve, a quantity it lacks).
    public static func topology(at path: String, quantity name: String,
                                levels: [CentreBasin.LevelSpec] = SurfaceTopology.defaultRises.map { .rise($0) })
        throws -> (file: SurfaceFile, topology: SurfaceTopology) {
        let file = try SurfaceFile.read(from: path)
        try file.requireTwoDimensional(path: path, for: "analyze")
        let values = try file.values(of: name, path: path)
        return (file, SurfaceTopology(quantity: name, field: GridField(grid: file.grid, values: values), levels: levels))
    }
}

/// What `terrain analyze` stored for one quantity, read back from the file's group (the layout
/// above) for the figures: positions of the critical points, the centre basin's minimum and its
/// levels.
public struct StoredTopology: Sendable {
    public var minima: [(alpha: Double, beta: Double)]
    public var saddles: [(alpha: Double, beta: Double)]
    public var maxima: [(alpha: Double, beta: Double)]
    /// The centre basin's minimum, nil when the centre was excluded.
    public var basinMinimum: (alpha: Double, beta: Double)?
    /// The basin's levels with the fraction of the range each rose by (nil: an absolute level).
    public var basinLevels: [(level: Double, rise: Double?)]

    /// The level a figure outlines: the +10% one when stored, else the first.
    public var outlinedLevel: Double? {
        (basinLevels.first { $0.rise == 0.1 } ?? basinLevels.first)?.level
    }
}

extension SurfaceFile {
    /// The analysis `terrain analyze` stored for `quantity`, or nil when there is none (or it
    /// is not in the layout `SurfaceTopology.storedGroup` writes).
    public func storedTopology(of quantity: String) -> StoredTopology? {
        guard let group = groups[SurfaceTopology.groupName]?.groups[quantity] else { return nil }
        func list(_ name: String) -> [Double]? { group.datasets[name]?.values }
        func points(_ prefix: String) -> [(alpha: Double, beta: Double)]? {
            guard let a = list(prefix + "_alpha"), let b = list(prefix + "_beta"), a.count == b.count else { return nil }
            return zip(a, b).map { ($0, $1) }
        }
        guard let minima = points("minimum"), let saddles = points("saddle"), let maxima = points("maximum"),
              let levels = list("basin_level"), let rises = list("basin_rise"), levels.count == rises.count else { return nil }
        let basin = group.numberAttributes["basin_minimum_alpha"].flatMap { a in group.numberAttributes["basin_minimum_beta"].map { (a, $0) } }
        return StoredTopology(minima: minima, saddles: saddles, maxima: maxima, basinMinimum: basin,
                              basinLevels: zip(levels, rises).map { ($0, $1.isNaN ? nil : $1) })
    }
}
