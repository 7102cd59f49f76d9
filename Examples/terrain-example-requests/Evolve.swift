import TerrainLandscape
import TerrainRequests

/// `terrain evolve --run RUN --frames epochs --x=-1:1:7 --y=-1:1:7`
func evolveExample(run: String, output: String) throws {
    let axis = Axis(minimum: -1, maximum: 1, count: 7)
    let request = EvolveRequest(runFolder: run, x: axis, y: axis, frames: .epochs, output: output + "/evolve.h5")
    let file = try request.run(progress: .standard(quiet: true))
    let stack = try SurfaceStack(file: file, path: request.output)
    print("evolve: \(stack.count) frames in \(request.output)")
}
