import Foundation
import TerrainLandscape

/// What a request measures: a Terrain checkpoint (safetensors with Terrain's metadata, which
/// names its model and data), a PyTorch state_dict saved as safetensors with the zoo architecture
/// it was made from, an ONNX model exported from PyTorch, or any `Objective` written in Swift
/// (a `ClosureObjective`, say).
public enum ModelSource {
    case checkpoint(String)
    /// A state_dict without Terrain's description: `architecture` is `ModelDescription`'s text
    /// (`ARCH[,width=W][,hidden=64x64][,activation=A]`, or a `ModelSpec` as JSON).
    case stateDict(String, architecture: String)
    case onnx(String)
    /// An objective given in Swift; `data` names its data in the request's fingerprint and file.
    case objective(any Objective, data: String)

    /// A path given as an argument: `.onnx` files are ONNX models, anything else a checkpoint
    /// (a state_dict when `architecture` is given).
    public init(path: String, architecture: String? = nil) {
        if path.lowercased().hasSuffix(".onnx") {
            self = .onnx(path)
        } else if let architecture {
            self = .stateDict(path, architecture: architecture)
        } else {
            self = .checkpoint(path)
        }
    }

    /// `--checkpoint C` or `--onnx M`: exactly one of them.
    public init(checkpoint: String?, onnx: String?, architecture: String? = nil) throws {
        switch (checkpoint, onnx) {
        case (let c?, nil): self.init(path: c, architecture: architecture)
        case (nil, let m?): self = .onnx(m)
        case (nil, nil): throw RequestError("name the model: --checkpoint FILE.safetensors or --onnx FILE.onnx")
        case (_?, _?): throw RequestError("--checkpoint and --onnx name two models: give one")
        }
    }

    /// The model's file (nil for an objective given in Swift).
    public var path: String? {
        switch self {
        case .checkpoint(let p), .stateDict(let p, _), .onnx(let p): p
        case .objective: nil
        }
    }

    /// Whether the model is an ONNX file.
    public var isONNX: Bool {
        if case .onnx = self { return true }
        return false
    }

    /// The same model file with `architecture` for a checkpoint without Terrain's description.
    public func with(architecture: String?) -> ModelSource {
        guard let architecture, case .checkpoint(let path) = self else { return self }
        return .stateDict(path, architecture: architecture)
    }

    /// The model named by a surface file's attributes, if any.
    public static func recorded(in attributes: [String: String]) -> ModelSource? {
        if let onnx = attributes["terrain.onnx"] { return .onnx(onnx) }
        return attributes["terrain.checkpoint"].map { .checkpoint($0) }
    }
}
