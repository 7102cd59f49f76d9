import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainModels
import TerrainTraining
import TerrainLandscape
import TerrainObjectives

/// Images per second of a 2D loss surface (SurfaceCase.swift says which model on which data):
/// the model fresh and in evaluation mode, two filter-normalized random directions with biases
/// and BN ignored, every point set from the centre and evaluated on the whole set in batches of
/// 500: the reference's loop (plot_surface.py's crunch with net_plotter.set_weights), which
/// bench/pytorch_bench.py runs the same way.
///
/// The grid is side × side over [-1, 1]² (odd sides hold the centre); the centre is computed
/// first as the warm-up, and its loss must equal `Evaluation.evaluate` of the unmoved model to
/// 1e-5 relative (the plain layer-by-layer evaluation; the surface uses the compiled one).
/// Measured with grid points spread over the threads (what `terrain surface` does by default)
/// and, for ResNet-20, also one point at a time with the work of each point split over the
/// threads; both must give the same bits.
func surfaceBenchmark(_ surface: SurfaceCase, side: Int) throws {
    let model = surface.model
    model.setTraining(false)
    model.setRecording(false)
    let set = surface.data
    let objective = ModelObjective(model: model, data: DatasetPair(train: set, test: set), batchSize: 500) {
        try surface.spec.build() as Module<Float>
    }

    let theta = objective.parameters()
    let groups = objective.groups
    let directions = (0..<2).map { k -> Direction in
        var d = Direction.random(groups: groups, type: .weights, seed: 123 + UInt64(k))
        d.normalize(against: theta, groups: groups, type: .weights, normalization: .filter, oneDimensional: .leftOut)
        return d
    }
    let axis = Axis(minimum: -1, maximum: 1, count: side).coordinates
    let grid = SurfaceGrid(x: axis, y: axis)
    let unmoved = Evaluation.evaluate(model, on: set, batchSize: 500)

    var surfaces: [[Double]] = []
    for spreadPoints in surface.threadSharings {
        let computation = try SurfaceComputation(objective: objective, center: theta, xDirection: directions[0],
                                                 yDirection: directions[1], grid: grid, sets: [.train])
        if spreadPoints { try computation.spreadPointsOverThreads() }
        // Warm-up: the centre, checked against the unmoved model's plain evaluation.
        let row = try computation.compute(point: (side / 2) * side + side / 2)
        if abs(row[0] - unmoved.loss) > 1e-5 * abs(unmoved.loss) {
            warn("\(surface.name) surface centre loss \(row[0]) differs from Evaluation.evaluate's \(unmoved.loss)")
        }
        let points = Array(0..<grid.pointCount)
        let t = try seconds {
            for group in stride(from: 0, to: points.count, by: computation.concurrentPoints) {
                _ = try computation.compute(points: Array(points[group..<min(points.count, group + computation.concurrentPoints)]))
            }
        }
        computation.restoreCenter()
        surfaces.append(computation.values[.trainLoss]!)
        let imagesPerSecond = Double(grid.pointCount * set.count) / t
        let suffix = spreadPoints ? "" : "_layer_threads"
        let name = "\(surface.name)_surface"
        report("\(name)\(suffix)_points_per_s", Double(grid.pointCount) / t, "points/s", against: "\(name)_points_per_s")
        report("\(name)\(suffix)_images_per_s", imagesPerSecond, "images/s", against: "\(name)_images_per_s")
        if spreadPoints {
            // Useful work only: 2 flops per multiply-add of the convolutions and linear layers.
            report("\(name)_gflops", imagesPerSecond * surface.flopsPerImage / 1e9, "GFLOP/s")
        }
    }
    if surfaces.count == 2 && surfaces[0].map(\.bitPattern) != surfaces[1].map(\.bitPattern) {
        warn("the two ways of sharing threads gave different \(surface.name) surfaces")
    }
}

func warn(_ message: String) {
    FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
}
