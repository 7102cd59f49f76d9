import TerrainTensor
import TerrainLandscape
import TerrainObjectives

// The loops the surface and Hessian benchmarks share (CNNs in SurfaceBenchmark.swift and
// HessianBenchmark.swift, the GPT in GPTBenchmark.swift), so that every model is measured by the
// same loop as bench/pytorch_bench.py measures its twin.

/// The centre θ and the two directions of a surface benchmark: random (seeds 123 and 124),
/// filter-normalized, biases and normalization layers left at zero, as the reference's
/// net_plotter.create_random_direction(dir_type='weights', ignore='biasbn', norm='filter').
func benchmarkPlane(_ objective: ModelObjective<Float>) -> (center: [Double], x: Direction, y: Direction) {
    let theta = objective.parameters()
    let groups = objective.groups
    let directions = (0..<2).map { k -> Direction in
        var d = Direction.random(groups: groups, type: .weights, seed: 123 + UInt64(k))
        d.normalize(against: theta, groups: groups, type: .weights, normalization: .filter, oneDimensional: .leftOut)
        return d
    }
    return (theta, directions[0], directions[1])
}

/// The surface of `objective` along `plane` on a side × side grid over [-1, 1]² (odd sides hold
/// the centre), timed as the reference's loop: the centre first as the warm-up, whose loss must
/// equal `unmovedLoss` (the plain layer-by-layer evaluation of the unmoved model) to 1e-5 relative,
/// then every point, `concurrentPoints` at a time, each set from the centre and evaluated on the
/// whole train set. With `spreadPoints`, points are spread over the threads (`terrain surface`'s
/// default); without, one point runs at a time, its work split over the threads. The centre's
/// weights are restored afterwards. Returns the computation (its values) and the seconds of the grid.
func timedSurface(_ objective: ModelObjective<Float>, plane: (center: [Double], x: Direction, y: Direction), side: Int,
                  spreadPoints: Bool, unmovedLoss: Double, name: String) throws -> (computation: SurfaceComputation, seconds: Double) {
    let axis = Axis(minimum: -1, maximum: 1, count: side).coordinates
    let grid = SurfaceGrid(x: axis, y: axis)
    let computation = try SurfaceComputation(objective: objective, center: plane.center, xDirection: plane.x,
                                             yDirection: plane.y, grid: grid, sets: [.train])
    if spreadPoints { try computation.spreadPointsOverThreads() }
    let row = try computation.compute(point: (side / 2) * side + side / 2)
    if abs(row[0] - unmovedLoss) > 1e-5 * abs(unmovedLoss) {
        warn("\(name) surface centre loss \(row[0]) differs from Evaluation.evaluate's \(unmovedLoss)")
    }
    let points = Array(0..<grid.pointCount)
    let t = try seconds {
        for group in stride(from: 0, to: points.count, by: computation.concurrentPoints) {
            _ = try computation.compute(points: Array(points[group..<min(points.count, group + computation.concurrentPoints)]))
        }
    }
    computation.restoreCenter()
    return (computation, t)
}

/// The median seconds of `repeats` Hessian-vector products H·v of `objective`'s mean training loss
/// over every trainable parameter (the R-operator, `HessianOperator`), after one warm-up, for a
/// random unit vector v drawn from `generator` (standard normal, then divided by its norm); with
/// `block` above 1, of one block of that many such products (`HessianOperator.apply(block:)`).
func medianHessianVectorProductSeconds(_ objective: ModelObjective<Float>, block: Int = 1, repeats: Int,
                                       generator g: inout SeededGenerator) throws -> Double {
    let hessian = HessianOperator(objective: objective)
    let vectors = (0..<block).map { _ in
        let v = (0..<hessian.dimension).map { _ in g.nextNormal() }
        let norm = VectorMath.norm(v)
        return v.map { $0 / norm }
    }
    if block == 1 { return try median(repeats: repeats) { _ = try hessian.apply(vectors[0]) } }
    return try median(repeats: repeats) { _ = try hessian.apply(block: vectors) }
}
