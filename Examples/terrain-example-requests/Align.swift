import TerrainRequests

/// `terrain align RUN/final.safetensors RUN/checkpoints/epoch-0000.safetensors --out OUTPUT/aligned.safetensors`
/// (two checkpoints of one run here; in practice two runs trained from different seeds).
func alignExample(run: String, output: String) throws {
    let request = AlignRequest(a: .checkpoint(run + "/final.safetensors"), b: .checkpoint(run + "/checkpoints/epoch-0000.safetensors"),
                               output: output + "/aligned.safetensors", overwrite: true)
    let summary = try request.run(progress: .standard(quiet: true))
    print(String(format: "align: ‖A − B‖ %.4g -> %.4g, outputs equal to %.1g, in %@", summary.distanceBefore, summary.distanceAfter,
                 summary.relativeOutputDifference ?? .nan, request.output))
}
