import TerrainTensor
import TerrainNN

extension ModelSpec {
    /// A small DenseNet-BC (Huang et al.) for 28–32 pixel images: a 3x3 stem of 2·growth
    /// channels, three dense blocks of bottleneck layers (BN-ReLU-1x1 conv to 4·growth,
    /// BN-ReLU-3x3 conv to growth, concatenated to the input), transitions that halve the
    /// channels and the resolution, then BN-ReLU, global average pooling and a linear layer.
    func buildDenseNet<T>(_ g: inout LayerFactory<T>) throws -> Module<T> {
        let (c, _, _) = try imageShape()
        let growth = try scaled(12), layersPerBlock = 4
        var channels = 2 * growth
        var layers: [(String, Module<T>)] = [("conv1", try g.conv(c, channels, kernel: 3, padding: 1))]
        for block in 1...3 {
            var dense: [Module<T>] = []
            for _ in 0..<layersPerBlock {
                dense.append(DenseConcat(body: Sequential<T>(named: [
                    ("bn1", try g.batchNorm(channels)), ("relu1", ReLU()),
                    ("conv1", try g.conv(channels, 4 * growth, kernel: 1)),
                    ("bn2", try g.batchNorm(4 * growth)), ("relu2", ReLU()),
                    ("conv2", try g.conv(4 * growth, growth, kernel: 3, padding: 1)),
                ])))
                channels += growth
            }
            layers.append(("dense\(block)", Sequential(dense)))
            if block < 3 {
                let out = channels / 2
                layers.append(("trans\(block)", Sequential<T>(named: [
                    ("bn", try g.batchNorm(channels)), ("relu", ReLU()),
                    ("conv", try g.conv(channels, out, kernel: 1)),
                    ("pool", AvgPool2d(kernel: 2)),
                ])))
                channels = out
            }
        }
        layers += [("bn", try g.batchNorm(channels)), ("relu", ReLU()), ("pool", GlobalAvgPool()),
                   ("linear", try g.linear(channels, outputs))]
        return Sequential(named: layers)
    }
}
