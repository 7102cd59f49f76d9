import TerrainRequests

/// `terrain connect RUN/checkpoints/epoch-0000.safetensors RUN/final.safetensors --epochs 2 --points 11 --plane-grid 5`
/// (a curve from the initialization to the trained weights: any two checkpoints of one architecture).
func connectExample(run: String, output: String) throws {
    let request = ConnectRequest(a: run + "/checkpoints/epoch-0000.safetensors", b: run + "/final.safetensors",
                                 training: CurveTrainingSettings(epochs: 2, batchSize: 32), points: 11, planeGrid: 5,
                                 output: output + "/connect")
    let result = try request.run(progress: .standard(quiet: true))
    for barrier in result.barriers {
        print("connect: \(barrier.set.rawValue) barrier \(barrier.line) along the line, \(barrier.curve) along the curve, in \(request.output)")
    }
}
