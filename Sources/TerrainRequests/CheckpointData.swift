import Foundation
import TerrainData
import TerrainTraining

/// The data a Terrain checkpoint is evaluated on, prepared as in its training: its seed, and its
/// input normalization. A checkpoint trained on normalized inputs stores the statistics it was
/// trained with (`terrain.normalization`); those are applied whatever data set is named, because
/// the network's first layer expects inputs standardized by exactly them. Refitting them on
/// another set's training data (`--refit-normalization`) is a different input transform, and so
/// a different loss (3.5884 against 3.6813 in the case that found it): it happens only when asked.
public enum CheckpointData {
    /// The data set `name` for `checkpoint` (read from `source`), the one line that says which
    /// normalization it got, and whether that was a refit the user asked for (other data than
    /// the default: a resumed surface must not mix the two). `subset` cuts both sets (as
    /// `DatasetOptions` does). `context` replaces the checkpoint's own context of token sequences.
    public static func load(_ name: String, for checkpoint: Checkpoint, source: String, subset: Int? = nil,
                     refitNormalization: Bool, context: Int? = nil) throws -> (data: DatasetPair, line: String, refitted: Bool) {
        var options = DatasetOptions()
        options.trainSubset = subset
        options.testSubset = subset
        if let text = checkpoint.metadata["terrain.training"], let config = try? TrainingConfig(json: text) {
            options.normalize = config.normalize
            options.seed = config.seed
            options.targets = config.targets ?? .automatic
            options.context = config.context
        }
        if let context { options.context = context }
        guard options.normalize else {
            return (try DatasetCatalog.load(name, options: options), "normalization: none (the checkpoint was trained on inputs as stored)",
                    false)
        }
        guard !refitNormalization, let stored = try storedNormalization(of: checkpoint, source: source) else {
            let why = refitNormalization ? "--refit-normalization" : "the checkpoint stores none"
            let pair = try DatasetCatalog.load(name, options: options)
            // Token ids index a vocabulary: never standardized (`DatasetCatalog.prepare`).
            if pair.train.targets.isTokens { return (pair, "normalization: none (token ids)", false) }
            return (pair, "normalization: refit on \(name)'s training set (\(why))", refitNormalization)
        }
        options.normalize = false
        var pair = try DatasetCatalog.load(name, options: options)
        // Data of another shape is that, first: named as such, before its channel count is.
        try DataFit.check(checkpoint.spec, model: "\(source) (\(checkpoint.spec.architecture))", fits: pair, dataName: name)
        do {
            try stored.validate(for: pair.train)
        } catch {
            throw RequestError("\(source): its normalization (terrain.normalization) has \(stored.channelCount) channel(s), "
                                  + "\(name)'s inputs \(Array(pair.train.inputs.shape.dropFirst())) do not match; "
                                  + "pass --refit-normalization to fit new statistics on \(name)")
        }
        stored.apply(to: &pair.train)
        stored.apply(to: &pair.test)
        pair.normalization = stored
        return (pair, "normalization: the checkpoint's statistics (terrain.normalization; --refit-normalization fits \(name)'s instead)",
                false)
    }

    /// The statistics a checkpoint stores, nil when it stores none; a damaged entry (not the
    /// JSON of a `Normalization`, or a standard deviation that is not a positive number) throws.
    public static func storedNormalization(of checkpoint: Checkpoint, source: String) throws -> Normalization? {
        guard let text = checkpoint.metadata["terrain.normalization"] else { return nil }
        guard let stored = try? JSONDecoder().decode(Normalization.self, from: Data(text.utf8)) else {
            throw RequestError("\(source): terrain.normalization is not a normalization's JSON (mean and std per channel)")
        }
        guard stored.mean.count == stored.std.count, stored.mean.allSatisfy(\.isFinite),
              stored.std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw RequestError("\(source): terrain.normalization needs one finite mean and one positive std per channel, "
                                  + "got \(stored.mean.count) means and std \(stored.std)")
        }
        return stored
    }
}
