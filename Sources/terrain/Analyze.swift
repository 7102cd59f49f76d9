import ArgumentParser
import Foundation
import TerrainLandscape

/// `terrain analyze S.h5`: the topology of a 2D surface (critical points, the persistence of the
/// minima, the centre's basin, roughness), printed as tables and stored in the file under
/// `analysis/<quantity>/`. The definitions are `SurfaceTopology`'s and its parts'.
struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Topology of a 2D surface: minima, saddles, maxima, the persistence of the minima, the centre's basin, roughness.",
        discussion: """
        Critical points are taken on the grid with the 8-neighbourhood: a minimum has no lower \
        neighbour, a maximum no higher one, a saddle two or more separate groups of lower \
        neighbours (the grid's edge and NaN or infinite points are left out, as if absent). The \
        persistence of a minimum is the height from it to the saddle where its basin (an \
        8-connected sublevel set) merges into a lower one; the lowest minimum never dies. The \
        basin of the centre (the grid point nearest α = 0, β = 0, followed downhill to its minimum) \
        is measured at levels above that minimum: its area and its widths along α and β. \
        Roughness is the mean absolute second difference along each axis, in the quantity's units \
        per grid step. The results are stored in the file as the group analysis/<quantity>/ \
        (the rest of the file is unchanged; --no-store leaves the file alone).

        A file of `terrain surface --repeats K` (or --subset-repeats K) is analysed as its \
        surface (member 0), then member by member: each number's mean ± standard deviation over \
        the members (ddof = 1, over the members where it is finite) is printed and stored as \
        analysis/<quantity>/repeats/.
        """)

    @Argument(help: "A 2D surface file written by surface, plane or trajectory.") var surface: String
    @Option(help: "The quantity analysed: train_loss, test_loss, train_acc, test_acc, train_perplexity, … (any grid-shaped dataset of the file).")
    var quantity: String = "train_loss"
    @Option(help: ArgumentHelp("Levels of the centre's basin above its minimum, as fractions of the surface's range (max − min), comma-separated.", valueName: "fractions"))
    var rise: String = SurfaceTopology.defaultRises.map { String($0) }.joined(separator: ",")
    @Option(help: ArgumentHelp("Also measure the centre's basin at these absolute values of the quantity, comma-separated.", valueName: "values"))
    var levels: String?
    @Flag(help: "Print only: do not store the analysis in the file.") var noStore = false
    @Option(help: "The most minima and saddles listed (all are stored).") var rows: Int = 20

    /// The basin levels asked for, checked.
    func levelSpecs() throws -> [CentreBasin.LevelSpec] {
        func numbers(_ text: String, _ option: String) throws -> [Double] {
            try text.split(separator: ",").map {
                let item = $0.trimmingCharacters(in: .whitespaces)
                guard let x = Double(item), x.isFinite else { throw ValidationError("\(option) takes finite numbers separated by commas, got '\(item)'") }
                return x
            }
        }
        let rises = try numbers(rise, "--rise")
        guard rises.allSatisfy({ $0 >= 0 && $0 <= 1e6 }) else { throw ValidationError("--rise takes fractions ≥ 0 of the surface's range") }
        return rises.map { .rise($0) } + (try levels.map { try numbers($0, "--levels") } ?? []).map { .absolute($0) }
    }

    func validate() throws {
        _ = try levelSpecs()
        try OptionCheck.count(rows, "--rows", in: 0...1_000_000)
    }

    func run() throws {
        try failing {
            let (file, topology) = try SurfaceFile.topology(at: surface, quantity: quantity, levels: try levelSpecs())
            print(summary(topology, file: file), terminator: "")
            let spread = file.topologySpread(of: quantity, levels: try levelSpecs())
            if let spread { print(Self.summary(spread, levels: topology.centreBasin?.levels ?? [], kind: file.repeats!.kind), terminator: "") }
            guard !noStore else { return }
            guard file.damagedPoints == 0 else {
                print("not stored: \(file.damagedPoints) points of \(surface) failed their checksums (read as not computed); recompute them first")
                return
            }
            var stored = file.storing(topology)
            if let spread { stored = stored.storing(spread) }
            try stored.write(to: surface)
            print("stored in \(surface) as \(SurfaceTopology.groupName)/\(topology.quantity)/")
        }
    }

    /// The spread over an ensemble's members: one row per number, member 0's value (the
    /// surface's), the mean ± standard deviation and the members where it is finite.
    static func summary(_ spread: TopologySpread, levels: [CentreBasin.Level], kind: SurfaceRepeats.Kind) -> String {
        func n(_ x: Double) -> String { number(x) }
        var out = ["", "across the \(spread.memberCount) members (\(kind == .directions ? "direction pairs" : "data subsets")): mean ± std (ddof 1) of each number"]
        var table = TextTable(header: ["number", "member 0", "mean", "std", "relative std", "finite members"])
        for item in spread.numbers {
            var name = item.name
            // basin_area_2 → "basin area +10% of range", as the basin table names its levels.
            if let last = name.split(separator: "_").last, let i = Int(last), name.hasPrefix("basin_"), i < levels.count {
                let what = name.dropLast(last.count + 1).replacingOccurrences(of: "_", with: " ")
                switch levels[i].spec {
                case .rise(let r): name = what + " +" + n(100 * r) + "%"
                case .absolute(let v): name = what + " ≤ " + n(v)
                }
            } else {
                name = name.replacingOccurrences(of: "_", with: " ")
            }
            let relative = item.mean != 0 && item.mean.isFinite ? abs(item.standardDeviation / item.mean) : .nan
            table.rows.append([name, n(item.values[0]), n(item.mean), n(item.standardDeviation), n(relative), "\(item.count)/\(spread.memberCount)"])
        }
        out += table.lines
        return out.joined(separator: "\n") + "\n"
    }

    static func number(_ x: Double, _ format: String = "%.6g") -> String {
        x.isNaN ? "nan" : x.isInfinite ? (x > 0 ? "inf" : "-inf") : String(format: format, x)
    }

    /// The printed report: a header, the minima by persistence, the saddles, the maxima' count,
    /// the centre's basin per level and the roughness.
    func summary(_ t: SurfaceTopology, file: SurfaceFile) -> String {
        func n(_ x: Double) -> String { Self.number(x) }
        let field = t.field
        var out: [String] = []
        let (x, y) = (file.grid.x, file.grid.y)
        out.append("\(surface): \(t.quantity) on \(x.count)x\(y.count) points, α \(n(x.first!)) … \(n(x.last!)), β \(n(y.first!)) … \(n(y.last!))")
        out.append("\(t.validPoints) points analysed, \(t.excludedPoints) left out (NaN: not computed or NaN; ±inf: diverged)"
                   + (t.validPoints > 0 ? "; values \(n(t.minimumValue)) … \(n(t.maximumValue))" : ""))
        let (minima, saddles, maxima) = (t.points(.minimum), t.points(.saddle), t.points(.maximum))
        func count(_ n: Int, _ one: String, _ many: String) -> String { "\(n) " + (n == 1 ? one : many) }
        out.append("critical points (8-neighbourhood): " + count(minima.count, "minimum", "minima") + ", "
                   + count(saddles.count, "saddle", "saddles") + ", " + count(maxima.count, "maximum", "maxima"))

        if !t.persistence.isEmpty {
            out.append("")
            out.append("minima by persistence (death: the saddle where the basin merges into a lower one)")
            var table = TextTable(header: ["minimum", "α", "β", t.quantity, "death", "persistence", "saddle α", "saddle β"])
            for (k, pair) in t.persistence.prefix(rows).enumerated() {
                let (a, b) = field.coordinates(of: pair.minimum)
                let name = "\(k + 1)" + (field.isOnEdge(pair.minimum) ? " (edge)" : "")
                var cells: [String] = [name, n(a), n(b), n(pair.birth)]
                if let saddle = pair.saddle {
                    let (sa, sb) = field.coordinates(of: saddle)
                    cells += [n(pair.death), n(pair.persistence), n(sa), n(sb)]
                } else {
                    cells += ["never", "-", "-", "-"]
                }
                table.rows.append(cells)
            }
            out += table.lines
            if t.persistence.count > rows { out.append("… \(t.persistence.count - rows) more in the file") }
        }
        if !saddles.isEmpty {
            out.append("")
            out.append("saddles")
            var table = TextTable(header: ["saddle", "α", "β", t.quantity, "groups"])
            for (k, s) in saddles.prefix(rows).enumerated() {
                table.rows.append(["\(k + 1)" + (s.onEdge ? " (edge)" : ""), n(s.alpha), n(s.beta), n(s.value), "\(s.multiplicity + 1)"])
            }
            out += table.lines
            if saddles.count > rows { out.append("… \(saddles.count - rows) more in the file") }
        }

        out.append("")
        if let basin = t.centreBasin {
            let (ca, cb) = field.coordinates(of: basin.centre), (ma, mb) = field.coordinates(of: basin.minimum)
            out.append("basin of the centre (α \(n(ca)), β \(n(cb))): minimum \(n(basin.minimumValue)) at α \(n(ma)), β \(n(mb)); "
                       + (basin.mergeLevel.isFinite ? "merges into a lower basin at \(n(basin.mergeLevel))" : "the lowest basin (never merges)"))
            var table = TextTable(header: ["level", "\(t.quantity) ≤", "points", "area", "width α", "width β"])
            for level in basin.levels {
                let name: String
                switch level.spec {
                case .rise(let r): name = "+" + n(100 * r) + "% of range"
                case .absolute: name = "absolute"
                }
                func open(_ s: String, _ flag: Bool) -> String { flag ? "≥ " + s : s }
                guard level.pointCount > 0 else {
                    // A level below the basin's minimum: no basin there at all.
                    table.rows.append([name, n(level.value), "0", "-", "-", "-"])
                    continue
                }
                table.rows.append([name, n(level.value), "\(level.pointCount)", open(n(level.area), level.open),
                                   open(n(level.widthAlpha), level.widthAlphaOpen), open(n(level.widthBeta), level.widthBetaOpen)])
            }
            out += table.lines
            if basin.levels.contains(where: { $0.open || $0.widthAlphaOpen || $0.widthBetaOpen }) {
                out.append("≥: the basin reaches the grid's edge or a left-out point there, so it may extend beyond")
            }
            if basin.levels.contains(where: { $0.pointCount == 0 }) {
                out.append("-: the level is below the basin's minimum")
            }
        } else {
            out.append("basin of the centre: none (the point nearest α = 0, β = 0 is NaN or infinite)")
        }
        let r = t.roughness
        out.append("")
        out.append("roughness (mean |second difference| per grid step, in \(t.quantity)'s units): α \(n(r.alpha)), β \(n(r.beta)); "
                   + "relative to the range: α \(n(r.relativeAlpha)), β \(n(r.relativeBeta))")
        return out.joined(separator: "\n") + "\n"
    }
}
