import Foundation
import TerrainTensor
import TerrainNN

/// Everything needed to rebuild a zoo model: the architecture, its options, and the shapes
/// that the dataset imposes. Stored as JSON in checkpoint metadata, so a checkpoint alone is
/// enough to reconstruct the model.
public struct ModelSpec: Codable, Sendable, Equatable {
    /// An architecture name: see `ModelSpec.architectures`.
    public var architecture: String
    /// Multiplies every channel and hidden width (wide ResNets are ResNets with width k).
    public var width: Double
    /// Hidden layer sizes of an MLP (before the width multiplier).
    public var hiddenSizes: [Int]?
    /// The MLP's nonlinearity: relu, tanh, sigmoid, gelu, leaky-relu.
    public var activation: String?
    /// One sample's shape: [C, H, W] for images, [F] for vectors.
    public var inputShape: [Int]
    /// Classes, or regression outputs.
    public var outputs: Int
    /// Seed of the initial weights.
    public var seed: UInt64
    /// Transformer blocks of a gpt or vit (default 2). The four transformer fields are optional,
    /// and left out of the JSON when nil, so the descriptions of every other model, and of
    /// checkpoints written before they existed, read and write exactly as before.
    public var layers: Int?
    /// Attention heads per block (default 4); they divide `embed`.
    public var heads: Int?
    /// The embedding width E of a gpt or vit (default 64); the blocks' MLPs are 4E wide.
    public var embed: Int?
    /// A vit's square patch side in pixels (default 4); it divides the image's height and width.
    public var patch: Int?

    public init(architecture: String, width: Double = 1, hiddenSizes: [Int]? = nil, activation: String? = nil,
                inputShape: [Int], outputs: Int, seed: UInt64 = 0,
                layers: Int? = nil, heads: Int? = nil, embed: Int? = nil, patch: Int? = nil) {
        self.architecture = architecture
        self.width = width
        self.hiddenSizes = hiddenSizes
        self.activation = activation
        self.inputShape = inputShape
        self.outputs = outputs
        self.seed = seed
        self.layers = layers
        self.heads = heads
        self.embed = embed
        self.patch = patch
    }

    /// Names accepted by `architecture`, with a one-line description each.
    public static let architectures: [(name: String, summary: String)] = [
        ("linear", "a single linear layer; one input and one output make the neuron y = w·x + b"),
        ("mlp", "fully connected layers (--hidden sizes, default 64,64,64)"),
        ("cnn", "small CNN: two conv-BN-ReLU-maxpool stages, a hidden FC layer"),
        ("vgg9", "VGG-9 of Li et al.: 64-64-M-128-128-M-256-256-256-M, FC with BN"),
        ("resnet20|32|44|56|110", "CIFAR ResNets (16/32/64 channels), projection shortcuts"),
        ("resnetN-noshort", "the same without shortcut connections"),
        ("wrnN-k[-noshort]", "wide ResNet-N: ResNet-N with k times the channels"),
        ("densenet", "small DenseNet-BC: growth 12, three blocks of 4 bottleneck layers"),
        ("gpt", "decoder-only transformer on token sequences (--layers, --heads, --embed; context and vocabulary from the data)"),
        ("vit", "vision transformer on images (--patch, --layers, --heads, --embed), mean-pooled, linear classifier"),
    ]

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    public init(json: String) throws {
        do {
            self = try JSONDecoder().decode(ModelSpec.self, from: Data(json.utf8))
        } catch {
            throw ModelError.invalidDescription("model description is not valid JSON of a model spec: \(error)")
        }
    }
}

public enum ModelError: Error, CustomStringConvertible, Equatable {
    case unknownArchitecture(String)
    case invalidDescription(String)
    case incompatibleInput(String)

    public var description: String {
        switch self {
        case .unknownArchitecture(let name):
            let names = ModelSpec.architectures.map(\.name).joined(separator: ", ")
            return "unknown model '\(name)'; known: \(names)"
        case .invalidDescription(let text), .incompatibleInput(let text):
            return text
        }
    }
}
