import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainModels
import TerrainLandscape
import TerrainObjectives

/// Exact Hessian-vector products (R-operator) against central differences of exact gradients,
/// closed forms and the dense Hessian, all in Double.
///
/// The finite-difference reference is (∇L(θ + hv) − ∇L(θ − hv)) / 2h with h = 1e-5·‖θ‖/‖v‖:
/// its truncation error is O(h²) and its rounding error about 1e-16·‖∇L‖/(h‖v‖), both far below
/// the 1e-6 asked for. ReLU and max pooling make the loss piecewise smooth: the difference is
/// only valid when no pre-activation (or pooling window's runner-up) lies within the step of a
/// kink. A crossing shows as an error that grows like 1/h (not as a slightly larger one): the
/// small networks below cross none at h = 1e-5·‖θ‖/‖v‖, but the zoo's ReLU networks have 10⁴–10⁵
/// ReLU inputs, about one of which lies within that step of zero (resnet20-noshort and densenet
/// gave relative errors 8e-3 and 4.4 at 1e-5, 2e-9 and 1e-9 at 1e-7: a crossing, not a wrong
/// product). They take the step 1e-7·‖θ‖/‖v‖, where the rounding error is still ~1e-9; the
/// bound 1e-6 is the same everywhere.
@Suite("HessianVectorProductTests")
struct HessianVectorProductTests {
    // MARK: Helpers

    /// `count` random samples shaped `sampleShape`: classes (i mod `classes`, shuffled by the seed's
    /// normals) or, with `regressionOutputs`, normal regression targets.
    static func dataset(sampleShape: [Int], count: Int, classes: Int? = 3, regressionOutputs: Int? = nil,
                        seed: UInt64 = 11) -> DatasetPair {
        var g = SeededGenerator(seed: seed)
        let inputs = Tensor<Float>.randomNormal(shape: [count] + sampleShape, generator: &g)
        let targets: Targets
        if let outputs = regressionOutputs {
            targets = .values(Tensor<Float>.randomNormal(shape: [count, outputs], generator: &g))
        } else {
            let k = classes ?? 3
            targets = .classes((0..<count).map { _ in Int32(g.nextInt(below: k)) }, count: k)
        }
        let set = Dataset(name: "random", inputs: inputs, targets: targets)
        return DatasetPair(train: set, test: set)
    }

    /// A Double objective over `model`, after one training-mode pass over the data so that batch
    /// normalization's running statistics are not the trivial (0, 1).
    static func objective(_ model: Module<Double>, _ data: DatasetPair, batchSize: Int = 5) -> ModelObjective<Double> {
        model.setTraining(true)
        _ = model.forward(Tensor<Double>(converting: data.train.inputs))
        return ModelObjective(model: model, data: data, batchSize: batchSize)
    }

    /// A normal random direction on the trainable entries, zero on buffers.
    static func randomDirection(_ objective: some Objective, seed: UInt64) -> [Double] {
        var g = SeededGenerator(seed: seed)
        var v = [Double](repeating: 0, count: objective.groups.scalarCount)
        for group in objective.groups where group.isTrainable {
            for i in group.range { v[i] = g.nextNormal() }
        }
        return v
    }

    static func norm(_ a: [Double]) -> Double { a.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    static func trainableNorm(_ x: [Double], _ groups: [ParameterGroup]) -> Double {
        norm(groups.filter(\.isTrainable).flatMap { Array(x[$0.range]) })
    }

    /// (∇L(θ + hv) − ∇L(θ − hv)) / 2h at the objective's current θ, which is restored.
    static func gradientDifference(_ objective: ModelObjective<Double>, _ v: [Double], step h: Double) throws -> [Double] {
        let theta = objective.parameters()
        defer { objective.setParameters(theta) }
        objective.setParameters(zip(theta, v).map { $0 + h * $1 })
        let plus = try objective.gradient(.train).gradient
        objective.setParameters(zip(theta, v).map { $0 - h * $1 })
        let minus = try objective.gradient(.train).gradient
        return zip(plus, minus).map { ($0 - $1) / (2 * h) }
    }

    /// Checks H·v against the central difference of exact gradients (relative error below
    /// `tolerance`), the returned loss and gradient against `evaluate` and `gradient`, zeros on
    /// buffers, and that θ and the model's modes are left as they were.
    static func expectProductMatchesGradientDifferences(_ objective: ModelObjective<Double>, seed: UInt64 = 21,
                                                        relativeStep: Double = 1e-5, tolerance: Double = 1e-6,
                                                        sourceLocation: SourceLocation = #_sourceLocation) throws {
        let theta = objective.parameters()
        let v = randomDirection(objective, seed: seed)
        let (value, gradient, product) = try objective.hessianVectorProduct(.train, v)
        #expect(objective.parameters() == theta, sourceLocation: sourceLocation)
        #expect(!objective.model.isRecording && !objective.model.isTraining, sourceLocation: sourceLocation)
        #expect(objective.model.namedParameters().allSatisfy { $0.parameter.tangent == nil && $0.parameter.curvature == nil },
                sourceLocation: sourceLocation)
        let (plainValue, plainGradient) = try objective.gradient(.train)
        #expect(abs(value.loss - plainValue.loss) <= 1e-14 * abs(plainValue.loss), sourceLocation: sourceLocation)
        #expect(value.accuracy == plainValue.accuracy, sourceLocation: sourceLocation)
        #expect(norm(zip(gradient, plainGradient).map { $0 - $1 }) <= 1e-13 * norm(plainGradient), sourceLocation: sourceLocation)
        for group in objective.groups where !group.isTrainable {
            #expect(group.range.allSatisfy { product[$0] == 0 && gradient[$0] == 0 }, "\(group.name) is a buffer",
                    sourceLocation: sourceLocation)
        }
        let h = relativeStep * trainableNorm(theta, objective.groups) / norm(v)
        let numeric = try gradientDifference(objective, v, step: h)
        let error = norm(zip(product, numeric).map { $0 - $1 }) / norm(product)
        #expect(norm(product) > 0, sourceLocation: sourceLocation)
        #expect(error < tolerance, "relative error of H·v against gradient differences: \(error)", sourceLocation: sourceLocation)
    }

    /// The dense Hessian on the operator's parameters, column by column: H eᵢ.
    static func denseHessian(_ op: HessianOperator) throws -> [[Double]] {
        try (0..<op.dimension).map { i in
            var e = [Double](repeating: 0, count: op.dimension)
            e[i] = 1
            return try op.apply(e)
        }
    }

    // MARK: Every layer, in a tiny network

    @Test func linearTanhCrossEntropy() throws {
        var g = SeededGenerator(seed: 1)
        let model = Sequential<Double>(Linear(5, 4, generator: &g), Tanh(), Linear(4, 3, generator: &g))
        try Self.expectProductMatchesGradientDifferences(Self.objective(model, Self.dataset(sampleShape: [5], count: 12)))
    }

    /// Self-attention over sequences [T, E] (causal and bidirectional) under a linear classifier.
    @Test(arguments: AttentionMask.allCases)
    func multiHeadSelfAttention(mask: AttentionMask) throws {
        var g = SeededGenerator(seed: 8)
        let model = Sequential<Double>(MultiHeadSelfAttention(embedding: 6, heads: 2, mask: mask, generator: &g),
                                       Flatten(), Linear(4 * 6, 3, generator: &g))
        try Self.expectProductMatchesGradientDifferences(Self.objective(model, Self.dataset(sampleShape: [4, 6], count: 12)))
    }

    @Test func sigmoidAndLinearWithoutBias() throws {
        var g = SeededGenerator(seed: 2)
        let model = Sequential<Double>(Linear(5, 4, bias: false, generator: &g), Sigmoid(), Linear(4, 3, generator: &g))
        try Self.expectProductMatchesGradientDifferences(Self.objective(model, Self.dataset(sampleShape: [5], count: 12)))
    }

    /// GELU with the mean-squared-error loss on regression targets.
    @Test func geluMeanSquaredError() throws {
        var g = SeededGenerator(seed: 3)
        let model = Sequential<Double>(Linear(5, 6, generator: &g), GELU(), Linear(6, 2, generator: &g))
        let data = Self.dataset(sampleShape: [5], count: 12, regressionOutputs: 2)
        try Self.expectProductMatchesGradientDifferences(Self.objective(model, data))
    }

    /// Piecewise-linear activations: the Hessian comes from the loss and the products of weights.
    @Test func reluAndLeakyReLU() throws {
        var g = SeededGenerator(seed: 4)
        let model = Sequential<Double>(Linear(5, 6, generator: &g), ReLU(), Linear(6, 6, generator: &g),
                                       LeakyReLU(slope: 0.1), Linear(6, 3, generator: &g))
        try Self.expectProductMatchesGradientDifferences(Self.objective(model, Self.dataset(sampleShape: [5], count: 12)))
    }

    /// BatchNorm1d in evaluation mode (running statistics moved away from (0, 1)), and dropout,
    /// which is the identity in evaluation mode.
    @Test func batchNorm1dAndDropout() throws {
        var g = SeededGenerator(seed: 5)
        let model = Sequential<Double>(Linear(5, 4, generator: &g), BatchNorm(4), Tanh(), Dropout(0.5, seed: 3),
                                       Linear(4, 3, generator: &g))
        try Self.expectProductMatchesGradientDifferences(Self.objective(model, Self.dataset(sampleShape: [5], count: 12)))
    }

    @Test func convBatchNorm2dMaxPoolFlatten() throws {
        var g = SeededGenerator(seed: 6)
        let model = Sequential<Double>(Conv2d(2, 3, kernel: 3, padding: 1, generator: &g), BatchNorm(3), ReLU(),
                                       MaxPool2d(kernel: 2), Conv2d(3, 4, kernel: 3, stride: 2, padding: 1, generator: &g),
                                       Tanh(), Flatten(), Linear(16, 3, generator: &g))
        try Self.expectProductMatchesGradientDifferences(Self.objective(model, Self.dataset(sampleShape: [2, 6, 6], count: 10)))
    }

    @Test func avgPoolAndGlobalAvgPool() throws {
        var g = SeededGenerator(seed: 7)
        let model = Sequential<Double>(Conv2d(2, 3, kernel: 3, padding: 1, generator: &g), Sigmoid(),
                                       AvgPool2d(kernel: 3, stride: 2, padding: 1),
                                       Conv2d(3, 4, kernel: 1, bias: false, generator: &g), GELU(), GlobalAvgPool(),
                                       Linear(4, 3, generator: &g))
        try Self.expectProductMatchesGradientDifferences(Self.objective(model, Self.dataset(sampleShape: [2, 6, 6], count: 10)))
    }

    /// Residual blocks: identity shortcut with a post activation, projection shortcut, none.
    @Test func residualBlocks() throws {
        var g = SeededGenerator(seed: 8)
        let identity = Residual<Double>(body: Sequential(Conv2d(3, 3, kernel: 3, padding: 1, generator: &g), BatchNorm(3), Tanh(),
                                                         Conv2d(3, 3, kernel: 3, padding: 1, generator: &g)),
                                        post: Tanh())
        let projection = Residual<Double>(body: Sequential(Conv2d(3, 4, kernel: 3, stride: 2, padding: 1, generator: &g), Tanh()),
                                          shortcut: Sequential(Conv2d(3, 4, kernel: 1, stride: 2, bias: false, generator: &g),
                                                               BatchNorm(4)))
        let plain = Residual<Double>(body: Sequential(Conv2d(4, 4, kernel: 3, padding: 1, generator: &g), Sigmoid()),
                                     hasShortcut: false)
        let model = Sequential<Double>(Conv2d(2, 3, kernel: 3, padding: 1, generator: &g), identity, projection, plain,
                                       GlobalAvgPool(), Linear(4, 3, generator: &g))
        try Self.expectProductMatchesGradientDifferences(Self.objective(model, Self.dataset(sampleShape: [2, 6, 6], count: 10)))
    }

    @Test func denseConcat() throws {
        var g = SeededGenerator(seed: 9)
        let model = Sequential<Double>(Conv2d(2, 3, kernel: 3, padding: 1, generator: &g),
                                       DenseConcat(body: Sequential(BatchNorm(3), Tanh(), Conv2d(3, 2, kernel: 3, padding: 1, generator: &g))),
                                       DenseConcat(body: Sequential(BatchNorm(5), GELU(), Conv2d(5, 2, kernel: 1, generator: &g))),
                                       GlobalAvgPool(), Linear(7, 3, generator: &g))
        try Self.expectProductMatchesGradientDifferences(Self.objective(model, Self.dataset(sampleShape: [2, 5, 5], count: 10)))
    }

    // MARK: Transformer layers

    /// `count` token sequences [T] of ids in 0..<vocabulary, labelled with one of `classes`.
    static func tokenDataset(length: Int, vocabulary: Int, count: Int, classes: Int = 3, seed: UInt64 = 12) -> DatasetPair {
        var g = SeededGenerator(seed: seed)
        let ids = (0..<(count * length)).map { _ in Float(g.nextInt(below: vocabulary)) }
        let set = Dataset(name: "tokens", inputs: Tensor(shape: [count, length], scalars: ids),
                          targets: .classes((0..<count).map { _ in Int32(g.nextInt(below: classes)) }, count: classes))
        return DatasetPair(train: set, test: set)
    }

    /// Token and position embeddings, layer norm (γ, β moved off 1, 0), the GELU MLP over
    /// sequences and a linear layer over [B, T, E], pooled to class logits.
    @Test func embeddingsLayerNormAndFeedForward() throws {
        var g = SeededGenerator(seed: 10)
        let norm = LayerNorm<Double>(6)
        norm.weight.value = .randomNormal(shape: [6], mean: 1, std: 0.3, generator: &g)
        norm.bias.value = .randomNormal(shape: [6], std: 0.3, generator: &g)
        let model = Sequential<Double>(Embedding(11, 6, generator: &g), PositionEmbedding(context: 5, features: 6, generator: &g),
                                       norm, FeedForward(features: 6, hidden: 12, generator: &g), Linear(6, 4, generator: &g),
                                       SequenceMeanPool(), Linear(4, 3, generator: &g))
        try Self.expectProductMatchesGradientDifferences(
            Self.objective(model, Self.tokenDataset(length: 5, vocabulary: 11, count: 8)))
    }

    @Test func patchEmbedding() throws {
        var g = SeededGenerator(seed: 11)
        let model = Sequential<Double>(PatchEmbedding(channels: 2, features: 5, patch: 2, generator: &g),
                                       PositionEmbedding(context: 6, features: 5, generator: &g), LayerNorm(5), GELU(),
                                       SequenceMeanPool(), Linear(5, 3, generator: &g))
        try Self.expectProductMatchesGradientDifferences(Self.objective(model, Self.dataset(sampleShape: [2, 4, 6], count: 8)))
    }

    /// Transformer blocks, causal and bidirectional, between embeddings and a pooled head: the
    /// attention's and layer norms' second-order terms in a whole Hessian-vector product.
    @Test(arguments: [AttentionMask.causal, .bidirectional]) func transformerBlock(mask: AttentionMask) throws {
        var g = SeededGenerator(seed: 13)
        let block = TransformerBlock<Double>(features: 4, heads: 2, mask: mask, generator: &g)
        for (_, p) in block.namedParameters() where p.shape.count == 1 {
            p.value = .randomNormal(shape: p.shape, mean: p.role == .normWeight ? 1 : 0, std: 0.3, generator: &g)
        }
        let model = Sequential<Double>(Embedding(7, 4, generator: &g), PositionEmbedding(context: 5, features: 4, generator: &g),
                                       block, LayerNorm(4), SequenceMeanPool(), Linear(4, 3, generator: &g))
        // Sequences as long as the context, and shorter (the position embedding's first 3 rows).
        for length in [5, 3] {
            try Self.expectProductMatchesGradientDifferences(
                Self.objective(model, Self.tokenDataset(length: length, vocabulary: 7, count: 8)))
        }
    }

    // MARK: The zoo

    static let zoo: [ModelSpec] = [
        ModelSpec(architecture: "linear", inputShape: [4], outputs: 3, seed: 1),
        ModelSpec(architecture: "mlp", hiddenSizes: [6, 5], activation: "tanh", inputShape: [4], outputs: 3, seed: 2),
        ModelSpec(architecture: "cnn", width: 0.25, inputShape: [2, 8, 8], outputs: 3, seed: 3),
        ModelSpec(architecture: "vgg9", width: 0.125, inputShape: [3, 8, 8], outputs: 3, seed: 4),
        ModelSpec(architecture: "resnet20", width: 0.25, inputShape: [3, 8, 8], outputs: 3, seed: 5),
        ModelSpec(architecture: "resnet20-noshort", width: 0.25, inputShape: [3, 8, 8], outputs: 3, seed: 6),
        ModelSpec(architecture: "densenet", width: 0.25, inputShape: [3, 8, 8], outputs: 3, seed: 7),
    ]

    /// Every zoo architecture, small: H·v against gradient differences. The networks with ReLU
    /// take the smaller step (see the suite's comment: kinks).
    @Test(arguments: zoo) func zooModel(_ spec: ModelSpec) throws {
        let model: Module<Double> = try spec.build()
        let data = Self.dataset(sampleShape: spec.inputShape, count: 8, seed: spec.seed + 40)
        let smooth = spec.architecture == "linear" || spec.activation == "tanh"
        try Self.expectProductMatchesGradientDifferences(Self.objective(model, data, batchSize: 3), seed: spec.seed + 60,
                                                         relativeStep: smooth ? 1e-5 : 1e-7)
    }

    // MARK: Dense Hessians

    /// The Hessian of a 2-3-2 tanh MLP (17 parameters) built from products equals the
    /// finite-difference Hessian and is symmetric.
    @Test func denseHessianOfTinyMLP() throws {
        let model: Module<Double> = try ModelSpec(architecture: "mlp", hiddenSizes: [3], activation: "tanh",
                                                  inputShape: [2], outputs: 2, seed: 12).build()
        let objective = Self.objective(model, Self.dataset(sampleShape: [2], count: 9, classes: 2), batchSize: 4)
        let op = HessianOperator(objective: objective)
        #expect(op.dimension == 17)
        let columns = try Self.denseHessian(op)   // columns[j] = H eⱼ
        let largest = columns.joined().reduce(0) { max($0, abs($1)) }
        var asymmetry = 0.0
        for i in 0..<17 { for j in 0..<17 { asymmetry = max(asymmetry, abs(columns[j][i] - columns[i][j])) } }
        #expect(asymmetry <= 1e-10 * largest, "asymmetry \(asymmetry), largest entry \(largest)")
        var diff = 0.0, total = 0.0
        for j in 0..<17 {
            var e = [Double](repeating: 0, count: 17)
            e[j] = 1
            let numeric = try Self.gradientDifference(objective, e, step: 1e-5)
            for i in 0..<17 { diff += (numeric[i] - columns[j][i]) * (numeric[i] - columns[j][i]); total += columns[j][i] * columns[j][i] }
        }
        #expect((diff / total).squareRoot() < 1e-6, "relative error against the finite-difference Hessian \((diff / total).squareRoot())")
        _ = try DenseSymmetricMatrix(rows: columns, tolerance: 1e-10)
    }

    /// Multinomial logistic regression (the zoo's `linear` model with softmax cross-entropy):
    /// with x̃ = (x, 1) and p = softmax(Wx + b), H = (1/n) Σₙ (diag(pₙ) − pₙpₙᵀ) ⊗ x̃ₙx̃ₙᵀ exactly.
    @Test func logisticRegressionClosedForm() throws {
        let d = 3, k = 3, n = 10
        let model: Module<Double> = try ModelSpec(architecture: "linear", inputShape: [d], outputs: k, seed: 13).build()
        let data = Self.dataset(sampleShape: [d], count: n, classes: k, seed: 14)
        let objective = Self.objective(model, data, batchSize: 4)
        let theta = objective.parameters()   // fc.weight [k, d] row-major, then fc.bias [k]
        #expect(theta.count == k * d + k)
        func index(_ c: Int, _ f: Int) -> Int { f < d ? c * d + f : k * d + c }
        var expected = [[Double]](repeating: [Double](repeating: 0, count: theta.count), count: theta.count)
        let x = Tensor<Double>(converting: data.train.inputs)
        for s in 0..<n {
            let xt = (0..<d).map { x[flat: s * d + $0] } + [1]
            let z = (0..<k).map { c in (0..<d).reduce(theta[k * d + c]) { $0 + theta[c * d + $1] * xt[$1] } }
            let m = z.max()!
            let e = z.map { exp($0 - m) }
            let p = e.map { $0 / e.reduce(0, +) }
            for c in 0..<k { for l in 0..<k { for f in 0...d { for h in 0...d {
                expected[index(c, f)][index(l, h)] += ((c == l ? p[c] : 0) - p[c] * p[l]) * xt[f] * xt[h] / Double(n)
            } } } }
        }
        let columns = try Self.denseHessian(HessianOperator(objective: objective))
        let largest = expected.joined().reduce(0) { max($0, abs($1)) }
        var worst = 0.0
        for i in 0..<theta.count { for j in 0..<theta.count { worst = max(worst, abs(columns[j][i] - expected[i][j])) } }
        #expect(worst <= 1e-12 * largest, "largest deviation from the closed form \(worst) (largest entry \(largest))")
    }

    // MARK: Batches and selections

    /// Batches that do not divide the set (23 = 5+5+5+5+3) give the product of one full batch:
    /// each batch is weighted by its share of the set.
    @Test func batchWeightingMatchesOneFullBatch() throws {
        func build() -> Module<Double> {
            var g = SeededGenerator(seed: 15)
            return Sequential<Double>(Conv2d(2, 3, kernel: 3, padding: 1, generator: &g), BatchNorm(3), Tanh(),
                                      GlobalAvgPool(), Linear(3, 3, generator: &g))
        }
        let data = Self.dataset(sampleShape: [2, 4, 4], count: 23)
        let batched = Self.objective(build(), data, batchSize: 5)
        let whole = Self.objective(build(), data, batchSize: 23)
        #expect(batched.parameters() == whole.parameters())
        let v = Self.randomDirection(batched, seed: 16)
        let a = try batched.hessianVectorProduct(.train, v), b = try whole.hessianVectorProduct(.train, v)
        #expect(abs(a.value.loss - b.value.loss) <= 1e-13 * abs(b.value.loss))
        #expect(Self.norm(zip(a.gradient, b.gradient).map { $0 - $1 }) <= 1e-13 * Self.norm(b.gradient))
        #expect(Self.norm(zip(a.product, b.product).map { $0 - $1 }) <= 1e-13 * Self.norm(b.product))
        #expect(Self.norm(b.product) > 0)
    }

    /// The product alone (the curvature algorithms' call, which skips the weight-gradient
    /// products) is the full call's product, bit for bit, in Float as in Double; the model's
    /// gradient accumulation is back on afterwards.
    @Test func productWithoutGradientIsTheSame() throws {
        func check<S: TensorScalar>(_: S.Type) throws {
            var g = SeededGenerator(seed: 18)
            let model = Sequential<S>(Conv2d(2, 4, kernel: 3, padding: 1, generator: &g), BatchNorm(4), ReLU(),
                                      Conv2d(4, 4, kernel: 3, stride: 2, padding: 1, generator: &g), Tanh(),
                                      Flatten(), Linear(4 * 4 * 4, 3, generator: &g))
            let objective = ModelObjective(model: model, data: Self.dataset(sampleShape: [2, 8, 8], count: 11), batchSize: 4)
            let v = Self.randomDirection(objective, seed: 19)
            let full = try objective.hessianVectorProduct(.train, v)
            let alone = try objective.hessianVectorProduct(.train, applyingTo: v)
            #expect(alone.product == full.product)
            #expect(alone.value.loss == full.value.loss)
            #expect(model.computesParameterGradients)
            #expect(try objective.hessianVectorProduct(.train, v).gradient == full.gradient)
        }
        try check(Double.self)
        try check(Float.self)
    }

    /// `.leftOut` (matrices) covers the tensors of 2 or more dimensions: its products are the full
    /// products restricted to them, with v zero on biases and batch-norm parameters.
    @Test func matricesOnlySelection() throws {
        var g = SeededGenerator(seed: 17)
        let model = Sequential<Double>(Conv2d(2, 3, kernel: 3, padding: 1, generator: &g), BatchNorm(3), Tanh(),
                                       Flatten(), Linear(3 * 16, 3, generator: &g))
        let objective = Self.objective(model, Self.dataset(sampleShape: [2, 4, 4], count: 7))
        let all = HessianOperator(objective: objective, oneDimensional: .included)
        let matrices = HessianOperator(objective: objective, oneDimensional: .leftOut)
        #expect(all.dimension == model.trainableScalarCount)
        #expect(matrices.dimension == 3 * 2 * 9 + 3 * 48)
        #expect(matrices.selectedGroups.map(\.name) == ["0.weight", "4.weight"])
        var gen = SeededGenerator(seed: 18)
        let u = (0..<matrices.dimension).map { _ in gen.nextNormal() }
        let full = matrices.expand(u)
        for group in objective.groups where group.shape.count < 2 { #expect(group.range.allSatisfy { full[$0] == 0 }) }
        #expect(try matrices.apply(u) == matrices.restrict(try objective.hessianVectorProduct(.train, full).product))
        #expect(throws: LandscapeError.self) { try matrices.apply([1, 2]) }
    }

    // MARK: Timing (opt-in)

    /// One HVP against one gradient for ResNet-20 (width 1) on 1,000 random 3x32x32 images in
    /// Float. Runs only with TERRAIN_HVP_TIMING=1 (release build); prints the times.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["TERRAIN_HVP_TIMING"] == "1"))
    func timingResNet20() throws {
        let spec = ModelSpec(architecture: "resnet20", inputShape: [3, 32, 32], outputs: 10, seed: 1)
        let model: Module<Float> = try spec.build()
        var g = SeededGenerator(seed: 2)
        let set = Dataset(name: "random", inputs: .randomNormal(shape: [1000, 3, 32, 32], generator: &g),
                          targets: .classes((0..<1000).map { Int32($0 % 10) }, count: 10))
        let objective = ModelObjective(model: model, data: DatasetPair(train: set, test: set), batchSize: 250)
        let v = Self.randomDirection(objective, seed: 3)
        let clock = ContinuousClock()
        let gradientTime = try clock.measure { _ = try objective.gradient(.train) }
        let productTime = try clock.measure { _ = try objective.hessianVectorProduct(.train, v) }
        print("resnet20 on 1000 images, Float: gradient \(gradientTime), Hessian-vector product \(productTime)")
    }
}
