import Foundation
import TerrainTensor

/// Evaluates an objective at θ + α·dx + β·dy for every point of a grid.
///
/// Each point starts from the stored centre θ (never by accumulating steps), so a point's value
/// does not depend on which points came before it: a resumed or re-ordered run gives the same
/// bits. Unfinished points are NaN (`SurfaceValue.notComputed`); a point whose loss is NaN is
/// stored as `SurfaceValue.invalid` (a NaN that a resume does not recompute) with its accuracy,
/// one whose loss is ±∞ (divergence far from the minimum) as +∞ with NaN accuracy; neither stops
/// the run.
///
/// Threads work in one of two ways. By default one point is evaluated at a time and each
/// layer's work is split over the threads. After `spreadPointsOverThreads()`, up to
/// `Parallel.threadCount` points are evaluated side by side, each on its own replica of the
/// objective with single-threaded kernels. Both give the same bits (`Parallel` cuts kernels into
/// chunks that do not depend on the thread count), and so does any thread count.
public final class SurfaceComputation {
    public let objective: Objective
    public let center: [Double]
    public let xDirection: Direction
    public let yDirection: Direction?
    public let grid: SurfaceGrid
    public let sets: [EvaluationSet]

    /// Per quantity, one value per grid point (NaN: not computed yet).
    public private(set) var values: [SurfaceQuantity: [Double]]
    /// The objective and its replicas: `compute(points:)` evaluates one point on each at once.
    private var pool: ReplicaPool<Objective>
    /// The grid's plane, for objectives that share work between its points (`PlaneEvaluating`).
    private let plane: ObjectivePlane

    public init(objective: Objective, center: [Double], xDirection: Direction, yDirection: Direction?,
                grid: SurfaceGrid, sets: [EvaluationSet]) throws {
        try SurfaceGrid.checkPlane(of: objective, center: center, x: xDirection, y: yDirection, grid: grid)
        guard !sets.isEmpty else { throw LandscapeError.invalidRequest("evaluate on at least one of train, test") }
        try grid.checkSize(fields: SurfaceQuantity.quantities(for: sets).count)
        self.objective = objective
        self.center = center
        self.xDirection = xDirection
        self.yDirection = yDirection
        self.grid = grid
        self.sets = sets
        pool = ReplicaPool(objective)
        plane = ObjectivePlane(center: center, x: xDirection.values, y: yDirection?.values)
        values = Dictionary(uniqueKeysWithValues: SurfaceQuantity.quantities(for: sets).map {
            ($0, [Double](repeating: .nan, count: grid.pointCount))
        })
    }

    public var quantities: [SurfaceQuantity] { SurfaceQuantity.quantities(for: sets) }

    /// Points not computed yet, in order.
    public var pendingPoints: [Int] {
        let first = values[quantities[0]]!
        return (0..<grid.pointCount).filter { SurfaceValue.isNotComputed(first[$0]) }
    }

    /// Adopts values computed earlier (a resumed run); shapes must match.
    public func restore(_ quantity: SurfaceQuantity, _ stored: [Double]) {
        precondition(stored.count == grid.pointCount)
        values[quantity] = stored
    }

    /// The parameters at one grid point: θ + α·dx + β·dy.
    public func parameters(at point: Int) -> [Double] {
        grid.parameters(at: point, center: center, x: xDirection, y: yDirection)
    }

    /// How many points `compute(points:)` evaluates at once.
    public var concurrentPoints: Int { pool.count }

    /// Evaluates up to `threads` points at once from now on, one per thread, on replicas of the
    /// objective. Returns false (and changes nothing) when the objective cannot be replicated or
    /// there is one thread.
    @discardableResult
    public func spreadPointsOverThreads(_ threads: Int = Parallel.threadCount) throws -> Bool {
        try pool.spread(over: threads) { try objective.replica() }
    }

    /// Computes one point and stores its values; returns them in `quantities` order.
    @discardableResult
    public func compute(point: Int) throws -> [Double] {
        let row = try evaluate(point: point, on: objective)
        record(point: point, row)
        return row
    }

    /// Computes up to `concurrentPoints` points side by side and stores their values; returns
    /// their rows in the order of `points`.
    public func compute(points: [Int]) throws -> [[Double]] {
        let rows = try pool.rows(of: points) { try evaluate(point: $0, on: $1) }
        for (point, row) in zip(points, rows) { record(point: point, row) }
        return rows
    }

    /// One point's row on one worker (a stack of surfaces calls it with its own workers).
    func evaluate(point: Int, on worker: Objective) throws -> [Double] {
        if let planar = worker as? PlaneEvaluating {
            let (alpha, beta) = grid.coordinates(of: point)
            planar.setParameters(parameters(at: point), on: plane, alpha: alpha, beta: beta)
        } else {
            worker.setParameters(parameters(at: point))
        }
        return try Self.row(of: worker, sets: sets)
    }

    /// The row of the worker's current parameters: loss and accuracy per set, in `quantities`
    /// order; a NaN loss is stored as `SurfaceValue.invalid` (with its accuracy, which PyTorch's
    /// arg-max also gives), an infinite one as +∞ with NaN accuracy.
    static func row(of worker: Objective, sets: [EvaluationSet]) throws -> [Double] {
        var row: [Double] = []
        for set in sets {
            let value = try worker.evaluate(set)
            if value.loss.isNaN {
                row.append(SurfaceValue.invalid)
                row.append(value.accuracy ?? .nan)
                continue
            }
            let diverged = value.loss.isInfinite
            row.append(diverged ? .infinity : value.loss)
            row.append(diverged ? .nan : (value.accuracy ?? .nan))
        }
        return row
    }

    /// Stores a computed row (from `compute` or from a journal).
    public func record(point: Int, _ row: [Double]) {
        for (q, v) in zip(quantities, row) { values[q]![point] = v }
    }

    /// Puts the centre weights back into the objective.
    public func restoreCenter() { objective.setParameters(center) }
}
