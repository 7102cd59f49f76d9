import TerrainRequests

/// `terrain hessian --checkpoint RUN/final.safetensors --top 2 --trace --out hessian.h5 --eigenvectors eigenvectors.h5`
func hessianExample(run: String, output: String) throws {
    let request = HessianRequest(model: .checkpoint(run + "/final.safetensors"), top: 2, bottom: 1, trace: true,
                                 output: output + "/hessian.h5", eigenvectors: output + "/eigenvectors.h5")
    let result = try request.run(progress: .standard(quiet: true))
    print("hessian: λmax \(result.file.largest ?? .nan), λmin \(result.file.smallest ?? .nan), trace \(result.trace?.estimate ?? .nan)")
}
