import TerrainLandscape
import TerrainPlot

/// What `terrain analyze` stored for one quantity of a surface, as the viewer's contour view
/// draws it: the same minima, saddles, maxima and basin outline as the contour figure
/// (`TopologyOverlay`), in data coordinates [α, β].
public struct ViewerTopology: Sendable {
    public var minima: [[Double]]
    public var saddles: [[Double]]
    public var maxima: [[Double]]
    /// Polylines; a closed one repeats its first point at the end.
    public var outlines: [[[Double]]]

    public init(minima: [[Double]] = [], saddles: [[Double]] = [], maxima: [[Double]] = [], outlines: [[[Double]]] = []) {
        self.minima = minima; self.saddles = saddles; self.maxima = maxima; self.outlines = outlines
    }

    /// The analysis of `quantity` the file holds, or nil.
    public init?(file: SurfaceFile, quantity: String) {
        guard let (overlay, _) = TopologyOverlay.overlay(for: file, quantity: quantity) else { return nil }
        func pairs(_ points: [PlotPoint]) -> [[Double]] { points.filter { $0.x.isFinite && $0.y.isFinite }.map { [$0.x, $0.y] } }
        self.init(minima: pairs(overlay.minima), saddles: pairs(overlay.saddles), maxima: pairs(overlay.maxima),
                  outlines: overlay.outlines.map { line in pairs(line.isClosed && !line.points.isEmpty ? line.points + [line.points[0]] : line.points) })
    }
}
