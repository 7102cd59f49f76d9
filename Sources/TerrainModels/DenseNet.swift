import TerrainTensor
import TerrainNN

extension ModelSpec {
    /// A small DenseNet-BC (Huang et al.) for 28–32 pixel images: a 3x3 stem of 2·growth
    /// channels, three dense blocks of bottleneck layers (BN-ReLU-1x1 conv to 4·growth,
    /// BN-ReLU-3x3 conv to growth, concatenated to the input), transitions that halve the
    /// channels and the resolution, then BN-ReLU, global average pooling and a linear layer.
    func buildDenseNet<T>(_ g: inout SeededGenerator) throws -> Module<T> {
        let (c, _, _) = try imageShape()
        let growth = scaled(12), layersPerBlock = 4
        var channels = 2 * growth
        var layers: [(String, Module<T>)] = [("conv1", Conv2d(c, channels, kernel: 3, padding: 1, bias: false, generator: &g))]
        for block in 1...3 {
            var dense: [Module<T>] = []
            for _ in 0..<layersPerBlock {
                dense.append(DenseConcat(body: Sequential<T>(named: [
                    ("bn1", BatchNorm(channels)), ("relu1", ReLU()),
                    ("conv1", Conv2d(channels, 4 * growth, kernel: 1, bias: false, generator: &g)),
                    ("bn2", BatchNorm(4 * growth)), ("relu2", ReLU()),
                    ("conv2", Conv2d(4 * growth, growth, kernel: 3, padding: 1, bias: false, generator: &g)),
                ])))
                channels += growth
            }
            layers.append(("dense\(block)", Sequential(dense)))
            if block < 3 {
                let out = channels / 2
                layers.append(("trans\(block)", Sequential<T>(named: [
                    ("bn", BatchNorm(channels)), ("relu", ReLU()),
                    ("conv", Conv2d(channels, out, kernel: 1, bias: false, generator: &g)),
                    ("pool", AvgPool2d(kernel: 2)),
                ])))
                channels = out
            }
        }
        layers += [("bn", BatchNorm(channels)), ("relu", ReLU()), ("pool", GlobalAvgPool()),
                   ("linear", Linear(channels, outputs, generator: &g))]
        return Sequential(named: layers)
    }
}
