import Foundation
import TerrainTensor
import TerrainNN
import TerrainIO
import TerrainModels

/// A model's weights and buffers in a safetensors file, with the architecture (and, for
/// checkpoints written by training, the training configuration and progress) in its
/// metadata. Tensor names are the model's PyTorch-style parameter names; values are float32.
public struct Checkpoint {
    public var spec: ModelSpec
    /// Every `__metadata__` entry, the model spec included (key `terrain.model`).
    public var metadata: [String: String]
    public var tensors: [String: Tensor<Float>]
    public var tensorOrder: [String]

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
        tensorOrder = named.map(\.name)
        tensors = Dictionary(uniqueKeysWithValues: named.map { ($0.name, Tensor<Float>(converting: $0.parameter.value)) })
    }

    public func write(to url: URL) throws {
        let entries = tensorOrder.map { SafetensorsEntry(name: $0, tensor: tensors[$0]!) }
        do {
            try SafetensorsFile(entries: entries, metadata: metadata).write(to: url)
        } catch {
            throw CheckpointError.cannotWrite(url.path, "\(error)")
        }
    }

    public static func read(from url: URL) throws -> Checkpoint {
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile.read(from: url)
        } catch {
            throw CheckpointError.unreadable(url.path, "\(error)")
        }
        guard let specText = file.metadata[modelKey] else {
            throw CheckpointError.unreadable(url.path, "no model description in its metadata (key \(modelKey)); was it written by terrain?")
        }
        let spec: ModelSpec
        do { spec = try ModelSpec(json: specText) } catch {
            throw CheckpointError.unreadable(url.path, "\(error)")
        }
        var tensors: [String: Tensor<Float>] = [:]
        for entry in file.entries {
            do { tensors[entry.name] = try entry.tensor(as: Float.self) } catch {
                throw CheckpointError.unreadable(url.path, "tensor \(entry.name): \(error)")
            }
        }
        return Checkpoint(spec: spec, metadata: file.metadata, tensors: tensors, tensorOrder: file.entries.map(\.name))
    }

    init(spec: ModelSpec, metadata: [String: String], tensors: [String: Tensor<Float>], tensorOrder: [String]) {
        self.spec = spec; self.metadata = metadata; self.tensors = tensors; self.tensorOrder = tensorOrder
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
