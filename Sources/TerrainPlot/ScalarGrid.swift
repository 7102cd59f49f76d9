/// Values on a rectilinear grid: `values[j * x.count + i]` is the value at (x[i], y[j]), the
/// layout of a surface file's (len(y), len(x)) arrays. NaN marks a missing value (not computed),
/// a NaN with its sign bit set an invalid one (computed, and NaN: a surface file's
/// `SurfaceValue.invalid`), +∞ a diverged one; all are drawn as such, never interpolated.
public struct ScalarGrid: Sendable, Equatable {
    public var x: [Double]
    public var y: [Double]
    public var values: [Double]

    /// A computed value that is NaN (the sign bit set), as opposed to one not computed.
    public static func isInvalid(_ value: Double) -> Bool { value.isNaN && value.sign == .minus }

    public init(x: [Double], y: [Double], values: [Double]) {
        precondition(values.count == x.count * y.count, "\(values.count) values for a \(y.count)x\(x.count) grid")
        self.x = x; self.y = y; self.values = values
    }

    public subscript(i: Int, j: Int) -> Double { values[j * x.count + i] }

    /// The finite values.
    public var finiteValues: [Double] { values.filter(\.isFinite) }

    /// The same grid with `transform` applied to every value.
    public func map(_ transform: (Double) -> Double) -> ScalarGrid {
        ScalarGrid(x: x, y: y, values: values.map(transform))
    }
}

/// A point in data or page coordinates.
public struct PlotPoint: Sendable, Hashable {
    public var x: Double, y: Double
    public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
}

/// A rectangle on the page, in points, origin top left.
public struct PlotRect: Sendable, Equatable {
    public var x: Double, y: Double, width: Double, height: Double
    public init(_ x: Double, _ y: Double, _ width: Double, _ height: Double) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
    public var minX: Double { x }
    public var maxX: Double { x + width }
    public var minY: Double { y }
    public var maxY: Double { y + height }
    public var center: PlotPoint { PlotPoint(x + width / 2, y + height / 2) }
    /// The rectangle shrunk by the given margins.
    public func inset(left: Double = 0, top: Double = 0, right: Double = 0, bottom: Double = 0) -> PlotRect {
        PlotRect(x + left, y + top, max(0, width - left - right), max(0, height - top - bottom))
    }
    public func contains(_ p: PlotPoint) -> Bool { p.x >= minX && p.x <= maxX && p.y >= minY && p.y <= maxY }
}

/// Anything that draws itself into a rectangle of a page: one panel of a figure.
public protocol Chart {
    func draw(on canvas: Canvas, in frame: PlotRect) throws
}
