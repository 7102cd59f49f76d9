import Foundation
import TerrainTensor

/// The convexity map of a surface: the largest and the smallest Hessian eigenvalue at every grid
/// point θ + α·dx + β·dy, stored as `max_eig` and `min_eig` (the reference's names; Li et al.
/// plot |λmin/λmax| to show where the landscape is locally convex).
///
/// Each point sets the parameters from the centre (never by accumulating steps) and runs
/// `Lanczos.extremeEigenpairs(top: 1, bottom: 1)` on the `HessianOperator` there, started from a
/// seed derived from `seed` and the point's index: a point's eigenvalues do not depend on the
/// order, on interruptions, on the number of threads or on how they share the work, so
/// `SurfaceRunner` runs the map resumably and in parallel exactly like a loss surface.
///
/// A point where the Hessian-vector product is not finite and the loss has diverged is stored as
/// (+∞, −∞), like a diverged loss point (+∞): it does not stop the run and is not recomputed.
/// Unfinished points are NaN.
public final class CurvatureMapComputation: GridComputation {
    /// The datasets a map writes, in row order.
    public static let quantityNames = ["max_eig", "min_eig"]

    public let objective: any TwiceDifferentiableObjective
    public let center: [Double]
    public let xDirection: Direction
    public let yDirection: Direction?
    public let grid: SurfaceGrid
    /// The set whose per-sample mean loss's Hessian is taken.
    public let set: EvaluationSet
    public let oneDimensional: OneDimensionalTensors
    public let iterations: Int
    public let tolerance: Double
    public let seed: UInt64

    /// λmax and λmin per grid point (NaN: not computed yet).
    public private(set) var maxEigenvalues: [Double]
    public private(set) var minEigenvalues: [Double]
    /// The objective and its replicas: `compute(points:)` works on one point with each at once.
    private var pool: ReplicaPool<any TwiceDifferentiableObjective>

    public init(objective: any TwiceDifferentiableObjective, center: [Double], xDirection: Direction, yDirection: Direction?,
                grid: SurfaceGrid, set: EvaluationSet = .train, oneDimensional: OneDimensionalTensors = .included,
                iterations: Int = 20, tolerance: Double = 1e-3, seed: UInt64 = 1) throws {
        try SurfaceGrid.checkPlane(of: objective, center: center, x: xDirection, y: yDirection, grid: grid)
        try IterativeSettings.requireSteps(iterations, method: "Lanczos")
        try IterativeSettings.requireTolerance(tolerance)
        guard objective.groups.contains(where: oneDimensional.coversInHessian) else {
            throw LandscapeError.invalidRequest("no trainable parameter is selected (\(oneDimensional.legacyHessianName)): the Hessian is empty")
        }
        try grid.checkSize(fields: 2)
        self.objective = objective
        self.center = center
        self.xDirection = xDirection
        self.yDirection = yDirection
        self.grid = grid
        self.set = set
        self.oneDimensional = oneDimensional
        self.iterations = iterations
        self.tolerance = tolerance
        self.seed = seed
        pool = ReplicaPool(objective)
        maxEigenvalues = [Double](repeating: .nan, count: grid.pointCount)
        minEigenvalues = maxEigenvalues
    }

    public var fieldCount: Int { 2 }

    public var pendingPoints: [Int] { (0..<grid.pointCount).filter { maxEigenvalues[$0].isNaN || minEigenvalues[$0].isNaN } }

    public var concurrentPoints: Int { pool.count }

    /// |λmin/λmax| per point (NaN where either is missing or λmax is 0 or not finite).
    public var absoluteRatio: [Double] {
        zip(minEigenvalues, maxEigenvalues).map { mn, mx in mx != 0 && mx.isFinite && mn.isFinite ? abs(mn / mx) : .nan }
    }

    /// The Lanczos seed of one point: the base seed and the point's index, mixed.
    public func seed(of point: Int) -> UInt64 {
        seed ^ ((UInt64(point) &+ 1) &* 0xD1B5_4A32_D192_ED03)
    }

    /// The parameters at one grid point: θ + α·dx + β·dy.
    public func parameters(at point: Int) -> [Double] {
        grid.parameters(at: point, center: center, x: xDirection, y: yDirection)
    }

    /// Works on up to `threads` points at once from now on, one per thread, on replicas of the
    /// objective; false (nothing changes) when the objective cannot be replicated or there is
    /// one thread. The same bits either way.
    @discardableResult
    public func spreadPointsOverThreads(_ threads: Int = Parallel.threadCount) throws -> Bool {
        try pool.spread(over: threads) {
            guard let next = try objective.replica() else { return nil }
            guard let twice = next as? any TwiceDifferentiableObjective else {
                throw LandscapeError.invalidRequest("the objective's replica has no Hessian-vector products")
            }
            return twice
        }
    }

    public func compute(points: [Int]) throws -> [[Double]] {
        let rows = try pool.rows(of: points) { try evaluate(point: $0, on: $1) }
        for (point, row) in zip(points, rows) { record(point: point, row) }
        return rows
    }

    /// (λmax, λmin) at one point on one worker.
    private func evaluate(point: Int, on worker: any TwiceDifferentiableObjective) throws -> [Double] {
        worker.setParameters(parameters(at: point))
        let hessian = HessianOperator(objective: worker, set: set, oneDimensional: oneDimensional)
        do {
            let result = try Lanczos.extremeEigenpairs(of: hessian, top: 1, bottom: 1, maxIterations: iterations,
                                                       tolerance: tolerance, seed: seed(of: point))
            return [result.top.first!, result.bottom.last!]
        } catch {
            // A diverged point (the loss itself is not finite) is recorded, not fatal.
            if let loss = try? worker.evaluate(set).loss, !loss.isFinite { return [.infinity, -.infinity] }
            throw error
        }
    }

    public func record(point: Int, _ row: [Double]) {
        precondition(row.count == 2)
        maxEigenvalues[point] = row[0]
        minEigenvalues[point] = row[1]
    }

    public func restore(from file: SurfaceFile) {
        if let v = file.extraDatasets["max_eig"], let w = file.extraDatasets["min_eig"],
           v.count == grid.pointCount, w.count == grid.pointCount {
            maxEigenvalues = v
            minEigenvalues = w
        }
    }

    public func store(into file: inout SurfaceFile) {
        file.extraDatasets["max_eig"] = maxEigenvalues
        file.extraDatasets["min_eig"] = minEigenvalues
    }

    public func restoreCenter() { objective.setParameters(center) }

    /// A fingerprint of everything the map's numbers depend on: the surface's (centre,
    /// directions, grid, data) and the Hessian's set, parameter selection and Lanczos settings.
    public func fingerprint(data: String) -> String {
        var h = FingerprintHasher()
        h.mix("terrain.hessian-map 1")
        h.mix(SurfaceRunner.fingerprint(center: center, directions: [xDirection] + (yDirection.map { [$0] } ?? []), grid: grid,
                                        sets: [set], data: data))
        h.mix(oneDimensional.legacyHessianName)
        h.mix(UInt64(iterations))
        h.mix(tolerance.bitPattern)
        h.mix(seed)
        return h.hex
    }
}
