import TerrainLandscape
import TerrainRequests

/// `terrain plane RUN/final.safetensors RUN/checkpoints/epoch-0000.safetensors RUN/checkpoints/epoch-0001.safetensors --x=-0.5:1.5:9 --y=-0.5:1.5:9`
func planeExample(run: String, output: String) throws {
    let axis = Axis(minimum: -0.5, maximum: 1.5, count: 9)
    let request = PlaneRequest(a: .checkpoint(run + "/final.safetensors"), b: .checkpoint(run + "/checkpoints/epoch-0000.safetensors"),
                               c: .checkpoint(run + "/checkpoints/epoch-0001.safetensors"), x: axis, y: axis, output: output + "/plane.h5")
    let plane = try request.run(progress: .standard(quiet: true))
    print("plane: \(plane.grid.pointCount) points in \(request.output)")
}
