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
    let plane = benchmarkPlane(objective)
    let unmoved = Evaluation.evaluate(model, on: set, batchSize: 500)
    let points = side * side

    var surfaces: [[Double]] = []
    for spreadPoints in surface.threadSharings {
        let (computation, t) = try timedSurface(objective, plane: plane, side: side, spreadPoints: spreadPoints,
                                                unmovedLoss: unmoved.loss, name: surface.name)
        surfaces.append(computation.values[.trainLoss]!)
        let imagesPerSecond = Double(points * set.count) / t
        let suffix = spreadPoints ? "" : "_layer_threads"
        let name = "\(surface.name)_surface"
        report("\(name)\(suffix)_points_per_s", Double(points) / t, "points/s", against: "\(name)_points_per_s")
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
