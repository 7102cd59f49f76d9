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
