import Foundation
import TerrainModels

/// `--model`'s text: a zoo architecture with options, `ARCH[,key=value…]` (keys width, hidden as
/// sizes joined by x, activation, seed; a transformer's layers, heads, embed, patch), or a
/// `ModelSpec` as JSON. The input shape and the number
/// of outputs come from the data.
public struct ModelDescription {
    public var spec: ModelSpec

    public init(_ text: String, sampleShape: [Int], outputs: Int) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("{") {
            spec = try ModelSpec(json: trimmed)
            if spec.inputShape.isEmpty { spec.inputShape = sampleShape }
            if spec.outputs <= 0 { spec.outputs = outputs }
            return
        }
        let parts = trimmed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let architecture = parts.first, !architecture.isEmpty else {
            throw RequestError("--model needs an architecture (see `terrain models`), e.g. mlp,hidden=64x64 or resnet20")
        }
        spec = ModelSpec(architecture: architecture, inputShape: sampleShape, outputs: outputs)
        for part in parts.dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { throw RequestError("--model options are key=value, got '\(part)'") }
            switch pair[0] {
            case "width":
                guard let w = Double(pair[1]), w > 0 else { throw RequestError("--model width must be a positive number, got '\(pair[1])'") }
                spec.width = w
            case "hidden":
                let sizes = pair[1].split(separator: "x").map { Int($0) }
                guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) > 0 }) else {
                    throw RequestError("--model hidden takes sizes joined by x (e.g. hidden=64x64), got '\(pair[1])'")
                }
                spec.hiddenSizes = sizes.map { $0! }
            case "activation": spec.activation = pair[1]
            case "seed":
                guard let s = UInt64(pair[1]) else { throw RequestError("--model seed must be a whole number, got '\(pair[1])'") }
                spec.seed = s
            case "layers", "heads", "embed", "patch":
                guard let v = Int(pair[1]), v > 0 else { throw RequestError("--model \(pair[0]) must be a positive whole number, got '\(pair[1])'") }
                switch pair[0] {
                case "layers": spec.layers = v
                case "heads": spec.heads = v
                case "embed": spec.embed = v
                default: spec.patch = v
                }
            default:
                throw RequestError("unknown --model option '\(pair[0])' (width, hidden, activation, seed, layers, heads, embed, patch)")
            }
        }
    }
}

