import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainModels

/// The zoo's transformers: shapes, PyTorch's names and roles, whole-model finite differences, and
/// every size checked before a build.
@Suite("Transformers in the zoo")
struct TransformerZooTests {
    static let gptSpec = ModelSpec(architecture: "gpt", inputShape: [6], outputs: 11, seed: 2, layers: 2, heads: 2, embed: 8)
    static let vitSpec = ModelSpec(architecture: "vit", inputShape: [2, 4, 6], outputs: 3, seed: 2, layers: 1, heads: 2, embed: 4, patch: 2)

    static func tokens(_ shape: [Int], vocabulary: Int, seed: UInt64 = 1) -> Tensor<Double> {
        var g = SeededGenerator(seed: seed)
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Double(g.nextInt(below: vocabulary)) })
    }

    @Test func gptMapsTokensToLogitsPerPosition() throws {
        let model: Module<Double> = try Self.gptSpec.build()
        #expect(model.forward(Self.tokens([3, 6], vocabulary: 11)).shape == [3, 6, 11])
        // Shorter sequences than the context work too (the positions' first rows).
        #expect(model.forward(Self.tokens([2, 4], vocabulary: 11)).shape == [2, 4, 11])
        let names = model.namedParameters().map(\.name)
        #expect(Array(names.prefix(4)) == ["wte.weight", "wpe.weight", "h.0.ln_1.weight", "h.0.ln_1.bias"])
        for name in ["h.0.attn.in_proj_weight", "h.0.attn.in_proj_bias", "h.0.attn.out_proj.weight", "h.0.ln_2.weight",
                     "h.1.mlp.fc1.weight", "h.1.mlp.fc2.bias", "ln_f.weight", "ln_f.bias", "head.weight", "head.bias"] {
            #expect(names.contains(name), "\(name)")
        }
        let roles = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.parameter.role) })
        #expect(roles["wte.weight"] == .weight && roles["h.0.attn.in_proj_weight"] == .weight)
        #expect(roles["h.0.ln_1.weight"] == .normWeight && roles["ln_f.bias"] == .normBias && roles["h.0.attn.in_proj_bias"] == .bias)
        // V·E + T·E + L·(12E² + 13E) + 2E + E·V + V
        let (v, t, e, l) = (11, 6, 8, 2)
        #expect(model.trainableScalarCount == v * e + t * e + l * (12 * e * e + 13 * e) + 2 * e + e * v + v)
    }

    /// Causal: the logits at position t do not depend on tokens after t.
    @Test func gptIsCausal() throws {
        let model: Module<Double> = try Self.gptSpec.build()
        var ids = Self.tokens([1, 6], vocabulary: 11)
        let before = model.forward(ids)
        ids[flat: 5] = Double((Int(ids[flat: 5]) + 1) % 11)
        let after = model.forward(ids)
        #expect((0..<(5 * 11)).allSatisfy { before[flat: $0] == after[flat: $0] })
        #expect((55..<66).contains { before[flat: $0] != after[flat: $0] })
    }

    @Test func vitClassifiesImages() throws {
        let model: Module<Double> = try Self.vitSpec.build()
        #expect(model.forward(randomInput([2, 2, 4, 6])).shape == [2, 3])
        let names = model.namedParameters().map(\.name)
        #expect(Array(names.prefix(3)) == ["patch_embed.proj.weight", "patch_embed.proj.bias", "pos_embed.weight"])
        #expect(names.contains("blocks.0.attn.in_proj_weight") && names.contains("norm.weight") && names.last == "head.bias")
    }

    @Test func wholeModelGradients() throws {
        let gpt: Module<Double> = try Self.gptSpec.build()
        let report = GradientCheck(maxCoordinates: 40).run(gpt, input: Self.tokens([2, 6], vocabulary: 11), checkInput: false)
        for (name, error) in report.parameters { #expect(error < 1e-6, "\(name): \(error)") }
        let vit: Module<Double> = try Self.vitSpec.build()
        let vitReport = GradientCheck(maxCoordinates: 40).run(vit, input: randomInput([2, 2, 4, 6]))
        #expect(vitReport.input < 1e-6)
        for (name, error) in vitReport.parameters { #expect(error < 1e-6, "\(name): \(error)") }
    }

    @Test func transformerBlockGradientsAndTangents() {
        for mask in [AttentionMask.causal, .bidirectional] {
            var g = SeededGenerator(seed: 4)
            let block = TransformerBlock<Double>(features: 6, heads: 2, mask: mask, generator: &g)
            // Layer norms away from (1, 0), attention biases away from 0.
            for (_, p) in block.namedParameters() where p.shape.count == 1 {
                p.value = .randomNormal(shape: p.shape, mean: p.role == .normWeight ? 1 : 0, std: 0.3, generator: &g)
            }
            expectGradientsMatch(block, input: randomInput([2, 5, 6]))
            expectTangentsMatch(block, input: randomInput([2, 5, 6]))
        }
    }

    @Test func sizesAreCheckedBeforeABuild() {
        func refused(_ spec: ModelSpec, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(sourceLocation: sourceLocation) { let _: Module<Float> = try spec.build() } throws: { "\($0)".contains(fragment) }
        }
        var spec = Self.gptSpec
        spec.heads = 3
        refused(spec, "divisor of embed")
        spec = Self.gptSpec; spec.layers = 0
        refused(spec, "layers must be between")
        spec = Self.gptSpec; spec.embed = 1 << 21
        refused(spec, "embed must be between")
        spec = Self.gptSpec; spec.inputShape = [1, 6]
        refused(spec, "token sequences [T]")
        spec = Self.gptSpec; spec.inputShape = [1 << 17]
        refused(spec, "context")
        spec = Self.gptSpec; spec.patch = 2
        refused(spec, "vit only")
        var vit = Self.vitSpec
        vit.patch = 4
        refused(vit, "does not divide")
        vit = Self.vitSpec; vit.inputShape = [6]
        refused(vit, "image inputs")
        let mlp = ModelSpec(architecture: "mlp", inputShape: [4], outputs: 2, heads: 2)
        refused(mlp, "gpt and vit only")
        // A tensor beyond the limit is refused by the layer factory before any allocation.
        spec = Self.gptSpec; spec.embed = 1 << 16; spec.heads = 1; spec.outputs = 1 << 14
        refused(spec, "limit")
    }

    @Test func tokenIDsAreCheckedAgainstTheVocabulary() throws {
        try Self.gptSpec.checkTokenIDs(Tensor(shape: [1, 3], scalars: [0, 10, 4]))
        for bad: Float in [11, -1, 2.5, .nan] {
            #expect { try Self.gptSpec.checkTokenIDs(Tensor(shape: [1, 3], scalars: [0, bad, 4])) } throws: {
                "\($0)".contains("position 1") && "\($0)".contains("0..<11")
            }
        }
    }

    /// The new fields are optional: a description written before them reads, and one without
    /// them writes exactly as before.
    @Test func oldDescriptionsStillRead() throws {
        let old = #"{"activation":"tanh","architecture":"mlp","hiddenSizes":[8],"inputShape":[4],"outputs":2,"seed":1,"width":1}"#
        let spec = try ModelSpec(json: old)
        #expect(spec.layers == nil && spec.heads == nil && spec.embed == nil && spec.patch == nil)
        #expect(spec.json == old)
        let round = try ModelSpec(json: Self.vitSpec.json)
        #expect(round == Self.vitSpec)
    }
}
