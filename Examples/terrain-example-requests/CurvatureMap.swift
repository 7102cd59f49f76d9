import TerrainRequests

/// `terrain hessian-map --surface surface.h5 --iterations 10 --out surface-curvature.h5` (after the surface example)
func curvatureMapExample(run: String, output: String) throws {
    let request = CurvatureMapRequest(surface: output + "/surface.h5", iterations: 10, output: output + "/surface-curvature.h5")
    let map = try request.run(progress: .standard(quiet: true))
    let largest = map.extraDatasets["max_eig"]?.filter(\.isFinite).max() ?? .nan
    print("curvature map: largest λmax \(largest) in \(request.outputPath)")
}
