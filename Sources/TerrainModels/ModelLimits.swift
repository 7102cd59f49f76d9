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
        if !["linear", "mlp", "cnn", "vgg9", "densenet"].contains(name) {
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

    /// Batch normalization: weight, bias, running mean and variance.
    mutating func batchNorm(_ features: Int) throws -> BatchNorm<T> {
        try reserve([4, features], for: "batch-norm")
        return BatchNorm(features)
    }
}
