import Foundation
import TerrainTensor
import TerrainNN
import TerrainIO
import TerrainModels

/// A model's weights and buffers in a safetensors file, with the architecture (and, for
/// checkpoints written by training, the training configuration and progress) in its
/// metadata. Tensor names are the model's PyTorch-style parameter names; values are float32.
///
/// The tensors are exactly a PyTorch `state_dict` of the equivalent module: the same names, the
/// same layouts (weights [out, in, kh, kw], linear weights [out, in]), and for every batch
/// normalization layer its `num_batches_tracked` counter (an int64 scalar), so that
/// `module.load_state_dict(safetensors.torch.load_file(path), strict=True)` accepts the file. The
/// other way round, a PyTorch state_dict saved as safetensors (no Terrain metadata) loads with
/// the architecture given as a `ModelSpec` (`read(from:spec:)`; `--model` on the command line).
public struct Checkpoint {
    public var spec: ModelSpec
    /// Every `__metadata__` entry, the model spec included (key `terrain.model`).
    public var metadata: [String: String]
    public var tensors: [String: Tensor<Float>]
    /// Batch normalization's `num_batches_tracked` counters, by full name (written as I64).
    public var counters: [String: Int64]
    /// The file's order of `tensors` and `counters` together.
    public var tensorOrder: [String]

    /// The suffix of PyTorch's batch-norm counter buffers.
    public static let counterSuffix = "num_batches_tracked"

    public static let modelKey = "terrain.model"
    public static let formatKey = "terrain.format"
    public static let formatVersion = "1"

    /// Captures a model's current parameters and buffers.
    public init<T: TensorScalar>(model: Module<T>, spec: ModelSpec, metadata: [String: String] = [:]) {
        self.spec = spec
        var meta = metadata
        meta[Self.modelKey] = spec.json
        meta[Self.formatKey] = Self.formatVersion
        self.metadata = meta
        let named = model.namedParameters()
        tensors = Dictionary(uniqueKeysWithValues: named.map { ($0.name, Tensor<Float>(converting: $0.parameter.value)) })
        // PyTorch's order: each batch-norm layer's counter right after its running variance.
        var counters: [String: Int64] = [:]
        for (prefix, bn) in Self.batchNorms(in: model, prefix: "") { counters[prefix + Self.counterSuffix] = Int64(bn.batchesTracked) }
        var order: [String] = []
        for (name, _) in named {
            order.append(name)
            if name.hasSuffix("running_var") {
                let counter = String(name.dropLast("running_var".count)) + Self.counterSuffix
                if counters[counter] != nil { order.append(counter) }
            }
        }
        self.counters = counters
        tensorOrder = order
    }

    /// Every batch normalization layer with the name prefix of its tensors ("layer1.0.bn1.").
    static func batchNorms<T>(in module: Module<T>, prefix: String) -> [(String, BatchNorm<T>)] {
        var found: [(String, BatchNorm<T>)] = []
        if let bn = module as? BatchNorm<T> { found.append((prefix, bn)) }
        for child in module.children { found += batchNorms(in: child.module, prefix: prefix + child.name + ".") }
        return found
    }

    public func write(to url: URL) throws {
        let entries = tensorOrder.map { name in
            if let count = counters[name] {
                return SafetensorsEntry(name: name, dtype: .i64, shape: [], data: withUnsafeBytes(of: count.littleEndian) { Data($0) })
            }
            return SafetensorsEntry(name: name, tensor: tensors[name]!)
        }
        do {
            try SafetensorsFile(entries: entries, metadata: metadata).write(to: url)
        } catch {
            throw CheckpointError.cannotWrite(url.path, "\(error)")
        }
    }

    /// Reads a checkpoint. `spec` describes the model when the file has no description of its own
    /// (a PyTorch state_dict saved with safetensors) and replaces the file's when it has one.
    public static func read(from url: URL, spec override: ModelSpec? = nil) throws -> Checkpoint {
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile.read(from: url)
        } catch {
            throw CheckpointError.unreadable(url.path, "\(error)")
        }
        let spec: ModelSpec
        if let override {
            spec = override
        } else {
            guard let specText = file.metadata[modelKey] else {
                throw CheckpointError.unreadable(url.path, "no model description in its metadata (key \(modelKey)); a checkpoint "
                                                 + "written elsewhere (a PyTorch state_dict) needs its zoo architecture: pass --model")
            }
            do { spec = try ModelSpec(json: specText) } catch {
                throw CheckpointError.unreadable(url.path, "\(error)")
            }
        }
        // Every size the description implies is checked before any model is built from it.
        do { try spec.validate() } catch {
            throw CheckpointError.unreadable(url.path, "its model description (\(modelKey)) is refused: \(error)")
        }
        let (tensors, counters) = try values(of: file, source: url.path)
        var metadata = file.metadata
        metadata[modelKey] = spec.json
        return Checkpoint(spec: spec, metadata: metadata, tensors: tensors, counters: counters, tensorOrder: file.entries.map(\.name))
    }

    /// The tensors, batch-norm counters and metadata of a safetensors file, whatever its metadata
    /// says: a PyTorch state_dict (no model description) reads as well as a Terrain checkpoint.
    public static func readTensors(from url: URL) throws -> (tensors: [String: Tensor<Float>], counters: [String: Int64],
                                                              metadata: [String: String]) {
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile.read(from: url)
        } catch {
            throw CheckpointError.unreadable(url.path, "\(error)")
        }
        let (tensors, counters) = try values(of: file, source: url.path)
        return (tensors, counters, file.metadata)
    }

    private static func values(of file: SafetensorsFile, source: String) throws -> (tensors: [String: Tensor<Float>], counters: [String: Int64]) {
        var tensors: [String: Tensor<Float>] = [:]
        var counters: [String: Int64] = [:]
        for entry in file.entries {
            do {
                let values = try entry.tensor(as: Double.self)
                if entry.name.hasSuffix(counterSuffix), !entry.dtype.isFloatingPoint, values.count == 1 {
                    // Clamped: a counter beyond Int64's range (a damaged file) must not trap.
                    let v = values[flat: 0]
                    counters[entry.name] = Int64(exactly: v.rounded()) ?? (v > 0 ? .max : 0)
                } else {
                    tensors[entry.name] = Tensor<Float>(converting: values)
                }
            } catch {
                throw CheckpointError.unreadable(source, "tensor \(entry.name): \(error)")
            }
        }
        return (tensors, counters)
    }

    init(spec: ModelSpec, metadata: [String: String], tensors: [String: Tensor<Float>], counters: [String: Int64],
         tensorOrder: [String]) {
        self.spec = spec; self.metadata = metadata; self.tensors = tensors; self.counters = counters; self.tensorOrder = tensorOrder
    }

    /// Rebuilds the model from the stored description and loads every tensor into it, checking
    /// that names and shapes match exactly.
    public func makeModel<T: TensorScalar>(_ type: T.Type = T.self, source: String = "checkpoint") throws -> Module<T> {
        let model: Module<T> = try spec.build()
        try load(into: model, source: source)
        return model
    }

    public func load<T: TensorScalar>(into model: Module<T>, source: String = "checkpoint") throws {
        let named = model.namedParameters()
        let expected = Set(named.map(\.name)), present = Set(tensors.keys)
        if let missing = expected.subtracting(present).sorted().first {
            throw CheckpointError.mismatch(source, "tensor \(missing) is missing (the file has \(present.count) tensors, the model \(expected.count))")
        }
        if let extra = present.subtracting(expected).sorted().first {
            throw CheckpointError.mismatch(source, "tensor \(extra) does not belong to a \(spec.architecture) model")
        }
        for (name, p) in named {
            let t = tensors[name]!
            guard t.shape == p.shape else {
                throw CheckpointError.mismatch(source, "tensor \(name) has shape \(t.shape), the model expects \(p.shape)")
            }
            p.value = Tensor<T>(converting: t)
        }
        // Counters of layers the model has (PyTorch writes one per batch-norm layer).
        let layers = Dictionary(uniqueKeysWithValues: Self.batchNorms(in: model, prefix: "").map { ($0.0 + Self.counterSuffix, $0.1) })
        for (name, count) in counters {
            guard let bn = layers[name] else {
                throw CheckpointError.mismatch(source, "tensor \(name) does not belong to a \(spec.architecture) model")
            }
            bn.restoreBatchesTracked(Int(clamping: count))
        }
    }
}

public enum CheckpointError: Error, CustomStringConvertible {
    case unreadable(String, String)
    case mismatch(String, String)
    case cannotWrite(String, String)

    public var description: String {
        switch self {
        case .unreadable(let path, let why): "cannot read checkpoint \(path): \(why)"
        case .mismatch(let path, let why): "checkpoint \(path) does not fit its model: \(why)"
        case .cannotWrite(let path, let why): "cannot write checkpoint \(path): \(why)"
        }
    }
}
