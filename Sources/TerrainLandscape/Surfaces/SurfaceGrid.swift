/// The points of a 1D or 2D surface and the quantities computed at each.
///
/// Point k of a 2D grid is (x[k % nx], y[k / nx]): values are stored row by row over y, shaped
/// (len(y), len(x)), so that `contour(meshgrid(x, y), Z)` draws them right for any grid.
public struct SurfaceGrid: Sendable, Equatable {
    public var x: [Double]
    /// Empty for a 1D surface.
    public var y: [Double]

    public init(x: [Double], y: [Double] = []) { self.x = x; self.y = y }

    public var isTwoDimensional: Bool { !y.isEmpty }
    public var pointCount: Int { x.count * max(y.count, 1) }
    /// (rows, columns) of the stored arrays: (len(y), len(x)), or (len(x)) for 1D.
    public var shape: [Int] { isTwoDimensional ? [y.count, x.count] : [x.count] }

    /// The most points a grid (or a stack of grids) may hold: 2^24, a 4096 × 4096 surface.
    /// Each axis is bounded on its own (`Axis.parse`); this bounds their product.
    public static let maximumPointCount = 1 << 24
    /// The most numbers a computation may keep for its points (points × quantities × layers):
    /// 2^26 doubles, 512 MiB.
    public static let maximumStoredValues = 1 << 26

    /// Refuses a computation of `copies` grids (a stack's layers) with `fields` numbers per
    /// point whose size would pass the limits above, before anything is allocated or written.
    /// The products are overflow-checked: the message gives the size and the limit.
    public func checkSize(fields: Int, copies: Int = 1) throws {
        let axes = shape.reversed().map(String.init).joined(separator: " x ")
        let (points, pointsOverflow) = x.count.multipliedReportingOverflow(by: max(y.count, 1))
        let (allPoints, copiesOverflow) = points.multipliedReportingOverflow(by: max(copies, 1))
        guard !pointsOverflow, !copiesOverflow, allPoints <= Self.maximumPointCount else {
            let count = pointsOverflow || copiesOverflow ? "too many" : "\(allPoints)"
            throw LandscapeError.invalidRequest("a grid of \(axes) points" + (copies > 1 ? " in each of \(copies) surfaces" : "")
                                                + " is \(count) points; the limit is \(Self.maximumPointCount) (4096 x 4096)")
        }
        let (stored, storedOverflow) = allPoints.multipliedReportingOverflow(by: max(fields, 1))
        guard !storedOverflow, stored <= Self.maximumStoredValues else {
            throw LandscapeError.invalidRequest("a grid of \(axes) points" + (copies > 1 ? " in each of \(copies) surfaces" : "")
                                                + " with \(fields) quantities per point needs \(storedOverflow ? "too many" : "\(stored)") values; "
                                                + "the limit is \(Self.maximumStoredValues) (512 MiB)")
        }
    }

    /// Refuses a plane θ + α·dx + β·dy over `grid` whose centre or directions do not have the
    /// objective's parameter count, or whose directions do not match the grid's dimensions: the
    /// check every computation over a plane (a surface, a curvature map) makes first.
    static func checkPlane(of objective: any Objective, center: [Double], x: Direction, y: Direction?,
                           grid: SurfaceGrid) throws {
        let n = objective.groups.scalarCount
        guard center.count == n, x.values.count == n, y.map({ $0.values.count == n }) ?? true else {
            throw LandscapeError.invalidRequest("directions and weights must have the objective's \(n) parameters")
        }
        guard grid.isTwoDimensional == (y != nil) else {
            throw LandscapeError.invalidRequest("a 2D grid needs two directions, a 1D grid one")
        }
    }

    public func coordinates(of point: Int) -> (alpha: Double, beta: Double) {
        (x[point % x.count], isTwoDimensional ? y[point / x.count] : 0)
    }
}

/// The quantities a surface stores per point, named as in the reference's files.
public enum SurfaceQuantity: String, Sendable, CaseIterable, Codable {
    case trainLoss = "train_loss", trainAccuracy = "train_acc", testLoss = "test_loss", testAccuracy = "test_acc"

    public static func quantities(for sets: [EvaluationSet]) -> [SurfaceQuantity] {
        sets.flatMap { $0 == .train ? [trainLoss, trainAccuracy] : [testLoss, testAccuracy] }
    }
}

extension SurfaceGrid {
    /// θ + α·dx + β·dy at one grid point, always from the centre (never by accumulating steps,
    /// so a point's value does not depend on which points came before it).
    public func parameters(at point: Int, center: [Double], x: Direction, y: Direction?) -> [Double] {
        let (alpha, beta) = coordinates(of: point)
        var theta = center
        let dx = x.values
        if let dy = y?.values {
            for i in theta.indices { theta[i] += alpha * dx[i] + beta * dy[i] }
        } else {
            for i in theta.indices { theta[i] += alpha * dx[i] }
        }
        return theta
    }
}
