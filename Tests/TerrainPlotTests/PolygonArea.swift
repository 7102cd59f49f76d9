@testable import TerrainPlot

/// The signed area of a closed polygon by the shoelace formula, ½ Σₖ (xₖ yₖ₊₁ − xₖ₊₁ yₖ) with the
/// last point joined to the first: positive when the points run counter-clockwise. The contour
/// tests check band areas and orientations with it.
func signedArea(_ polygon: [PlotPoint]) -> Double {
    var twice = 0.0
    for k in polygon.indices {
        let p = polygon[k], q = polygon[(k + 1) % polygon.count]
        twice += p.x * q.y - q.x * p.y
    }
    return twice / 2
}
