import Foundation
import TerrainTensor

/// The loss along paths in a plane, θ = θ₀ + α(t)·dx + β(t)·dy at the positions t of a 1D grid:
/// a curve between two models drawn in the plane through them and its bend
/// (`ConnectingCurve`), and the straight line beside it, as one resumable `GridComputation`.
///
/// Every path has a point per grid position; the runner numbers the points path after path
/// (path p's point i is p·n + i), each computed from θ₀ like a `SurfaceComputation`'s (same
/// rows, same NaN and ∞ conventions), so a killed run resumes with every finished point and the
/// bits do not depend on the thread count. The first path is the file's surface (`train_loss`,
/// …, over `xcoordinates` = t); path p > 0 is stored beside it as `NAME_train_loss`, … (1-D,
/// like the quantities), NAME being its `name`.
public final class PlanePathComputation: GridComputation {
    /// One path: its name (the prefix of its datasets, unused for the first) and (α, β) per position.
    public struct Path {
        public var name: String
        public var coordinates: [(alpha: Double, beta: Double)]
        public init(name: String, coordinates: [(alpha: Double, beta: Double)]) { self.name = name; self.coordinates = coordinates }
    }

    public let objective: Objective
    public let center: [Double]
    public let xDirection: Direction
    public let yDirection: Direction
    public let grid: SurfaceGrid
    public let sets: [EvaluationSet]
    public let paths: [Path]
    /// Per path, per quantity, one value per position (NaN: not computed yet).
    public private(set) var values: [[SurfaceQuantity: [Double]]]
    private var pool: ReplicaPool<Objective>

    public init(objective: Objective, center: [Double], xDirection: Direction, yDirection: Direction,
                positions: [Double], paths: [Path], sets: [EvaluationSet]) throws {
        let n = objective.groups.scalarCount
        guard center.count == n, xDirection.values.count == n, yDirection.values.count == n else {
            throw LandscapeError.invalidRequest("directions and weights must have the objective's \(n) parameters")
        }
        guard !sets.isEmpty else { throw LandscapeError.invalidRequest("evaluate on at least one of train, test") }
        guard !paths.isEmpty, paths.allSatisfy({ $0.coordinates.count == positions.count }) else {
            throw LandscapeError.invalidRequest("every path needs a point at each of the \(positions.count) positions")
        }
        grid = SurfaceGrid(x: positions)
        try grid.checkSize(fields: SurfaceQuantity.quantities(for: sets).count, copies: paths.count)
        self.objective = objective
        self.center = center
        self.xDirection = xDirection
        self.yDirection = yDirection
        self.sets = sets
        self.paths = paths
        let empty = Dictionary(uniqueKeysWithValues: SurfaceQuantity.quantities(for: sets).map {
            ($0, [Double](repeating: .nan, count: positions.count))
        })
        values = Array(repeating: empty, count: paths.count)
        pool = ReplicaPool(objective)
    }

    public var quantities: [SurfaceQuantity] { SurfaceQuantity.quantities(for: sets) }
    public var fieldCount: Int { quantities.count }
    public var pointCount: Int { paths.count * grid.pointCount }
    public var concurrentPoints: Int { pool.count }

    public var pendingPoints: [Int] {
        let first = quantities[0]
        return (0..<pointCount).filter { point in
            let (p, i) = point.quotientAndRemainder(dividingBy: grid.pointCount)
            return SurfaceValue.isNotComputed(values[p][first]![i])
        }
    }

    /// The dataset of path `p`'s quantity `q`: the quantity's own name for the first path.
    public func datasetName(path p: Int, _ q: SurfaceQuantity) -> String {
        p == 0 ? q.rawValue : "\(paths[p].name)_\(q.rawValue)"
    }

    /// θ₀ + α·dx + β·dy at one point.
    public func parameters(at point: Int) -> [Double] {
        let (p, i) = point.quotientAndRemainder(dividingBy: grid.pointCount)
        let (alpha, beta) = paths[p].coordinates[i]
        var theta = center
        let dx = xDirection.values, dy = yDirection.values
        for k in theta.indices { theta[k] += alpha * dx[k] + beta * dy[k] }
        return theta
    }

    /// Works on up to `threads` points at once from now on, one per thread, on replicas of the
    /// objective; false (nothing changes) when it cannot be replicated or there is one thread.
    @discardableResult
    public func spreadPointsOverThreads(_ threads: Int = Parallel.threadCount) throws -> Bool {
        try pool.spread(over: threads) { try objective.replica() }
    }

    public func compute(points: [Int]) throws -> [[Double]] {
        let rows = try pool.rows(of: points) { point, worker in
            worker.setParameters(parameters(at: point))
            return try SurfaceComputation.row(of: worker, sets: sets)
        }
        for (point, row) in zip(points, rows) { record(point: point, row) }
        return rows
    }

    public func record(point: Int, _ row: [Double]) {
        let (p, i) = point.quotientAndRemainder(dividingBy: grid.pointCount)
        for (q, v) in zip(quantities, row) { values[p][q]![i] = v }
    }

    public func restore(from file: SurfaceFile) {
        guard file.grid == grid, file.frameCount == nil else { return }
        for p in paths.indices {
            for q in quantities {
                let stored = p == 0 ? file.values[q] : file.extraDatasets[datasetName(path: p, q)]
                if let stored, stored.count == grid.pointCount { values[p][q] = stored }
            }
        }
    }

    public func store(into file: inout SurfaceFile) {
        for p in paths.indices {
            for q in quantities {
                if p == 0 { file.values[q] = values[p][q]! } else { file.extraDatasets[datasetName(path: p, q)] = values[p][q]! }
            }
        }
    }

    public func restoreCenter() { objective.setParameters(center) }

    /// A fingerprint of every number the paths depend on: centre, directions, positions, each
    /// path's coordinates, sets and data.
    public func fingerprint(data: String) -> String {
        var h = FingerprintHasher()
        h.mix("terrain.plane-paths 1")
        h.mix(SurfaceRunner.fingerprint(center: center, directions: [xDirection, yDirection], grid: grid, sets: sets, data: data))
        for path in paths {
            h.mix(path.name)
            h.mix(path.coordinates.flatMap { [$0.alpha, $0.beta] })
        }
        return h.hex
    }
}
