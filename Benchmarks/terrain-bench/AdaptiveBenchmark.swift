import Foundation
import TerrainLandscape
import TerrainReport

/// A refinement setting: `terrain surface --adaptive --adaptive-levels L --adaptive-tolerance T`.
struct AdaptiveSetting {
    var levels: Int
    var tolerance: Double

    /// The default (3, 0.25) and its neighbours: a tighter and a looser tolerance, one level less and more.
    static let standard = [AdaptiveSetting(levels: 3, tolerance: 0.25), AdaptiveSetting(levels: 3, tolerance: 0.1),
                           AdaptiveSetting(levels: 3, tolerance: 0.5), AdaptiveSetting(levels: 2, tolerance: 0.25),
                           AdaptiveSetting(levels: 4, tolerance: 0.25)]
}

/// A 2D surface whose every value is known: adaptive refinement replayed on it looks the values up
/// instead of computing them, so the points it saves and its largest difference to the full grid
/// are exact, not estimated.
struct KnownSurface {
    var name: String
    var grid: SurfaceGrid
    var values: [Double]

    /// The demo's surface as committed (`bench/data/demo-surface.csv`: x, y, train_loss, one row
    /// per point, x fastest, as `terrain export` writes it).
    init(csv path: String, name: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw LandscapeError.incompatibleFile(path, "cannot read the surface CSV")
        }
        let rows = text.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map { Double(String($0)) } }
        guard !rows.isEmpty, rows.allSatisfy({ $0.count >= 3 && !$0.contains(nil) }) else {
            throw LandscapeError.incompatibleFile(path, "expected rows of numbers x, y, train_loss")
        }
        let x = rows.map { $0[0]! }, y = rows.map { $0[1]! }
        let nx = y.prefix { $0 == y[0] }.count   // the first row: every x at the first y
        guard nx > 1, x.count % nx == 0 else { throw LandscapeError.incompatibleFile(path, "the rows do not form a grid") }
        self.name = name
        grid = SurfaceGrid(x: Array(x[0..<nx]), y: stride(from: 0, to: y.count, by: nx).map { y[$0] })
        values = rows.map { $0[2]! }
    }

    /// f(α, β) = 0.1 + α² + β² on a side × side grid over [-1, 1]²: the cheap analytic case, a
    /// positive loss-like bowl, so its figure's levels are log-spaced and crowd at the minimum.
    static func bowl(side: Int) -> KnownSurface {
        let axis = (0..<side).map { -1 + 2 * Double($0) / Double(side - 1) }
        let grid = SurfaceGrid(x: axis, y: axis)
        return KnownSurface(name: "bowl\(side)", grid: grid,
                            values: (0..<grid.pointCount).map { let (a, b) = grid.coordinates(of: $0); return 0.1 + a * a + b * b })
    }

    init(name: String, grid: SurfaceGrid, values: [Double]) { self.name = name; self.grid = grid; self.values = values }

    /// The refinement run to its end with the figures' contour levels, as `terrain surface --adaptive` plans it.
    func replay(_ setting: AdaptiveSetting) throws -> (plan: AdaptiveRefinement, filled: [Double]) {
        let plan = try AdaptiveRefinement(grid: grid, levels: setting.levels, tolerance: setting.tolerance,
                                          contourLevels: FigureLevels.refinement())
        var known = [Double](repeating: .nan, count: grid.pointCount)
        while !plan.isFinished {
            for p in plan.wanted { known[p] = values[p] }
            plan.advance(values: [known])
        }
        return (plan, plan.interpolate(known))
    }
}

/// The demo's surface (committed beside the PyTorch benchmark) and a 129 × 129 bowl, each
/// replayed under every setting: one JSON line per setting, the value being the share of points
/// saved, with the counts and the largest |difference| to the full grid (absolute and as a
/// percentage of the surface's range). Returns the lines' objects for a caller that prints a table.
@discardableResult
func adaptiveSummary(demoCSV: String = defaultDemoSurfaceCSV, settings: [AdaptiveSetting] = AdaptiveSetting.standard) throws -> [[String: Any]] {
    var rows: [[String: Any]] = []
    for surface in [try KnownSurface(csv: demoCSV, name: "demo"), .bowl(side: 129)] {
        let finite = surface.values.filter(\.isFinite)
        let range = (finite.max() ?? 0) - (finite.min() ?? 0)
        for setting in settings {
            let (plan, filled) = try surface.replay(setting)
            let difference = zip(filled, surface.values).map { $0 == $1 ? 0 : abs($0 - $1) }.max() ?? 0
            let total = surface.grid.pointCount, computed = plan.computedCount
            let row: [String: Any] = [
                "name": "adaptive_\(surface.name)_levels\(setting.levels)_tolerance\(setting.tolerance)",
                "value": 100 * Double(total - computed) / Double(total), "unit": "% points saved",
                "grid": "\(surface.grid.x.count)x\(surface.grid.y.count)", "levels": plan.levels, "tolerance": setting.tolerance,
                "computed": computed, "total": total, "rounds": plan.rounds,
                "max_difference": difference, "max_difference_percent_of_range": range > 0 ? 100 * difference / range : 0,
            ]
            let data = try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            fflush(nil)
            rows.append(row)
        }
    }
    return rows
}

/// `bench/data/demo-surface.csv`, found from this source file so that any working folder works.
let defaultDemoSurfaceCSV = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("bench/data/demo-surface.csv").path
