import TerrainTensor
import TerrainNN

/// The largest model a description may ask for.
///
/// A `ModelSpec` comes from user input (`--width`, `--hidden`, `--model` JSON) or from a file's
/// metadata (`terrain.model`), so every size it implies is checked before anything is allocated:
/// with overflow-checked arithmetic, against these bounds. Beyond them a build is refused with a
/// message naming the size and the limit, instead of trapping on an overflow or asking the
/// allocator for terabytes.
public enum ModelLimits {
    /// All parameters and buffers together: 2^30 (4 GiB of float32 weights, before gradients
    /// and optimizer state).
    public static let maximumParameters = 1 << 30
    /// One tensor: 2^28 elements (1 GiB of float32).
    public static let maximumTensorElements = 1 << 28
    /// One sample's input: 2^26 values (a 3×4096×4096 image is 2^25.6).
    public static let maximumInputElements = 1 << 26
    /// One layer's width (hidden units, channels, outputs) after the width multiplier.
    public static let maximumLayerSize = 1 << 20
    /// The width multiplier (wide ResNets use up to 10).
    public static let maximumWidth = 64.0
    /// Hidden layers of an MLP.
    public static let maximumHiddenLayers = 1000
    /// The deepest CIFAR ResNet (He et al. train ResNet-1202).
    public static let maximumResNetDepth = 1202
    /// Transformer blocks of a gpt or vit (GPT-3 has 96).
    public static let maximumTransformerLayers = 1000
    /// A transformer's sequence length: a gpt's context, a vit's number of patches. Attention
    /// keeps a [heads, T, T] score matrix per sequence, so T is bounded well below the tensor limit.
    public static let maximumSequenceLength = 1 << 16
}

extension ModelSpec {
    /// Checks the options that do not depend on the data (width, hidden sizes, activation, the
    /// architecture's name and depth), so that a command can refuse them before loading data.
    public func validateOptions() throws {
        guard width.isFinite, width > 0, width <= ModelLimits.maximumWidth else {
            throw ModelError.invalidDescription("width multiplier must be a number in (0, \(ModelLimits.maximumWidth)], got \(width)")
        }
        if let hiddenSizes {
            guard hiddenSizes.count <= ModelLimits.maximumHiddenLayers else {
                throw ModelError.invalidDescription("\(hiddenSizes.count) hidden layers; at most \(ModelLimits.maximumHiddenLayers)")
            }
            for size in hiddenSizes {
                guard size > 0 else { throw ModelError.invalidDescription("hidden sizes must be positive, got \(size)") }
                _ = try scaled(size)
            }
        }
        _ = try activationLayer() as Module<Float>
        let name = architecture.lowercased()
        if Self.transformerArchitectures.contains(name) {
            _ = try transformerSizes()
            if name == "gpt" && patch != nil {
                throw ModelError.invalidDescription("gpt: patch applies to vit only")
            }
        } else if layers != nil || heads != nil || embed != nil || patch != nil {
            throw ModelError.invalidDescription("\(architecture): layers, heads, embed and patch apply to gpt and vit only")
        }
        if !Self.transformerArchitectures.contains(name) && !["linear", "mlp", "cnn", "vgg9", "densenet"].contains(name) {
            guard let resnet = ResNetName(name) else { throw ModelError.unknownArchitecture(architecture) }
            guard resnet.depth <= ModelLimits.maximumResNetDepth else {
                throw ModelError.invalidDescription("\(architecture): depth \(resnet.depth) is above the limit of \(ModelLimits.maximumResNetDepth)")
            }
        }
    }

    /// Checks every size the description implies before a build: the options, the input shape
    /// (positive sizes, at most `maximumInputElements` values) and the number of outputs.
    /// The layers' own sizes are checked as they are made (`LayerFactory`).
    public func validate() throws {
        try validateOptions()
        guard outputs > 0, outputs <= ModelLimits.maximumLayerSize else {
            throw ModelError.invalidDescription("a model needs between 1 and \(ModelLimits.maximumLayerSize) outputs, got \(outputs)")
        }
        guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ModelError.invalidDescription("input shape \(inputShape) must have positive sizes")
        }
        guard let count = checkedElementCount(inputShape), count <= ModelLimits.maximumInputElements else {
            throw ModelError.invalidDescription("input shape \(inputShape) holds more than \(ModelLimits.maximumInputElements) values per sample")
        }
        switch architecture.lowercased() {
        case "gpt": _ = try gptContext()
        case "vit": _ = try vitPatches()
        default: break
        }
    }

    /// The zoo's transformers, which take `layers`, `heads`, `embed` (and a vit `patch`).
    static let transformerArchitectures: Set<String> = ["gpt", "vit"]

    /// A transformer's sizes with their defaults (2 layers, 4 heads, embedding 64, patch 4),
    /// each checked: positive, within the limits, heads dividing the embedding.
    func transformerSizes() throws -> (layers: Int, heads: Int, embed: Int, patch: Int) {
        let sizes = (layers: layers ?? 2, heads: heads ?? 4, embed: embed ?? 64, patch: patch ?? 4)
        guard sizes.layers >= 1, sizes.layers <= ModelLimits.maximumTransformerLayers else {
            throw ModelError.invalidDescription("\(architecture): layers must be between 1 and \(ModelLimits.maximumTransformerLayers), got \(sizes.layers)")
        }
        guard sizes.embed >= 1, sizes.embed <= ModelLimits.maximumLayerSize else {
            throw ModelError.invalidDescription("\(architecture): embed must be between 1 and \(ModelLimits.maximumLayerSize), got \(sizes.embed)")
        }
        guard sizes.heads >= 1, sizes.heads <= sizes.embed, sizes.embed % sizes.heads == 0 else {
            throw ModelError.invalidDescription("\(architecture): heads (\(sizes.heads)) must be a positive divisor of embed (\(sizes.embed))")
        }
        guard sizes.patch >= 1, sizes.patch <= ModelLimits.maximumLayerSize else {
            throw ModelError.invalidDescription("\(architecture): patch must be between 1 and \(ModelLimits.maximumLayerSize), got \(sizes.patch)")
        }
        return sizes
    }

    /// A gpt's context T: samples are token sequences [T], at most `maximumSequenceLength` long.
    func gptContext() throws -> Int {
        guard inputShape.count == 1 else {
            throw ModelError.incompatibleInput("gpt needs token sequences [T], the data has samples shaped \(inputShape)")
        }
        guard inputShape[0] <= ModelLimits.maximumSequenceLength else {
            throw ModelError.invalidDescription("gpt: context \(inputShape[0]) is above the limit of \(ModelLimits.maximumSequenceLength)")
        }
        return inputShape[0]
    }

    /// A vit's number of patches (H/P)·(W/P): the patch must divide the image's sides.
    func vitPatches() throws -> Int {
        let (_, h, w) = try imageShape()
        let p = try transformerSizes().patch
        guard h % p == 0, w % p == 0 else {
            throw ModelError.incompatibleInput("vit: patch \(p) does not divide the \(h)x\(w) images")
        }
        guard let count = checkedElementCount([h / p, w / p]), count <= ModelLimits.maximumSequenceLength else {
            throw ModelError.invalidDescription("vit: \(h / p)x\(w / p) patches are above the limit of \(ModelLimits.maximumSequenceLength)")
        }
        return count
    }

    /// Channels or hidden units after the width multiplier (at least 1), refused beyond
    /// `maximumLayerSize`.
    func scaled(_ channels: Int) throws -> Int {
        let value = (Double(channels) * width).rounded()
        guard value.isFinite, value <= Double(ModelLimits.maximumLayerSize) else {
            throw ModelError.invalidDescription("\(channels) units times width \(width) is above the limit of \(ModelLimits.maximumLayerSize) per layer")
        }
        return max(1, Int(value))
    }
}

/// Makes a zoo model's layers with its seeded generator, counting their parameters first: a
/// tensor above `maximumTensorElements`, or a model above `maximumParameters`, is refused before
/// its memory is asked for. The draws are exactly those of the layers' own initializers, in the
/// same order, so the weights do not depend on the counting.
struct LayerFactory<T: TensorScalar> {
    var generator: SeededGenerator
    let architecture: String
    private(set) var parameterCount = 0

    init(seed: UInt64, architecture: String) {
        generator = SeededGenerator(seed: seed)
        self.architecture = architecture
    }

    /// Counts a tensor of `shape`; throws when it or the model grows beyond the limits.
    mutating func reserve(_ shape: [Int], for layer: String) throws {
        guard let count = checkedElementCount(shape), count <= ModelLimits.maximumTensorElements else {
            throw ModelError.invalidDescription("\(architecture): a \(layer) tensor shaped \(shape) is above the limit of "
                                                + "\(ModelLimits.maximumTensorElements) elements per tensor")
        }
        let (total, overflow) = parameterCount.addingReportingOverflow(count)
        guard !overflow, total <= ModelLimits.maximumParameters else {
            throw ModelError.invalidDescription("\(architecture): more than \(ModelLimits.maximumParameters) parameters (the limit)")
        }
        parameterCount = total
    }

    mutating func linear(_ inFeatures: Int, _ outFeatures: Int) throws -> Linear<T> {
        try reserve([outFeatures, inFeatures], for: "linear")
        try reserve([outFeatures], for: "linear bias")
        return Linear(inFeatures, outFeatures, generator: &generator)
    }

    /// A convolution without bias (every zoo convolution is followed by batch normalization).
    mutating func conv(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0) throws -> Conv2d<T> {
        try reserve([outChannels, inChannels, kernel, kernel], for: "convolution")
        return Conv2d(inChannels, outChannels, kernel: kernel, stride: stride, padding: padding, bias: false, generator: &generator)
    }

    /// A token embedding [V, E].
    mutating func embedding(_ vocabulary: Int, _ features: Int) throws -> Embedding<T> {
        try reserve([vocabulary, features], for: "embedding")
        return Embedding(vocabulary, features, generator: &generator)
    }

    mutating func positionEmbedding(context: Int, features: Int) throws -> PositionEmbedding<T> {
        try reserve([context, features], for: "position embedding")
        return PositionEmbedding(context: context, features: features, generator: &generator)
    }

    /// Layer normalization: weight and bias.
    mutating func layerNorm(_ features: Int) throws -> LayerNorm<T> {
        try reserve([2, features], for: "layer-norm")
        return LayerNorm(features)
    }

    /// A patch embedding: a convolution [E, C, P, P] with bias [E].
    mutating func patchEmbedding(channels: Int, features: Int, patch: Int) throws -> PatchEmbedding<T> {
        try reserve([features, channels, patch, patch], for: "patch embedding")
        try reserve([features], for: "patch embedding bias")
        return PatchEmbedding(channels: channels, features: features, patch: patch, generator: &generator)
    }

    /// Batch normalization: weight, bias, running mean and variance.
    mutating func batchNorm(_ features: Int) throws -> BatchNorm<T> {
        try reserve([4, features], for: "batch-norm")
        return BatchNorm(features)
    }
}
