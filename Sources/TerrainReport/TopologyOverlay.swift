import TerrainLandscape
import TerrainPlot

/// What `terrain analyze` stored about a quantity, drawn over its contour figure: minima (blue
/// discs), saddles (crosses), maxima (red triangles) and the outline of the centre's basin at one
/// level (`StoredTopology.outlinedLevel`: +10% of the range, dashed). The outline is the contour
/// at that level of the surface with every other part of the sublevel set raised above it
/// (`GridField.componentOutlineValues`), so it follows the basin and no other region.
enum TopologyOverlay {
    /// The overlay and a caption for it, or nil when the file holds no analysis of `quantity`.
    static func overlay(for file: SurfaceFile, quantity: String) -> (overlay: CriticalPointOverlay, caption: String)? {
        guard let stored = file.storedTopology(of: quantity), file.grid.isTwoDimensional,
              let values = try? file.values(of: quantity, path: "") else { return nil }
        func page(_ points: [(alpha: Double, beta: Double)]) -> [PlotPoint] { points.map { PlotPoint($0.alpha, $0.beta) } }
        var overlay = CriticalPointOverlay(minima: page(stored.minima), saddles: page(stored.saddles), maxima: page(stored.maxima))
        var caption = "minima (discs), saddles (crosses), maxima (triangles)"
        let grid = file.grid
        if let (alpha, beta) = stored.basinMinimum, let level = stored.outlinedLevel,
           let i = grid.x.firstIndex(of: alpha), let j = grid.y.firstIndex(of: beta) {
            let field = GridField(grid: grid, values: values)
            let outlined = ScalarGrid(x: grid.x, y: grid.y, values: field.componentOutlineValues(from: j * grid.x.count + i, at: level))
            overlay.outlines = MarchingSquares.lines(in: outlined, level: level)
            let rise = stored.basinLevels.first { $0.level == level }?.rise
            caption += " and the centre's basin at " + (rise.map { "+\(Self.percent($0))% of the range" } ?? "\(level)") + " (dashed)"
        }
        return (overlay, caption + ", from terrain analyze")
    }

    static func percent(_ fraction: Double) -> String {
        let p = 100 * fraction
        return p == p.rounded() ? String(Int(p)) : String(p)
    }
}
