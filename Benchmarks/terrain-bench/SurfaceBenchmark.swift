import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainModels
import TerrainTraining
import TerrainLandscape

/// Grid points per second of a 2D loss surface: ResNet-20 (fresh, evaluation mode) on 1,000
/// CIFAR-shaped images, two filter-normalized random directions with biases and BN ignored,
/// every point set from the centre and evaluated on the whole set in batches of 500: the
/// reference's loop (plot_surface.py's crunch with net_plotter.set_weights), which
/// bench/pytorch_bench.py runs the same way.
///
/// The grid is side × side over [-1, 1]² (odd sides hold the centre); the centre is computed
/// first as the warm-up, and its loss must equal `Evaluation.evaluate` of the unmoved model.
/// Measured twice: grid points spread over the threads (what `terrain surface` does by default),
/// then one point at a time with each layer split over the threads; both must give the same bits.
func surfaceBenchmark(side: Int) throws {
    let images = 1000
    let spec = ModelSpec(architecture: "resnet20", inputShape: [3, 32, 32], outputs: 10, seed: 0)
    let model: Module<Float> = try spec.build()
    model.setTraining(false)
    model.setRecording(false)

    var g = SeededGenerator(seed: 4)
    let inputs = Tensor<Float>.randomNormal(shape: [images, 3, 32, 32], generator: &g)
    let labels = (0..<images).map { Int32($0 % 10) }
    let set = Dataset(name: "synthetic-cifar", inputs: inputs, targets: .classes(labels, count: 10))
    let objective = ModelObjective(model: model, data: DatasetPair(train: set, test: set), batchSize: 500) {
        try spec.build() as Module<Float>
    }

    let theta = objective.parameters()
    let groups = objective.groups
    let directions = (0..<2).map { k -> Direction in
        var d = Direction.random(groups: groups, type: .weights, seed: 123 + UInt64(k))
        d.normalize(against: theta, groups: groups, type: .weights, normalization: .filter, ignoreBiasAndNorm: true)
        return d
    }
    let axis = Axis(minimum: -1, maximum: 1, count: side).coordinates
    let grid = SurfaceGrid(x: axis, y: axis)
    let unmoved = Evaluation.evaluate(model, on: set, batchSize: 500)

    var surfaces: [[Double]] = []
    for spreadPoints in [true, false] {
        let computation = try SurfaceComputation(objective: objective, center: theta, xDirection: directions[0],
                                                 yDirection: directions[1], grid: grid, sets: [.train])
        if spreadPoints { try computation.spreadPointsOverThreads() }
        // Warm-up: the centre, checked against the unmoved model.
        let row = try computation.compute(point: (side / 2) * side + side / 2)
        if row[0] != unmoved.loss {
            warn("surface centre loss \(row[0]) differs from Evaluation.evaluate's \(unmoved.loss)")
        }
        let points = Array(0..<grid.pointCount)
        let t = try seconds {
            for group in stride(from: 0, to: points.count, by: computation.concurrentPoints) {
                _ = try computation.compute(points: Array(points[group..<min(points.count, group + computation.concurrentPoints)]))
            }
        }
        computation.restoreCenter()
        surfaces.append(computation.values[.trainLoss]!)
        let pointsPerSecond = Double(grid.pointCount) / t
        let suffix = spreadPoints ? "" : "_layer_threads"
        report("resnet20_surface\(suffix)_points_per_s", pointsPerSecond, "points/s", against: "resnet20_surface_points_per_s")
        report("resnet20_surface\(suffix)_images_per_s", pointsPerSecond * Double(images), "images/s", against: "resnet20_surface_images_per_s")
    }
    if surfaces[0].map(\.bitPattern) != surfaces[1].map(\.bitPattern) {
        warn("the two ways of sharing threads gave different surfaces")
    }
}

func warn(_ message: String) {
    FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
}
