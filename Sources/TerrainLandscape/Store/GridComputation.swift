import TerrainTensor

/// Work that `SurfaceRunner` runs resumably: a fixed row of numbers per point of a grid, each
/// point computed independently of the others (so order, interruptions and the number of
/// threads or ranks change no bit).
///
/// `SurfaceComputation` (loss and accuracy at θ + αδ + βη) and `CurvatureMapComputation`
/// (λmax and λmin of the Hessian there) implement it. The runner sees rows of `fieldCount`
/// numbers: it journals them, sends them between ranks, and hands them back through `record`;
/// only the computation knows what they mean and how they go into a `SurfaceFile`.
public protocol GridComputation: AnyObject {
    var grid: SurfaceGrid { get }
    /// The number of points the runner numbers 0..<pointCount: the grid's points, or more
    /// (a stack of surfaces over the same grid, `SurfaceStackComputation`).
    var pointCount: Int { get }
    /// The length of one point's row: the number of quantities stored per point.
    var fieldCount: Int { get }
    /// Points not computed yet, in order.
    var pendingPoints: [Int] { get }
    /// How many points `compute(points:)` takes at once.
    var concurrentPoints: Int { get }
    /// Computes up to `concurrentPoints` points, stores their rows and returns them in the order
    /// of `points`.
    func compute(points: [Int]) throws -> [[Double]]
    /// Stores a row computed earlier (by another rank, or read back from a journal).
    func record(point: Int, _ row: [Double])
    /// Adopts the points a file of the same request holds.
    func restore(from file: SurfaceFile)
    /// Puts the values (NaN where not computed yet) into a file.
    func store(into file: inout SurfaceFile)
    /// Puts the objective back at the centre after the run.
    func restoreCenter()
    /// Whether the points wanted depend on the values of earlier ones (`AdaptiveSurfaceComputation`):
    /// the runner then asks for `pendingPoints` again after each round until none are left.
    var refinesInRounds: Bool { get }
    /// The points holding values already (adopted from an earlier run, or computed).
    var computedPointCount: Int { get }
}

extension GridComputation {
    public var pointCount: Int { grid.pointCount }
    public var refinesInRounds: Bool { false }
    public var computedPointCount: Int { pointCount - pendingPoints.count }
}

extension SurfaceComputation: GridComputation {
    /// The quantities, then (sampled) each set's standard error and sample count.
    public var fieldCount: Int { quantities.count + samplingDatasetNames.count }

    public func restore(from file: SurfaceFile) {
        for q in quantities {
            if let v = file.values[q], v.count == grid.pointCount { restore(q, v) }
        }
        for name in samplingDatasetNames {
            if let v = file.extraDatasets[name], v.count == grid.pointCount { restoreSampling(name, v) }
        }
    }

    public func store(into file: inout SurfaceFile) {
        for (q, v) in values { file.values[q] = v }
        storeSampling(into: &file)
    }
}
