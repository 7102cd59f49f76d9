import Foundation
import TerrainTensor
import TerrainNN
import TerrainModels
import TerrainIO

/// Everything a stopped training run needs to continue exactly as if it had not stopped, kept in
/// `resume.safetensors` in the run folder while the run is unfinished: written (atomically) after
/// every epoch but the last, and removed when the run finishes, so a finished run's folder holds
/// the same files as before resuming existed.
///
/// The file is a checkpoint of the model at the end of an epoch (weights, buffers and batch-norm
/// counters under their own names and its model description in the metadata) plus
///
///     optimizer/SLOT/NAME     the optimizer's state (`OptimizerState`: Adam's exp_avg and
///                             exp_avg_sq, SGD's momentum_buffer), float32 like the weights
///     swa/NAME                the stochastic weight average so far
///
/// and, in its metadata, the training configuration, the epochs and steps done, the optimizer's
/// step counters, the number of averaged models, and the run record so far (checkpoints written,
/// learning-rate changes, start time). The data order is a function of (seed, epoch) and the
/// learning rate of the step number, so they need no state.
struct ResumeState {
    static let fileName = "resume.safetensors"
    static let optimizerPrefix = "optimizer/"
    static let averagePrefix = "swa/"

    /// Epochs completed; the run continues with this (0-based) epoch.
    var epochsDone: Int
    /// Optimizer steps taken.
    var iteration: Int
    /// The learning rate of the last step (the "from" of the next recorded rate change).
    var learningRate: Double
    /// Position (fractional epoch) of the last step, for finding the schedule's jumps.
    var previousPosition: Double
    var configJSON: String
    var model: Checkpoint
    var optimizer: OptimizerState<Float>
    var average: [(name: String, value: Tensor<Float>)]
    var averagedModels: Int
    var started: String
    var checkpoints: [RunRecord.CheckpointEntry]
    var learningRateChanges: [RunRecord.RateChange]

    private enum Key {
        static let epochs = "terrain.resume.epochs_done", iteration = "terrain.resume.iteration"
        static let learningRate = "terrain.resume.learning_rate", position = "terrain.resume.previous_position"
        static let counters = "terrain.resume.optimizer_counters", averaged = "terrain.resume.averaged_models"
        static let started = "terrain.resume.started", checkpoints = "terrain.resume.checkpoints"
        static let changes = "terrain.resume.learning_rate_changes", training = "terrain.training"
    }

    static func url(in folder: URL) -> URL { folder.appendingPathComponent(fileName) }

    func write(to url: URL) throws {
        var file = model
        file.metadata[Key.training] = configJSON
        file.metadata[Key.epochs] = "\(epochsDone)"
        file.metadata[Key.iteration] = "\(iteration)"
        // Shortest round-tripping decimal: the same Double comes back.
        file.metadata[Key.learningRate] = "\(learningRate)"
        file.metadata[Key.position] = "\(previousPosition)"
        file.metadata[Key.counters] = canonicalJSON(optimizer.counters)
        file.metadata[Key.averaged] = "\(averagedModels)"
        file.metadata[Key.started] = started
        file.metadata[Key.checkpoints] = canonicalJSON(checkpoints)
        file.metadata[Key.changes] = canonicalJSON(learningRateChanges)
        for key in optimizer.tensors.keys.sorted() {
            file.tensors[Self.optimizerPrefix + key] = optimizer.tensors[key]!
            file.tensorOrder.append(Self.optimizerPrefix + key)
        }
        for (name, value) in average {
            file.tensors[Self.averagePrefix + name] = value
            file.tensorOrder.append(Self.averagePrefix + name)
        }
        try file.write(to: url)
    }

    static func read(from url: URL) throws -> ResumeState {
        let file = try Checkpoint.read(from: url)
        func fail(_ why: String) -> TrainingError { .invalidConfig("cannot resume from \(url.path): \(why)") }
        func value<T>(_ key: String, _ parse: (String) -> T?) throws -> T {
            guard let text = file.metadata[key], let v = parse(text) else { throw fail("its metadata \(key) is missing or unreadable") }
            return v
        }
        func decoded<T: Decodable>(_ key: String, _ type: T.Type) throws -> T {
            try value(key) { try? JSONDecoder().decode(T.self, from: Data($0.utf8)) }
        }
        var model = file
        var optimizer = OptimizerState<Float>(counters: try decoded(Key.counters, [String: Int].self))
        var average: [(name: String, value: Tensor<Float>)] = []
        model.tensorOrder = []
        for name in file.tensorOrder {
            if name.hasPrefix(optimizerPrefix) {
                optimizer.tensors[String(name.dropFirst(optimizerPrefix.count))] = model.tensors.removeValue(forKey: name)
            } else if name.hasPrefix(averagePrefix) {
                average.append((String(name.dropFirst(averagePrefix.count)), model.tensors.removeValue(forKey: name)!))
            } else {
                model.tensorOrder.append(name)
            }
        }
        return ResumeState(
            epochsDone: try value(Key.epochs) { Int($0) }, iteration: try value(Key.iteration) { Int($0) },
            learningRate: try value(Key.learningRate) { Double($0) }, previousPosition: try value(Key.position) { Double($0) },
            configJSON: try value(Key.training) { $0 }, model: model, optimizer: optimizer, average: average,
            averagedModels: try value(Key.averaged) { Int($0) }, started: try value(Key.started) { $0 },
            checkpoints: try decoded(Key.checkpoints, [RunRecord.CheckpointEntry].self),
            learningRateChanges: try decoded(Key.changes, [RunRecord.RateChange].self))
    }
}
