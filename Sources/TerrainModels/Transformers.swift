import TerrainTensor
import TerrainNN

extension ModelSpec {
    /// A decoder-only transformer (GPT-2's layout, pre-LayerNorm blocks): token ids [N, T] →
    /// logits [N, T, V] with V = `outputs` (the vocabulary) and T ≤ C = `inputShape[0]` (the
    /// context, wpe's rows; a shorter sequence uses the first T, as PyTorch's GPTs do):
    ///
    ///     x = wte(ids) + wpe(0..<T)          [N, T, E]
    ///     x = h.i(x) for each of `layers` causal `TransformerBlock`s
    ///     logits = head(ln_f(x))             [N, T, V]
    ///
    /// Names as a PyTorch twin with attributes `wte`, `wpe` (`nn.Embedding`s), `h`
    /// (`nn.ModuleList`), `ln_f` and `head` (`nn.Linear(E, V)`, with bias, not tied to `wte`).
    func buildGPT<T>(_ g: inout LayerFactory<T>) throws -> Module<T> {
        let sizes = try transformerSizes()
        let context = try gptContext()
        let wte = try g.embedding(outputs, sizes.embed)
        let wpe = try g.positionEmbedding(context: context, features: sizes.embed)
        let blocks = try g.transformerBlocks(sizes, mask: .causal)
        return Sequential<T>(named: [
            ("wte", wte), ("wpe", wpe), ("h", blocks),
            ("ln_f", try g.layerNorm(sizes.embed)), ("head", try g.linear(sizes.embed, outputs)),
        ])
    }

    /// Whether the model takes token sequences shorter than `inputShape` [C] says: a gpt's C is
    /// its context, the longest sequence its position embedding has rows for, and any T ≤ C runs
    /// (`PositionEmbedding` adds its first T rows; causal attention is the same at every length).
    /// Every other model takes exactly `inputShape`.
    public var takesShorterSequences: Bool { architecture.lowercased() == "gpt" }

    /// A vision transformer: images [N, C, H, W] → class logits [N, K]:
    ///
    ///     x = patch_embed(images) + pos_embed     [N, (H/P)·(W/P), E]
    ///     x = blocks.i(x) for each of `layers` bidirectional `TransformerBlock`s
    ///     logits = head(mean over patches of norm(x))
    ///
    /// No class token: the sequence is mean-pooled before the head, as in Beyer et al.'s plain
    /// ViT baselines (2022); so every parameter is a matrix or a vector with a role, and the
    /// PyTorch twin is `patch_embed.proj` (`nn.Conv2d`), `pos_embed` (`nn.Embedding`), `blocks`,
    /// `norm`, `head`.
    func buildViT<T>(_ g: inout LayerFactory<T>) throws -> Module<T> {
        let sizes = try transformerSizes()
        let (channels, _, _) = try imageShape()
        let patches = try vitPatches()
        let patchEmbed = try g.patchEmbedding(channels: channels, features: sizes.embed, patch: sizes.patch)
        let positions = try g.positionEmbedding(context: patches, features: sizes.embed)
        let blocks = try g.transformerBlocks(sizes, mask: .bidirectional)
        return Sequential<T>(named: [
            ("patch_embed", patchEmbed), ("pos_embed", positions), ("blocks", blocks),
            ("norm", try g.layerNorm(sizes.embed)), ("pool", SequenceMeanPool()),
            ("head", try g.linear(sizes.embed, outputs)),
        ])
    }
}

extension LayerFactory {
    /// The stack of a gpt or vit: `sizes.layers` blocks of width `sizes.embed` with `sizes.heads`
    /// heads, made in order (so the weights are drawn in order), named 0, 1, … as a PyTorch
    /// `nn.ModuleList`.
    mutating func transformerBlocks(_ sizes: (layers: Int, heads: Int, embed: Int, patch: Int),
                                    mask: AttentionMask) throws -> Sequential<T> {
        var blocks: [Module<T>] = []
        for _ in 0..<sizes.layers {
            blocks.append(try transformerBlock(features: sizes.embed, heads: sizes.heads, mask: mask))
        }
        return Sequential(blocks)
    }

    /// A pre-LayerNorm block of width E: two layer norms, attention (W_in [3E, E], b_in [3E],
    /// W_o [E, E], b_o [E]) and the MLP (fc1 [4E, E] + [4E], fc2 [E, 4E] + [E]).
    mutating func transformerBlock(features e: Int, heads: Int, mask: AttentionMask) throws -> TransformerBlock<T> {
        guard let hidden = checkedElementCount([4, e]), let stacked = checkedElementCount([3, e]) else {
            throw ModelError.invalidDescription("\(architecture): embedding \(e) is too large")
        }
        for (shape, what) in [([2, e], "layer-norm"), ([stacked, e], "attention in-projection"), ([stacked], "attention in-projection bias"),
                              ([e, e], "attention out-projection"), ([e], "attention out-projection bias"), ([2, e], "layer-norm"),
                              ([hidden, e], "MLP fc1"), ([hidden], "MLP fc1 bias"), ([e, hidden], "MLP fc2"), ([e], "MLP fc2 bias")] {
            try reserve(shape, for: what)
        }
        return TransformerBlock(features: e, heads: heads, mask: mask, generator: &generator)
    }
}
