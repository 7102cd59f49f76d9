import TerrainLandscape
import TerrainRequests

/// `terrain surface --checkpoint RUN/final.safetensors --x=-1:1:11 --y=-1:1:11 --data train,test`
func surfaceExample(run: String, output: String) throws {
    let axis = Axis(minimum: -1, maximum: 1, count: 11)
    let request = SurfaceRequest(model: .checkpoint(run + "/final.safetensors"), data: EvaluationData(sets: [.train, .test]),
                                 x: axis, y: axis, directions: .random(RandomDirections(seed: 7)), output: output + "/surface.h5")
    let surface = try request.run(progress: .standard(quiet: true))
    print("surface: \(surface.grid.pointCount) points in \(request.output), directions in \(request.directionOutput)")
}
