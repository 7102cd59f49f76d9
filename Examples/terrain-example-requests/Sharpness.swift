import TerrainLandscape
import TerrainRequests

/// `terrain sharpness RUN/checkpoints/epoch-0000.safetensors RUN/final.safetensors --directions 4 --csv sharpness.csv`
func sharpnessExample(run: String, output: String) throws {
    var settings = SharpnessSettings()
    settings.directions = 4
    let request = SharpnessRequest(models: [.checkpoint(run + "/checkpoints/epoch-0000.safetensors"), .checkpoint(run + "/final.safetensors")],
                                   settings: settings, csv: output + "/sharpness.csv")
    for row in try request.run(progress: .standard(quiet: true)) {
        print("sharpness: \(row.name) ε-sharpness \(row.report.epsilon.sharpness), Δloss \(row.report.lossIncrease.mean)")
    }
}
