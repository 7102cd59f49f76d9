import Foundation
import TerrainIO
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
///
/// With a `DataSampling` (`terrain surface --data-tolerance`) each point's loss is estimated on a
/// prefix of a seeded order of the set, and its rows carry each set's standard error and sample
/// count after the quantities (`SurfaceSampler`, which documents the datasets they are stored as).
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
    /// How points are sampled; nil: every point on the whole set.
    let sampler: SurfaceSampler?
    /// Per sampling dataset (`SurfaceSampler.datasetNames`), one value per grid point (NaN: not computed yet).
    public private(set) var samplingValues: [String: [Double]] = [:]

    /// - Parameter sampling: estimate each point's loss on a prefix of the data (`DataSampling`);
    ///   nil: on the whole set. Call `prepareSampling()` (the pilot) before computing points.
    public init(objective: Objective, center: [Double], xDirection: Direction, yDirection: Direction?,
                grid: SurfaceGrid, sets: [EvaluationSet], sampling: DataSampling? = nil) throws {
        try SurfaceGrid.checkPlane(of: objective, center: center, x: xDirection, y: yDirection, grid: grid)
        guard !sets.isEmpty else { throw LandscapeError.invalidRequest("evaluate on at least one of train, test") }
        try grid.checkSize(fields: SurfaceQuantity.quantities(for: sets).count + (sampling == nil ? 0 : 2 * sets.count))
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
        sampler = try sampling.map { try SurfaceSampler(settings: $0, objective: objective, sets: sets, grid: grid) }
        for name in sampler?.datasetNames ?? [] { samplingValues[name] = [Double](repeating: .nan, count: grid.pointCount) }
    }

    /// The sampling's datasets in the order of a row's fields after the quantities (empty unsampled).
    public var samplingDatasetNames: [String] { sampler?.datasetNames ?? [] }

    /// Where a sampled surface keeps its pilot's rows (`prepareSampling(keepingPilotIn:)`).
    public struct PilotJournal {
        /// The journal's file: `S.h5.pilot.journal` beside the surface.
        public var path: String
        /// The request the rows belong to (they are read back only for the same one).
        public var fingerprint: String
        /// Whether computed rows are appended; false (every rank under mpirun) only reads the journal.
        public var writes = true
        /// Shows the pilot's progress on standard error.
        public var showsProgress = false

        public init(path: String, fingerprint: String, writes: Bool = true, showsProgress: Bool = false) {
            self.path = path
            self.fingerprint = fingerprint
            self.writes = writes
            self.showsProgress = showsProgress
        }

        /// The pilot journal beside a surface file.
        public static func path(besides surface: String) -> String { surface + ".pilot.journal" }
    }

    /// Evaluates a sampled surface's pilot (`SurfaceSampler`): its points on the whole set, side by
    /// side like any points, whose per-sample losses are the other points' references and whose
    /// losses give a relative tolerance's levels. Does nothing for an unsampled surface; every run
    /// of a request calls it (each rank too), before computing points.
    ///
    /// With a `journal`, each pilot point's row (its per-sample losses: N numbers a set) is
    /// appended to it as soon as it is computed, and a later run of the same request reads the
    /// rows back instead of evaluating them again: a run killed during its pilot or after it
    /// (an hour on 60,000 images) loses at most the points in flight. Returns how many pilot
    /// points were read back.
    @discardableResult
    public func prepareSampling(keepingPilotIn journal: PilotJournal? = nil) throws -> Int {
        guard let sampler, !sampler.isPrepared else { return 0 }
        let log = journal.map { PointJournal(path: $0.path, fields: sampler.pilotRowLength, fingerprint: $0.fingerprint) }
        defer { log?.close() }
        var rows: [Int: [Double]] = [:]
        let lattice = Set(sampler.pilotPoints)
        let kept = try log.map { journal!.writes ? try $0.resume() : $0.replay() } ?? []
        for record in kept where lattice.contains(record.point) { rows[record.point] = record.values }
        let adopted = rows.count
        let pending = sampler.pilotPoints.filter { rows[$0] == nil }
        let progress = ProgressBar(total: sampler.pilotPoints.count, label: "pilot", alreadyDone: adopted)
        progress.enabled = (journal?.showsProgress ?? false) && !pending.isEmpty
        let start = Date()
        for group in pending.groups(of: pool.count) {
            let computed = try pool.rows(of: group) { point, worker in
                setParameters(of: point, on: worker)
                return try sampler.pilotRow(of: worker)
            }
            for (point, row) in zip(group, computed) {
                rows[point] = row
                if journal?.writes == true { try log?.append(point: point, values: row) }
            }
            let done = rows.count - adopted
            progress.update(rows.count, String(format: "%.1f s a point", Date().timeIntervalSince(start) / Double(done)))
        }
        progress.finish()
        sampler.adoptPilot(rows)
        return adopted
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
    public var concurrentPoints: Int { sampler != nil && pool.count > 1 ? pool.count * Self.sampledPointsPerWorker : pool.count }

    /// Points per worker a sampled surface's `compute(points:)` takes at once, each worker taking
    /// the next one when it is done (`ReplicaPool.rowsTakenInTurn`): a point's cost depends on its
    /// prefix, and the workers would otherwise wait for the slowest point of every group.
    static let sampledPointsPerWorker = 8

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
        let rows = sampler == nil ? try pool.rows(of: points) { try evaluate(point: $0, on: $1) }
            : try pool.rowsTakenInTurn(of: points) { try evaluate(point: $0, on: $1) }
        for (point, row) in zip(points, rows) { record(point: point, row) }
        return rows
    }

    /// One point's row on one worker (a stack of surfaces calls it with its own workers).
    func evaluate(point: Int, on worker: Objective) throws -> [Double] {
        if let sampler {
            if let pilot = sampler.pilotRows[point] { return pilot }
            setParameters(of: point, on: worker)
            return try sampler.row(of: worker, point: point)
        }
        setParameters(of: point, on: worker)
        return try Self.row(of: worker, sets: sets)
    }

    /// Sets the worker's parameters to the point's (telling a `PlaneEvaluating` worker where it is).
    private func setParameters(of point: Int, on worker: Objective) {
        if let planar = worker as? PlaneEvaluating {
            let (alpha, beta) = grid.coordinates(of: point)
            planar.setParameters(parameters(at: point), on: plane, alpha: alpha, beta: beta)
        } else {
            worker.setParameters(parameters(at: point))
        }
    }

    /// The row of the worker's current parameters: loss and accuracy per set, in `quantities`
    /// order (`storedValues`).
    static func row(of worker: Objective, sets: [EvaluationSet]) throws -> [Double] {
        var row: [Double] = []
        for set in sets {
            let value = try worker.evaluate(set)
            row += storedValues(loss: value.loss, accuracy: value.accuracy)
        }
        return row
    }

    /// A loss and its accuracy as a surface stores them: a NaN loss as `SurfaceValue.invalid`
    /// (with its accuracy, which PyTorch's arg-max also gives), an infinite one as +∞ with NaN
    /// accuracy, a missing accuracy as NaN.
    static func storedValues(loss: Double, accuracy: Double?) -> [Double] {
        if loss.isNaN { return [SurfaceValue.invalid, accuracy ?? .nan] }
        let diverged = loss.isInfinite
        return [diverged ? .infinity : loss, diverged ? .nan : (accuracy ?? .nan)]
    }

    /// Stores a computed row (from `compute` or from a journal): the quantities, then the
    /// sampling's fields.
    public func record(point: Int, _ row: [Double]) {
        for (q, v) in zip(quantities, row) { values[q]![point] = v }
        for (name, v) in zip(samplingDatasetNames, row.dropFirst(quantities.count)) { samplingValues[name]![point] = v }
    }

    /// Adopts a sampling dataset computed earlier (a resumed run); the shape must match.
    public func restoreSampling(_ name: String, _ stored: [Double]) {
        precondition(stored.count == grid.pointCount && samplingValues[name] != nil)
        samplingValues[name] = stored
    }

    /// The sampling's datasets and attributes (nothing for an unsampled surface); `interpolated`
    /// marks the points an adaptive plan filled in.
    public func storeSampling(into file: inout SurfaceFile, interpolated: [Bool]? = nil) {
        sampler?.store(samplingValues, interpolated: interpolated, into: &file)
    }

    /// What a request's fingerprint adds for this surface's sampling ("" unsampled).
    public var samplingRequestTag: String { sampler?.settings.requestTag ?? "" }
    /// The sampled surface's pilot lattice in words ("" when not sampled).
    public var samplingPilotDescription: String { sampler?.pilotDescription ?? "" }

    /// Puts the centre weights back into the objective.
    public func restoreCenter() { objective.setParameters(center) }
}
