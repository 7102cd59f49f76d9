import Foundation

/// Evaluates an objective at θ + α·dx + β·dy for every point of a grid.
///
/// Each point starts from the stored centre θ (never by accumulating steps), so a point's value
/// does not depend on which points came before it: a resumed or re-ordered run gives the same
/// bits. Unfinished points are NaN; a point whose loss is not finite (divergence far from the
/// minimum) is stored as +∞ with NaN accuracy and does not stop the run.
public final class SurfaceComputation {
    public let objective: Objective
    public let center: [Double]
    public let xDirection: Direction
    public let yDirection: Direction?
    public let grid: SurfaceGrid
    public let sets: [EvaluationSet]

    /// Per quantity, one value per grid point (NaN: not computed yet).
    public private(set) var values: [SurfaceQuantity: [Double]]

    public init(objective: Objective, center: [Double], xDirection: Direction, yDirection: Direction?,
                grid: SurfaceGrid, sets: [EvaluationSet]) throws {
        let n = objective.groups.scalarCount
        guard center.count == n, xDirection.values.count == n, yDirection.map({ $0.values.count == n }) ?? true else {
            throw LandscapeError.invalidRequest("directions and weights must have the objective's \(n) parameters")
        }
        guard grid.isTwoDimensional == (yDirection != nil) else {
            throw LandscapeError.invalidRequest("a 2D grid needs two directions, a 1D grid one")
        }
        guard !sets.isEmpty else { throw LandscapeError.invalidRequest("evaluate on at least one of train, test") }
        self.objective = objective
        self.center = center
        self.xDirection = xDirection
        self.yDirection = yDirection
        self.grid = grid
        self.sets = sets
        values = Dictionary(uniqueKeysWithValues: SurfaceQuantity.quantities(for: sets).map {
            ($0, [Double](repeating: .nan, count: grid.pointCount))
        })
    }

    public var quantities: [SurfaceQuantity] { SurfaceQuantity.quantities(for: sets) }

    /// Points not computed yet, in order.
    public var pendingPoints: [Int] {
        let first = values[quantities[0]]!
        return (0..<grid.pointCount).filter { first[$0].isNaN }
    }

    /// Adopts values computed earlier (a resumed run); shapes must match.
    public func restore(_ quantity: SurfaceQuantity, _ stored: [Double]) {
        precondition(stored.count == grid.pointCount)
        values[quantity] = stored
    }

    /// The parameters at one grid point: θ + α·dx + β·dy.
    public func parameters(at point: Int) -> [Double] {
        let (alpha, beta) = grid.coordinates(of: point)
        var theta = center
        let dx = xDirection.values
        if let dy = yDirection?.values {
            for i in theta.indices { theta[i] += alpha * dx[i] + beta * dy[i] }
        } else {
            for i in theta.indices { theta[i] += alpha * dx[i] }
        }
        return theta
    }

    /// Computes one point and stores its values; returns them in `quantities` order.
    @discardableResult
    public func compute(point: Int) throws -> [Double] {
        objective.setParameters(parameters(at: point))
        var row: [Double] = []
        for set in sets {
            let value = try objective.evaluate(set)
            let diverged = !value.loss.isFinite
            row.append(diverged ? .infinity : value.loss)
            row.append(diverged ? .nan : (value.accuracy ?? .nan))
        }
        record(point: point, row)
        return row
    }

    /// Stores a computed row (from `compute` or from a journal).
    public func record(point: Int, _ row: [Double]) {
        for (q, v) in zip(quantities, row) { values[q]![point] = v }
    }

    /// Puts the centre weights back into the objective.
    public func restoreCenter() { objective.setParameters(center) }
}
