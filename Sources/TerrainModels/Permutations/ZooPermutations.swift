/// The zoo's permutation symmetries: for each architecture whose hidden units can be reordered,
/// which group permutes which axis of which state_dict tensor (`PermutationSpec`).
///
/// - mlp: one group per hidden layer fcK (fcK's weight rows and bias, fcK+1's weight columns);
///   elementwise activations commute with any permutation.
/// - cnn, vgg9: one group per convolution (its filters, its batch norm's four vectors, the next
///   convolution's input channels; max pooling is per channel) and per hidden linear layer. The
///   first linear layer reads the flattened [C, H, W] maps channel-major, so its columns move in
///   blocks of H·W.
/// - resnetN, wrnN-k: one group per block's inner channels (conv1, bn1, conv2's inputs), and one
///   per residual stream: every tensor that writes into the stream (the stem's conv1 and bn1,
///   each block's conv2 and bn2, a projection's conv and batch norm) and every one that reads it
///   (each block's conv1 and projection inputs, the final linear layer's columns) shares it,
///   since identity shortcuts add the stream's channels to the block's unpermuted. A projection
///   shortcut starts a new stream. Global average pooling is per channel.
/// - resnetN-noshort: no stream; each block's output (conv2, bn2) is a group of its own.
/// - densenet, gpt, vit, linear: refused (`PermutationError.unsupported`).
///
/// Group sizes come from the tensors' shapes (`shapes`, a checkpoint's), and the spec is checked
/// against them (`PermutationSpec.check`).
extension ModelSpec {
    /// The architectures `permutationSpec` supports, as `terrain align` names them.
    public static let alignableArchitectures = "mlp, cnn, vgg9, resnetN, resnetN-noshort, wrnN-k, wrnN-k-noshort"

    public func permutationSpec(shapes: [String: [Int]]) throws(PermutationError) -> PermutationSpec {
        let name = architecture.lowercased()
        var builder = PermutationSpecBuilder(shapes: shapes)
        switch name {
        case "mlp":
            let layers = (hiddenSizes ?? [64, 64, 64]).count
            for k in stride(from: 1, through: layers, by: 1) {
                builder.group("fc\(k)", writers: Self.linearWriters("fc\(k)"), readers: [("fc\(k + 1).weight", false)])
            }
        case "cnn":
            builder.group("conv1", writers: Self.convWriters("conv1", bn: "bn1"), readers: [("conv2.weight", false)])
            builder.group("conv2", writers: Self.convWriters("conv2", bn: "bn2"), readers: [("fc1.weight", true)])
            builder.group("fc1", writers: Self.linearWriters("fc1"), readers: [("fc2.weight", false)])
        case "vgg9":
            // features.N: a convolution is followed by its batch norm and ReLU, a pooling is one module.
            var convIndices: [Int] = [], index = 0
            for item in Self.vgg9Layout {
                if item != 0 { convIndices.append(index) }
                index += item == 0 ? 1 : 3
            }
            for (k, index) in convIndices.enumerated() {
                let readers: [(String, Bool)] = k + 1 < convIndices.count ? [("features.\(convIndices[k + 1]).weight", false)]
                                                                          : [("classifier.0.weight", true)]
                builder.group("features.\(index)", writers: Self.convWriters("features.\(index)", bn: "features.\(index + 1)"),
                              readers: readers)
            }
            builder.group("classifier.0", writers: Self.linearWriters("classifier.0") + Self.batchNormTensors("classifier.1"),
                          readers: [("classifier.3.weight", false)])
        default:
            guard let resnet = ResNetName(name) else {
                let why = switch name {
                case "densenet": "its dense blocks concatenate every earlier layer's channels, which this alignment does not permute"
                case "gpt", "vit": "attention heads and the residual stream of a transformer are not permuted by this alignment"
                case "linear": "a single linear layer has no hidden units to permute"
                default: "it is not a zoo architecture"
                }
                throw .unsupported("\(architecture) cannot be aligned: \(why); alignment supports \(Self.alignableArchitectures)")
            }
            resnetGroups(resnet, &builder)
        }
        let spec = PermutationSpec(groups: try builder.finish())
        try spec.check(shapes: shapes)
        return spec
    }

    private func resnetGroups(_ name: ResNetName, _ builder: inout PermutationSpecBuilder) {
        let blocksPerStage = (name.depth - 2) / 6
        // The open group that the next layers read: its name, writers, readers so far.
        var stream = (name: name.shortcuts ? "stream 1" : "conv1", writers: Self.convWriters("conv1", bn: "bn1"),
                      readers: [(String, Bool)](), slot: builder.count)
        var streams = 1
        var previousChannels = builder.shapes["conv1.weight"]?.first
        for stage in 1...3 {
            for b in 0..<blocksPerStage {
                let block = "layer\(stage).\(b)"
                let outChannels = builder.shapes["\(block).conv2.weight"]?.first
                stream.readers.append(("\(block).conv1.weight", false))
                builder.group("\(block).conv1", writers: Self.convWriters("\(block).conv1", bn: "\(block).bn1"),
                              readers: [("\(block).conv2.weight", false)])
                let output = Self.convWriters("\(block).conv2", bn: "\(block).bn2")
                if !name.shortcuts {
                    builder.group(stream.name, writers: stream.writers, readers: stream.readers, at: stream.slot)
                    stream = ("\(block).conv2", output, [], builder.count)
                } else if (stage > 1 && b == 0) || previousChannels != outChannels {
                    // A projection shortcut (1x1 convolution and batch norm) reads the old stream and starts a new one.
                    stream.readers.append(("\(block).shortcut.0.weight", false))
                    builder.group(stream.name, writers: stream.writers, readers: stream.readers, at: stream.slot)
                    streams += 1
                    stream = ("stream \(streams)", output + Self.convWriters("\(block).shortcut.0", bn: "\(block).shortcut.1"), [],
                              builder.count)
                } else {
                    stream.writers += output
                }
                previousChannels = outChannels
            }
        }
        stream.readers.append(("linear.weight", false))
        builder.group(stream.name, writers: stream.writers, readers: stream.readers, at: stream.slot)
    }

    /// A linear layer's outputs: weight rows and bias.
    static func linearWriters(_ layer: String) -> [(String, Bool)] {
        [("\(layer).weight", true), ("\(layer).bias", true)]
    }

    /// A bias-free convolution's filters and its batch norm's vectors.
    static func convWriters(_ conv: String, bn: String) -> [(String, Bool)] {
        [("\(conv).weight", true)] + batchNormTensors(bn)
    }

    /// A batch norm's scale and shift (matched) and running statistics (permuted, not matched).
    static func batchNormTensors(_ bn: String) -> [(String, Bool)] {
        [("\(bn).weight", true), ("\(bn).bias", true), ("\(bn).running_mean", false), ("\(bn).running_var", false)]
    }
}

/// Collects groups from writers (axis 0, tensor name and whether it is matched) and readers
/// (axis 1; `flattened` readers take the units in blocks of the rest of their input axis).
struct PermutationSpecBuilder {
    let shapes: [String: [Int]]
    private var groups: [PermutationSpec.Group] = []
    private var failure: PermutationError?

    init(shapes: [String: [Int]]) { self.shapes = shapes }

    /// Groups so far: where the next one goes.
    var count: Int { groups.count }

    /// Adds a group, at the end or at `slot` (a residual stream is listed where it starts, though
    /// its readers are known only where it ends).
    mutating func group(_ name: String, writers: [(String, Bool)], readers: [(tensor: String, flattened: Bool)], at slot: Int? = nil) {
        guard failure == nil else { return }
        guard let first = writers.first, let size = shapes[first.0]?.first else {
            failure = .shapeMismatch("tensor \(writers.first?.0 ?? name) is missing")
            return
        }
        var axes = writers.map { PermutationSpec.Axis(tensor: $0.0, axis: 0, matched: $0.1) }
        for reader in readers {
            guard let shape = shapes[reader.tensor], shape.count >= 2 else {
                failure = .shapeMismatch("tensor \(reader.tensor) is missing or not a weight")
                return
            }
            var block = 1
            if reader.flattened {
                guard size > 0, shape[1] % size == 0 else {
                    failure = .shapeMismatch("tensor \(reader.tensor) is shaped \(shape): its inputs are not \(size) channels of equal size")
                    return
                }
                block = shape[1] / size
            }
            axes.append(PermutationSpec.Axis(tensor: reader.tensor, axis: 1, blockSize: block))
        }
        groups.insert(PermutationSpec.Group(name: name, size: size, axes: axes), at: slot ?? groups.count)
    }

    func finish() throws(PermutationError) -> [PermutationSpec.Group] {
        if let failure { throw failure }
        return groups
    }
}
