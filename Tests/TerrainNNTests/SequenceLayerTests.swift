import Testing
import TerrainTensor
import TerrainNN

/// The layers of transformers, held to central finite differences in Double: backward passes
/// (`GradientCheck`) and tangent passes with their second-order terms (`TangentCheck`).
@Suite("Sequence layers match central finite differences (Double, relative error < 1e-6)")
struct SequenceLayerTests {
    /// Token ids [B, T] in 0..<vocabulary, as a token data set holds them, with repeats.
    static func tokenIDs(_ shape: [Int], vocabulary: Int, seed: UInt64 = 3) -> Tensor<Double> {
        var g = SeededGenerator(seed: seed)
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Double(g.nextInt(below: vocabulary)) })
    }

    /// A layer norm whose γ and β are away from (1, 0), so their terms are exercised.
    static func layerNorm(_ features: Int, seed: UInt64 = 5) -> LayerNorm<Double> {
        var g = SeededGenerator(seed: seed)
        let ln = LayerNorm<Double>(features)
        ln.weight.value = .randomNormal(shape: [features], mean: 1, std: 0.3, generator: &g)
        ln.bias.value = .randomNormal(shape: [features], generator: &g)
        return ln
    }

    /// `expectTangentsMatch` for a module whose input is token ids: discrete, so never with ẋ.
    func expectTangentsMatchForTokens(_ module: Module<Double>, _ ids: Tensor<Double>,
                                      sourceLocation: SourceLocation = #_sourceLocation) {
        let report = TangentCheck().run(module, input: ids, inputTangent: false)
        #expect(report.outputTangent < 1e-6, "ẏ relative error \(report.outputTangent)", sourceLocation: sourceLocation)
        for (name, error) in report.parameters.sorted(by: { $0.key < $1.key }) {
            #expect(error < 1e-6, "\(name) curvature relative error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func layerNormOverTheLastAxis() {
        for shape in [[4, 6], [2, 3, 5], [1, 1, 7]] {
            let ln = Self.layerNorm(shape.last!)
            expectGradientsMatch(ln, input: randomInput(shape))
            expectTangentsMatch(ln, input: randomInput(shape))
        }
    }

    /// y = x̂ exactly when γ = 1, β = 0: every row has mean 0 and variance 1 − ε-ish.
    @Test func layerNormNormalizesEachRow() {
        let ln = LayerNorm<Double>(8, epsilon: 0)
        let x = randomInput([3, 4, 8])
        let y = ln.forward(x)
        for row in 0..<12 {
            let values = (0..<8).map { y[flat: row * 8 + $0] }
            let mean = values.reduce(0, +) / 8
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 8
            #expect(abs(mean) < 1e-12 && abs(variance - 1) < 1e-12)
        }
        #expect(ln.namedParameters().map(\.name) == ["weight", "bias"])
        #expect(ln.namedParameters().map(\.parameter.role) == [.normWeight, .normBias])
    }

    /// Without parameter gradients (a Hessian-vector product that needs only R{∂L/∂θ}) the
    /// tangent backward gives the same ∂L/∂x and curvatures.
    @Test func layerNormTangentWithoutParameterGradients() {
        let ln = Self.layerNorm(5)
        var g = SeededGenerator(seed: 8)
        let x = randomInput([3, 5]), xDot = randomInput([3, 5], seed: 2), gy = randomInput([3, 5], seed: 4)
        ln.weight.tangent = .randomNormal(shape: [5], generator: &g)
        func curvatures(_ on: Bool) -> [Tensor<Double>] {
            ln.zeroGradients()
            ln.setParameterGradients(on)
            let (_, yDot) = ln.forwardTangent(x, xDot)
            let (gx, gxDot) = ln.backwardTangent(gy, yDot)
            #expect((ln.weight.gradient != nil) == on)
            return [gx, gxDot!, ln.weight.curvature!, ln.bias.curvature!]
        }
        #expect(curvatures(true) == curvatures(false))
    }

    @Test func embedding() {
        var g = SeededGenerator(seed: 1)
        let table = Embedding<Double>(7, 4, generator: &g)
        let ids = Self.tokenIDs([3, 5], vocabulary: 7)
        let y = table.forward(ids)
        #expect(y.shape == [3, 5, 4])
        for i in 0..<15 {
            let row = Int(ids[flat: i])
            #expect((0..<4).allSatisfy { y[flat: i * 4 + $0] == table.weight.value[flat: row * 4 + $0] })
        }
        // Ids are discrete: only the table has a gradient and a tangent.
        expectGradientsMatch(table, input: ids, checkInput: false)
        expectTangentsMatchForTokens(table, ids)
        #expect(table.namedParameters().map(\.name) == ["weight"] && table.weight.role == .weight)
    }

    @Test func positionEmbedding() {
        var g = SeededGenerator(seed: 2)
        let positions = PositionEmbedding<Double>(context: 6, features: 4, generator: &g)
        for length in [6, 3] {
            let x = randomInput([2, length, 4])
            expectGradientsMatch(positions, input: x)
            expectTangentsMatch(positions, input: x)
        }
        // Rows beyond the sequence get no gradient and no curvature; rows within it do.
        positions.zeroGradients()
        _ = positions.forward(randomInput([2, 3, 4]))
        _ = positions.backward(randomInput([2, 3, 4], seed: 9))
        #expect((12..<24).allSatisfy { positions.weight.gradient![flat: $0] == 0 })
        #expect((0..<12).contains { positions.weight.gradient![flat: $0] != 0 })
        positions.zeroGradients()
        positions.weight.tangent = randomInput([6, 4], seed: 10)
        _ = positions.forwardTangent(randomInput([2, 3, 4]), nil)
        _ = positions.backwardTangent(randomInput([2, 3, 4], seed: 11), randomInput([2, 3, 4], seed: 12))
        #expect((12..<24).allSatisfy { positions.weight.curvature![flat: $0] == 0 })
        #expect((0..<12).contains { positions.weight.curvature![flat: $0] != 0 })
        positions.weight.tangent = nil
    }

    @Test func linearOverSequences() {
        var g = SeededGenerator(seed: 3)
        let linear = Linear<Double>(5, 3, generator: &g)
        let x = randomInput([2, 4, 5])
        expectGradientsMatch(linear, input: x)
        expectTangentsMatch(linear, input: x)
        // The same rows as the matrix [8, 5].
        #expect(linear.forward(x).reshaped([8, 3]) == linear.forward(x.reshaped([8, 5])))
        expectTangentsMatch(Linear<Double>(4, 2, bias: false, generator: &g), input: randomInput([3, 2, 2, 4]))
    }

    @Test func feedForward() {
        var g = SeededGenerator(seed: 4)
        let mlp = FeedForward<Double>(features: 4, hidden: 16, generator: &g)
        expectGradientsMatch(mlp, input: randomInput([2, 3, 4]))
        expectTangentsMatch(mlp, input: randomInput([2, 3, 4]))
        #expect(mlp.namedParameters().map(\.name) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
    }

    @Test func patchEmbeddingAndMeanPool() {
        var g = SeededGenerator(seed: 5)
        let patches = PatchEmbedding<Double>(channels: 2, features: 3, patch: 2, generator: &g)
        let x = randomInput([2, 2, 4, 6])
        #expect(patches.forward(x).shape == [2, 6, 3])
        expectGradientsMatch(patches, input: x)
        expectTangentsMatch(patches, input: x)
        #expect(patches.namedParameters().map(\.name) == ["proj.weight", "proj.bias"])
        // Patch (row 1, column 2) of image 1 is the convolution's output there.
        let grid = patches.proj.forward(x)
        let sequence = patches.forward(x)
        for e in 0..<3 { #expect(sequence[flat: ((1 * 6) + 1 * 3 + 2) * 3 + e] == grid[flat: ((1 * 3 + e) * 2 + 1) * 3 + 2]) }
        expectGradientsMatch(SequenceMeanPool<Double>(), input: randomInput([2, 5, 3]))
        expectTangentsMatch(SequenceMeanPool<Double>(), input: randomInput([2, 5, 3]))
    }

    /// Embedding, position embedding, layer norm, MLP and a head in one chain: the input
    /// tangents that each layer hands the next are checked too.
    @Test func smallChain() {
        var g = SeededGenerator(seed: 6)
        let net = Sequential<Double>(named: [
            ("wte", Embedding(9, 4, generator: &g)), ("wpe", PositionEmbedding(context: 5, features: 4, generator: &g)),
            ("ln", Self.layerNorm(4)), ("mlp", FeedForward(features: 4, hidden: 8, generator: &g)),
            ("head", Linear(4, 9, generator: &g)),
        ])
        // Sequences as long as the context, and shorter (wpe's first 3 rows).
        for length in [5, 3] {
            let ids = Self.tokenIDs([2, length], vocabulary: 9)
            expectGradientsMatch(net, input: ids, checkInput: false)
            expectTangentsMatchForTokens(net, ids)
        }
    }

    /// A layer norm whose R{∂L/∂x} is off by 1%: the checker must notice.
    @Test func tangentCheckDetectsAWrongCurvature() {
        let skewed = SkewedModule(Self.layerNorm(4), skewing: .inputCurvature)
        let report = TangentCheck().run(skewed, input: randomInput([3, 4]), inputTangent: true)
        #expect(report.inputCurvature > 1e-3)
    }
}
