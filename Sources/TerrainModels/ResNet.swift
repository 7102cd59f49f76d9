import TerrainTensor
import TerrainNN

/// A parsed ResNet name: `resnet56`, `resnet56-noshort`, `wrn56-4` (ResNet-56 with 4x channels).
struct ResNetName {
    var depth: Int
    var widen: Int
    var shortcuts: Bool

    init?(_ name: String) {
        var rest = Substring(name)
        shortcuts = !rest.hasSuffix("-noshort")
        if !shortcuts { rest = rest.dropLast("-noshort".count) }
        if rest.hasPrefix("resnet"), let d = Int(rest.dropFirst(6)) {
            depth = d; widen = 1
        } else if rest.hasPrefix("wrn") {
            let parts = rest.dropFirst(3).split(separator: "-")
            guard parts.count == 2, let d = Int(parts[0]), let k = Int(parts[1]), k > 0 else { return nil }
            depth = d; widen = k
        } else {
            return nil
        }
        guard depth >= 8, (depth - 2) % 6 == 0 else { return nil }
    }
}

extension ModelSpec {
    /// The CIFAR ResNets of He et al. as Li et al. train them: a 3x3 stem of 16 channels, three
    /// stages of (depth − 2)/6 basic blocks at 16, 32, 64 channels (stride 2 between stages),
    /// global average pooling and one linear layer. Shortcuts that change shape are 1x1
    /// convolutions with batch normalization.
    func buildResNet<T>(_ name: ResNetName, _ g: inout LayerFactory<T>) throws -> Module<T> {
        let (c, _, _) = try imageShape()
        let blocksPerStage = (name.depth - 2) / 6
        // The widening factor is checked like the width: the product cannot overflow.
        let widths = try [16, 32, 64].map { channels in
            let (product, overflow) = channels.multipliedReportingOverflow(by: name.widen)
            guard !overflow else { throw ModelError.invalidDescription("\(architecture): widening factor \(name.widen) is too large") }
            return try scaled(product)
        }
        var layers: [(String, Module<T>)] = [
            ("conv1", try g.conv(c, widths[0], kernel: 3, padding: 1)),
            ("bn1", try g.batchNorm(widths[0])), ("relu", ReLU()),
        ]
        var inChannels = widths[0]
        for (stage, out) in widths.enumerated() {
            var blocks: [Module<T>] = []
            for b in 0..<blocksPerStage {
                let stride = (stage > 0 && b == 0) ? 2 : 1
                blocks.append(try basicBlock(inChannels, out, stride: stride, shortcuts: name.shortcuts, &g))
                inChannels = out
            }
            layers.append(("layer\(stage + 1)", Sequential(blocks)))
        }
        layers += [("pool", GlobalAvgPool()), ("linear", try g.linear(inChannels, outputs))]
        return Sequential(named: layers)
    }

    func basicBlock<T>(_ inChannels: Int, _ out: Int, stride: Int, shortcuts: Bool, _ g: inout LayerFactory<T>) throws -> Module<T> {
        let body = Sequential<T>(named: [
            ("conv1", try g.conv(inChannels, out, kernel: 3, stride: stride, padding: 1)),
            ("bn1", try g.batchNorm(out)), ("relu1", ReLU()),
            ("conv2", try g.conv(out, out, kernel: 3, padding: 1)),
            ("bn2", try g.batchNorm(out)),
        ])
        var projection: Module<T>? = nil
        if shortcuts && (stride != 1 || inChannels != out) {
            projection = Sequential<T>(try g.conv(inChannels, out, kernel: 1, stride: stride), try g.batchNorm(out))
        }
        return Residual(body: body, shortcut: projection, hasShortcut: shortcuts, post: ReLU())
    }
}
