import TerrainTensor
import TerrainNN

extension ModelSpec {
    /// Builds the model with fresh weights drawn from `seed`.
    public func build<T: TensorScalar>(_ type: T.Type = T.self) throws -> Module<T> {
        try validate()
        var generator = LayerFactory<T>(seed: seed, architecture: architecture)
        let name = architecture.lowercased()
        switch name {
        case "linear": return try buildLinear(&generator)
        case "mlp": return try buildMLP(&generator)
        case "cnn": return try buildSmallCNN(&generator)
        case "vgg9": return try buildVGG9(&generator)
        case "densenet": return try buildDenseNet(&generator)
        case "gpt": return try buildGPT(&generator)
        case "vit": return try buildViT(&generator)
        default:
            if let resnet = ResNetName(name) { return try buildResNet(resnet, &generator) }
            throw ModelError.unknownArchitecture(architecture)
        }
    }

    /// One sample's values (checked by `validate()` before any build).
    var flatInputSize: Int { checkedElementCount(inputShape) ?? 0 }

    func imageShape() throws -> (channels: Int, height: Int, width: Int) {
        guard inputShape.count == 3 else {
            throw ModelError.incompatibleInput("\(architecture) needs image inputs [C, H, W], the data has samples shaped \(inputShape)")
        }
        return (inputShape[0], inputShape[1], inputShape[2])
    }

    func activationLayer<T>() throws -> Module<T> {
        switch (activation ?? "relu").lowercased() {
        case "relu": return ReLU()
        case "tanh": return Tanh()
        case "sigmoid": return Sigmoid()
        case "gelu": return GELU()
        case "leaky-relu", "leakyrelu": return LeakyReLU()
        default: throw ModelError.invalidDescription("unknown activation '\(activation!)' (relu, tanh, sigmoid, gelu, leaky-relu)")
        }
    }

    func buildLinear<T>(_ g: inout LayerFactory<T>) throws -> Module<T> {
        var layers: [(String, Module<T>)] = []
        if inputShape.count > 1 { layers.append(("flatten", Flatten())) }
        layers.append(("fc", try g.linear(flatInputSize, outputs)))
        return Sequential(named: layers)
    }

    func buildMLP<T>(_ g: inout LayerFactory<T>) throws -> Module<T> {
        var layers: [(String, Module<T>)] = []
        if inputShape.count > 1 { layers.append(("flatten", Flatten())) }
        var size = flatInputSize
        for (i, hidden) in (hiddenSizes ?? [64, 64, 64]).enumerated() {
            let out = try scaled(hidden)
            layers.append(("fc\(i + 1)", try g.linear(size, out)))
            layers.append(("act\(i + 1)", try activationLayer()))
            size = out
        }
        layers.append(("fc\((hiddenSizes ?? [64, 64, 64]).count + 1)", try g.linear(size, outputs)))
        return Sequential(named: layers)
    }

    func buildSmallCNN<T>(_ g: inout LayerFactory<T>) throws -> Module<T> {
        let (c, h, w) = try imageShape()
        guard h >= 4 && w >= 4 else { throw ModelError.incompatibleInput("cnn needs images of at least 4x4, got \(h)x\(w)") }
        let c1 = try scaled(16), c2 = try scaled(32), hidden = try scaled(64)
        return Sequential<T>(named: [
            ("conv1", try g.conv(c, c1, kernel: 3, padding: 1)),
            ("bn1", try g.batchNorm(c1)), ("relu1", ReLU()), ("pool1", MaxPool2d(kernel: 2)),
            ("conv2", try g.conv(c1, c2, kernel: 3, padding: 1)),
            ("bn2", try g.batchNorm(c2)), ("relu2", ReLU()), ("pool2", MaxPool2d(kernel: 2)),
            ("flatten", Flatten()),
            ("fc1", try g.linear(c2 * (h / 4) * (w / 4), hidden)), ("relu3", ReLU()),
            ("fc2", try g.linear(hidden, outputs)),
        ])
    }

    /// VGG-9's feature layers: output channels of each 3x3 convolution (with batch norm and ReLU),
    /// 0 for a 2x2 max pooling. Shared with its permutation spec (`permutationSpec`).
    static let vgg9Layout = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0]

    func buildVGG9<T>(_ g: inout LayerFactory<T>) throws -> Module<T> {
        var (channels, h, w) = try imageShape()
        guard h >= 8 && w >= 8 else { throw ModelError.incompatibleInput("vgg9 needs images of at least 8x8, got \(h)x\(w)") }
        var features: [Module<T>] = []
        for item in Self.vgg9Layout {
            if item == 0 {
                features.append(MaxPool2d(kernel: 2)); h /= 2; w /= 2
            } else {
                let out = try scaled(item)
                features += [try g.conv(channels, out, kernel: 3, padding: 1), try g.batchNorm(out), ReLU()]
                channels = out
            }
        }
        let hidden = try scaled(512)
        return Sequential<T>(named: [
            ("features", Sequential(features)),
            ("flatten", Flatten()),
            ("classifier", Sequential<T>(try g.linear(channels * h * w, hidden), try g.batchNorm(hidden), ReLU(),
                                         try g.linear(hidden, outputs))),
        ])
    }
}
