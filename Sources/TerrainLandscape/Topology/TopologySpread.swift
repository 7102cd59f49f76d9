/// How the topology of an ensemble's members spreads (`terrain analyze` on a file with
/// `repeats/`, `SurfaceRepeats`): each member analysed as one surface (`SurfaceTopology`, the same
/// levels), and per number its value for every member with their mean and sample standard
/// deviation (`SurfaceRepeats.spread`: over the members where the number is finite, ddof = 1).
///
/// The numbers: the counts of minima, saddles and maxima, the valid points, the lowest value,
/// the roughness along α and β (absolute and relative to the range), the centre basin's minimum,
/// and at each basin level i (as `analysis/<quantity>/basin_level` lists them) the basin's area
/// and widths, `basin_area_<i>`, `basin_width_alpha_<i>`, `basin_width_beta_<i>` (NaN for a
/// member whose centre is excluded; a basin open at the grid's edge counts at its measured size).
///
/// Stored as `analysis/<quantity>/repeats/`: one dataset per number, its K member values in
/// member order, with the attributes `<number>_mean`, `<number>_std` and `<number>_count`
/// (members where it is finite), and `members`.
public struct TopologySpread: Sendable {
    public struct Number: Sendable {
        public var name: String
        /// One value per member, in member order.
        public var values: [Double]
        public var mean: Double
        public var standardDeviation: Double
        /// The members where the number is finite.
        public var count: Int
    }

    public static let groupName = "repeats"

    public var quantity: String
    public var memberCount: Int
    public var numbers: [Number]

    /// The spread of `members`' numbers (each a `SurfaceTopology` of one member, same levels).
    public init(quantity: String, members: [SurfaceTopology]) {
        self.quantity = quantity
        memberCount = members.count
        func number(_ name: String, _ value: (SurfaceTopology) -> Double) -> Number {
            let values = members.map(value)
            let s = SurfaceRepeats.spread(of: values)
            return Number(name: name, values: values, mean: s.mean, standardDeviation: s.standardDeviation, count: s.count)
        }
        var numbers = [
            number("minima") { Double($0.points(.minimum).count) },
            number("saddles") { Double($0.points(.saddle).count) },
            number("maxima") { Double($0.points(.maximum).count) },
            number("valid_points") { Double($0.validPoints) },
            number("minimum") { $0.minimumValue },
            number("roughness_alpha") { $0.roughness.alpha },
            number("roughness_beta") { $0.roughness.beta },
            number("roughness_relative_alpha") { $0.roughness.relativeAlpha },
            number("roughness_relative_beta") { $0.roughness.relativeBeta },
            number("basin_minimum") { $0.centreBasin?.minimumValue ?? .nan },
        ]
        let levelCount = members.map { $0.centreBasin?.levels.count ?? 0 }.max() ?? 0
        for i in 0..<levelCount {
            func level(_ t: SurfaceTopology) -> CentreBasin.Level? {
                guard let levels = t.centreBasin?.levels, i < levels.count, levels[i].pointCount > 0 else { return nil }
                return levels[i]
            }
            numbers.append(number("basin_area_\(i)") { level($0)?.area ?? .nan })
            numbers.append(number("basin_width_alpha_\(i)") { level($0)?.widthAlpha ?? .nan })
            numbers.append(number("basin_width_beta_\(i)") { level($0)?.widthBeta ?? .nan })
        }
        self.numbers = numbers
    }

    /// The group `repeats/` of `analysis/<quantity>/` in the layout above.
    public var storedGroup: SurfaceFileGroup {
        var group = SurfaceFileGroup()
        group.numberAttributes["members"] = Double(memberCount)
        for n in numbers {
            group.datasets[n.name] = .init(shape: [n.values.count], values: n.values)
            group.numberAttributes[n.name + "_mean"] = n.mean
            group.numberAttributes[n.name + "_std"] = n.standardDeviation
            group.numberAttributes[n.name + "_count"] = Double(n.count)
        }
        return group
    }
}

extension SurfaceFile {
    /// The file with `spread` stored as `analysis/<quantity>/repeats/` (after `storing(_:)` of the
    /// member 0 analysis, which replaces the quantity's group).
    public func storing(_ spread: TopologySpread) -> SurfaceFile {
        var file = self
        file.groups[SurfaceTopology.groupName, default: SurfaceFileGroup()]
            .groups[spread.quantity, default: SurfaceFileGroup()].groups[TopologySpread.groupName] = spread.storedGroup
        return file
    }

    /// The spread of the topology of `name` over the file's ensemble members (`SurfaceRepeats`),
    /// nil for a file without one (or whose members lack `name`).
    public func topologySpread(of name: String, levels: [CentreBasin.LevelSpec]) -> TopologySpread? {
        guard let repeats, repeats.members.count > 1, grid.isTwoDimensional, let q = SurfaceQuantity(rawValue: name),
              repeats.quantities.contains(q) else { return nil }
        let topologies = repeats.members.map { SurfaceTopology(quantity: name, field: GridField(grid: grid, values: $0[q]!), levels: levels) }
        return TopologySpread(quantity: name, members: topologies)
    }
}
