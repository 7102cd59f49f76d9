import TerrainLandscape
import TerrainRequests

/// `terrain interpolate RUN/checkpoints/epoch-0000.safetensors RUN/final.safetensors --range=-0.5:1.5 --steps 21`
func interpolationExample(run: String, output: String) throws {
    let request = InterpolationRequest(a: .checkpoint(run + "/checkpoints/epoch-0000.safetensors"), b: .checkpoint(run + "/final.safetensors"),
                                       axis: Axis(minimum: -0.5, maximum: 1.5, count: 21), output: output + "/interpolation.h5")
    let line = try request.run(progress: .standard(quiet: true))
    let losses = line.values[.trainLoss] ?? []
    print("interpolation: train loss from \(losses.first ?? .nan) to \(losses.last ?? .nan) in \(request.output)")
}
