import Foundation
import TerrainIO
import TerrainData
import TerrainModels

/// `run.json`: what a training run was asked to do and what it produced.
struct RunRecord: Encodable {
    struct CheckpointEntry: Codable { var file: String; var epoch: Int; var iteration: Int }
    struct RateChange: Codable { var epoch: Int; var iteration: Int; var from: Double; var to: Double }
    struct Result: Encodable {
        /// `perplexity` only for token sequences (nil is left out, so other runs' files keep their bytes).
        var loss: Double; var accuracy: Double?; var perplexity: Double?
        init(_ r: EvaluationResult) { loss = r.loss; accuracy = r.accuracy; perplexity = r.perplexity }
    }

    var config: TrainingConfig
    var model: ModelSpec
    var normalization: Normalization?
    var started = ISO8601DateFormatter().string(from: Date())
    var finished: String?
    var learningRateChanges: [RateChange] = []
    var checkpoints: [CheckpointEntry] = []
    var finalTrain: EvaluationResult?
    var finalTest: EvaluationResult?
    var swaTest: EvaluationResult?

    enum CodingKeys: String, CodingKey {
        case config, model, normalization, started, finished, checkpoints
        case learningRateChanges = "learning_rate_changes", finalTrain = "final_train", finalTest = "final_test", swaTest = "swa_test"
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(config, forKey: .config)
        try c.encode(model, forKey: .model)
        try c.encodeIfPresent(normalization, forKey: .normalization)
        try c.encode(started, forKey: .started)
        try c.encodeIfPresent(finished, forKey: .finished)
        try c.encode(learningRateChanges, forKey: .learningRateChanges)
        try c.encode(checkpoints, forKey: .checkpoints)
        try c.encodeIfPresent(finalTrain.map(Result.init), forKey: .finalTrain)
        try c.encodeIfPresent(finalTest.map(Result.init), forKey: .finalTest)
        try c.encodeIfPresent(swaTest.map(Result.init), forKey: .swaTest)
    }

    func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { try AtomicFile.write(encoder.encode(self), to: url) } catch {
            throw TrainingError.cannotWrite(url.path)
        }
    }
}
