/// An ensemble of surfaces over one grid (`terrain surface --repeats K` or `--subset-repeats K`):
/// K *members*, each the same slice computed along its own pair of random directions or on its
/// own data subset, and per point their mean and standard deviation. It answers "do different
/// directions give different landscapes?" with a number per point.
///
/// Stored in the surface file beside the usual datasets, which hold member 0 (exactly the surface
/// a plain run with the same options writes, so every reader, figure and tool sees a real
/// surface: the mean of several landscapes is no landscape of any direction pair, and its minima
/// and basins would be artefacts of the averaging):
///
///     repeats/                  attributes kind ("directions" or "subsets"), members (K),
///                               seeds ("123,125,…": member k's --seed, or --subset-seed),
///                               ddof (1)
///     repeats/<k>/<quantity>    member k's values, shaped like the quantity (k = 0 … K−1;
///                               repeats/0 repeats the top-level datasets); attributes seed
///                               and what the request adds (terrain.directions_digest: the
///                               digest of the member's directions, `DirectionFile.digest`)
///     repeats/mean/<quantity>   the mean over the members whose value is finite
///     repeats/std/<quantity>    their sample standard deviation (ddof = 1: the members are a
///                               sample of the directions or subsets one could draw)
///     repeats/count/<quantity>  how many members were finite there (K − count diverged or NaN)
///
/// Per point, with xₖ the finite member values and n their number: mean = Σxₖ / n (summed in
/// member order), std = √(Σ(xₖ − mean)² / (n − 1)). A point that some member has not computed yet
/// is NaN (not computed) in all three; a computed point with n = 0 has a NaN mean (with the sign
/// bit: computed, and NaN, `SurfaceValue`) and n = 1 a NaN standard deviation.
public struct SurfaceRepeats: Sendable, Equatable {
    /// What differs between the members.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Each member along its own pair of random directions, on the same data.
        case directions
        /// Each member on its own random subset of the data, along the same directions.
        case subsets
    }

    public static let groupName = "repeats"
    static let meanName = "mean", standardDeviationName = "std", countName = "count"

    public var kind: Kind
    /// Member k's seed: its `--seed` (directions) or `--subset-seed` (subsets).
    public var seeds: [UInt64]
    /// Per member, its values of each quantity on the grid.
    public var members: [[SurfaceQuantity: [Double]]]
    /// Per member, the text attributes of its group (its directions' digest).
    public var memberAttributes: [[String: String]]
    public let grid: SurfaceGrid

    public init(kind: Kind, seeds: [UInt64], members: [[SurfaceQuantity: [Double]]], grid: SurfaceGrid,
                memberAttributes: [[String: String]]? = nil) {
        precondition(seeds.count == members.count && (memberAttributes?.count ?? members.count) == members.count)
        self.kind = kind; self.seeds = seeds; self.members = members; self.grid = grid
        self.memberAttributes = memberAttributes ?? members.map { _ in [:] }
    }

    /// Member k's seed: the user's seed + 2k, so that member k is exactly the plain run with that
    /// seed (x draws from a direction seed s, y from s + 1, and a subset's train set from s, its
    /// test set from s + 1: members never share a draw). Member 0 is the user's own run.
    public static func memberSeed(_ seed: UInt64, member: Int) -> UInt64 { seed &+ 2 &* UInt64(member) }

    /// The quantities every member holds, in file order.
    public var quantities: [SurfaceQuantity] {
        SurfaceQuantity.allCases.filter { q in members.allSatisfy { $0[q]?.count == grid.pointCount } }
    }

    /// The mean and sample standard deviation (ddof = 1) of the finite values, in their order,
    /// and how many there were: mean = Σxₖ / n, std = √(Σ(xₖ − mean)² / (n − 1)); NaN (with the
    /// sign bit, `SurfaceValue.invalid`) when undefined (n = 0, or n = 1 for the deviation). One
    /// definition for surfaces' points and `terrain analyze`'s numbers.
    public static func spread(of values: [Double]) -> (mean: Double, standardDeviation: Double, count: Int) {
        let finite = values.filter(\.isFinite)
        guard !finite.isEmpty else { return (SurfaceValue.invalid, SurfaceValue.invalid, 0) }
        let n = Double(finite.count)
        let mean = finite.reduce(0, +) / n
        guard finite.count > 1 else { return (mean, SurfaceValue.invalid, 1) }
        let squares = finite.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return (mean, (squares / (n - 1)).squareRoot(), finite.count)
    }

    /// One point's summary over the members' values there (see the type's comment).
    public static func summary(of values: [Double]) -> (mean: Double, standardDeviation: Double, count: Double) {
        if values.contains(where: SurfaceValue.isNotComputed) {
            return (SurfaceValue.notComputed, SurfaceValue.notComputed, SurfaceValue.notComputed)
        }
        let s = spread(of: values)
        return (s.mean, s.standardDeviation, Double(s.count))
    }

    /// Per quantity, per point: the members' mean, standard deviation and finite count.
    public var statistics: [SurfaceQuantity: (mean: [Double], standardDeviation: [Double], count: [Double])] {
        var result: [SurfaceQuantity: (mean: [Double], standardDeviation: [Double], count: [Double])] = [:]
        for q in quantities {
            var mean: [Double] = [], std: [Double] = [], count: [Double] = []
            for point in 0..<grid.pointCount {
                let s = Self.summary(of: members.map { $0[q]![point] })
                mean.append(s.mean); std.append(s.standardDeviation); count.append(s.count)
            }
            result[q] = (mean, std, count)
        }
        return result
    }

    /// The group `repeats/` in the layout above.
    public var storedGroup: SurfaceFileGroup {
        var group = SurfaceFileGroup()
        group.textAttributes["kind"] = kind.rawValue
        group.textAttributes["seeds"] = seeds.map(String.init).joined(separator: ",")
        group.numberAttributes["members"] = Double(members.count)
        group.numberAttributes["ddof"] = 1
        func dataset(_ v: [Double]) -> SurfaceFileGroup.NumericDataset { .init(shape: grid.shape, values: v) }
        for (k, member) in members.enumerated() {
            var memberGroup = SurfaceFileGroup()
            for (q, v) in member { memberGroup.datasets[q.rawValue] = dataset(v) }
            memberGroup.numberAttributes["seed"] = Double(seeds[k])
            memberGroup.textAttributes = memberAttributes[k]
            group.groups[String(k)] = memberGroup
        }
        var mean = SurfaceFileGroup(), std = SurfaceFileGroup(), count = SurfaceFileGroup()
        for (q, s) in statistics {
            mean.datasets[q.rawValue] = dataset(s.mean)
            std.datasets[q.rawValue] = dataset(s.standardDeviation)
            count.datasets[q.rawValue] = dataset(s.count)
        }
        group.groups[Self.meanName] = mean
        group.groups[Self.standardDeviationName] = std
        group.groups[Self.countName] = count
        return group
    }

    /// Member k's stored values in `group` (`repeats/`), those shaped like the grid.
    static func storedMember(_ k: Int, in group: SurfaceFileGroup, grid: SurfaceGrid) -> [SurfaceQuantity: [Double]] {
        var values: [SurfaceQuantity: [Double]] = [:]
        for (name, dataset) in group.groups[String(k)]?.datasets ?? [:] {
            if let q = SurfaceQuantity(rawValue: name), dataset.values.count == grid.pointCount { values[q] = dataset.values }
        }
        return values
    }
}

extension SurfaceFile {
    /// The ensemble the file holds (`SurfaceRepeats`), nil for a plain surface (or a `repeats/`
    /// group not in the layout, whose members cannot all be read).
    public var repeats: SurfaceRepeats? {
        guard let group = groups[SurfaceRepeats.groupName], let kind = group.textAttributes["kind"].flatMap(SurfaceRepeats.Kind.init),
              let count = group.numberAttributes["members"], count >= 1, count <= 1_000_000 else { return nil }
        let seeds = (group.textAttributes["seeds"] ?? "").split(separator: ",").compactMap { UInt64($0) }
        let members = (0..<Int(count)).map { SurfaceRepeats.storedMember($0, in: group, grid: grid) }
        guard seeds.count == members.count, members.allSatisfy({ !$0.isEmpty }) else { return nil }
        let attributes = (0..<Int(count)).map { group.groups[String($0)]?.textAttributes ?? [:] }
        return SurfaceRepeats(kind: kind, seeds: seeds, members: members, grid: grid, memberAttributes: attributes)
    }
}
