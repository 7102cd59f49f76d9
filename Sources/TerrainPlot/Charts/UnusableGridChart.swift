import Foundation

/// A 2D grid without a single finite value, drawn rather than refused: every cell painted as the
/// other charts paint unusable points (grey: not computed; dark grey: a loss computed as NaN;
/// pale red: diverged, ±∞), the
/// axes, and a note in the middle saying why there are no contours or colours. A surface whose
/// every loss diverged is a result worth seeing, not a usage error.
public struct UnusableGridChart: Chart {
    public var grid: ScalarGrid
    public var title: String?
    public var xLabel: String?
    public var yLabel: String?

    public init(grid: ScalarGrid, title: String? = nil, xLabel: String? = nil, yLabel: String? = nil) {
        self.grid = grid; self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
    }

    /// The note drawn over the cells: what the grid holds instead of numbers.
    public var note: String {
        let diverged = grid.values.contains(where: \.isInfinite)
        let invalid = grid.values.contains(where: ScalarGrid.isInvalid)
        let missing = grid.values.contains { $0.isNaN && !ScalarGrid.isInvalid($0) }
        switch (diverged, invalid, missing) {
        case (true, false, false): return "every point diverged (loss not finite)"
        case (false, true, false): return "every point's loss is NaN"
        case (false, false, true): return "no point computed"
        default: return "no finite value: every point diverged, NaN or not computed"
        }
    }

    public func draw(on canvas: Canvas, in frame: PlotRect) throws {
        guard grid.x.count >= 2, grid.y.count >= 2 else { throw PlotError.invalidData("a 2D chart needs at least 2 points per axis") }
        let area = frame.inset(left: 62, top: title == nil ? 14 : 30, right: 18, bottom: 46)
        let axes = Axes2D(area: area, x: AxisScale(minimum: grid.x.min()!, maximum: grid.x.max()!),
                          y: AxisScale(minimum: grid.y.min()!, maximum: grid.y.max()!))
        let xEdges = ContourChart.edges(grid.x), yEdges = ContourChart.edges(grid.y)
        canvas.withSavedState {
            canvas.clip(to: area)
            canvas.withoutAntialiasing {
                for j in grid.y.indices {
                    for i in grid.x.indices {
                        let v = grid[i, j]
                        let color = ScalarGrid.isInvalid(v) ? Color.invalid : v.isNaN ? Color.missing : ContourChart.divergedColor
                        let p0 = axes.point(xEdges[i], yEdges[j + 1]), p1 = axes.point(xEdges[i + 1], yEdges[j])
                        canvas.fill(rectangle: PlotRect(min(p0.x, p1.x), min(p0.y, p1.y), abs(p1.x - p0.x) + 0.6, abs(p1.y - p0.y) + 0.6),
                                    with: color)
                    }
                }
            }
        }
        axes.drawFrame(on: canvas, xLabel: xLabel, yLabel: yLabel, title: title)
        let text = note, size = 11.0
        let width = canvas.measure(text, size: size).width
        let box = PlotRect(area.center.x - width / 2 - 8, area.center.y - size, width + 16, 2 * size)
        canvas.fill(rectangle: box, with: Color.white.withAlpha(0.85))
        canvas.stroke(rectangle: box, color: Color(hex: 0x888888), width: 0.5)
        canvas.text(text, at: PlotPoint(area.center.x, area.center.y), size: size, color: Color(hex: 0x333333), anchor: .center, baseline: .middle)
    }
}
