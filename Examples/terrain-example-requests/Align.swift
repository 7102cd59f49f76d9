import TerrainRequests

/// `terrain align RUN/final.safetensors OTHER/final.safetensors --out OUTPUT/aligned.safetensors`,
/// OTHER a second run trained from other initial weights.
func alignExample(run: String, output: String) throws {
    let other = try trainRun(into: output + "/other-run", modelSeed: 1)
    let request = AlignRequest(a: .checkpoint(run + "/final.safetensors"), b: .checkpoint(other + "/final.safetensors"),
                               output: output + "/aligned.safetensors", overwrite: true)
    let summary = try request.run(progress: .standard(quiet: true))
    print(String(format: "align: ‖A − B‖ %.4g -> %.4g, outputs equal to %.1g (relative), in %@", summary.distanceBefore,
                 summary.distanceAfter, summary.relativeOutputDifference ?? .nan, request.output))
}
