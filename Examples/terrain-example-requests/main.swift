// Terrain's requests used from Swift: each command of the program is a value of the library
// (`TerrainRequests`) whose `run(progress:)` loads the model and data, computes, and writes the
// same files as the command. One short file per request; this file trains the small run they
// share.
//
//     swift run terrain-example-requests [OUTPUT_FOLDER]
import Foundation
import TerrainData
import TerrainModels
import TerrainTraining

let output = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "requests-example"

/// A two-hidden-layer MLP trained on the synthetic blobs for two epochs, with a checkpoint every
/// five iterations (trajectory and evolve need a run with checkpoints along the way).
func trainRun(into folder: String, modelSeed: UInt64 = 0) throws -> String {
    var config = TrainingConfig(model: ModelSpec(architecture: "mlp", hiddenSizes: [8, 8], inputShape: [], outputs: 0, seed: modelSeed),
                                dataset: "blobs")
    config.epochs = 2
    config.saveEveryIterations = 5
    var options = DatasetOptions()
    options.normalize = config.normalize
    let trainer = try Trainer(config: config, folder: URL(fileURLWithPath: folder))
    trainer.showProgress = false
    try trainer.run(data: try DatasetCatalog.load(config.dataset, options: options))
    return folder
}

do {
    try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
    let run = try trainRun(into: output + "/run")
    let examples: [(String, (String, String) throws -> Void)] = [
        ("surface", surfaceExample), ("plane", planeExample), ("interpolation", interpolationExample),
        ("trajectory", trajectoryExample), ("evolve", evolveExample), ("hessian", hessianExample),
        ("curvature map", curvatureMapExample), ("sharpness", sharpnessExample), ("align", alignExample),
        ("connect", connectExample),
    ]
    for (name, example) in examples {
        print("— \(name)")
        try example(run, output)
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
