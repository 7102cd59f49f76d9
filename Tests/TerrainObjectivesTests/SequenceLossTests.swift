import Foundation
import Testing
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainTraining
import TerrainLandscape
import TerrainObjectives
import TerrainTestSupport

/// A bigram language model, for the next-token loss's tests until the zoo has a transformer:
/// logits[b, t, :] = W[x[b, t], :] + c, from token ids x [B, T] to logits [B, T, V]. Linear in
/// its parameters, so R{logits} = Ẇ[x] + ċ and R{∂L/∂W} scatters R{∂L/∂logits} back to the rows.
final class BigramTable<Scalar: TensorScalar>: Module<Scalar> {
    let weight: Parameter<Scalar>
    let bias: Parameter<Scalar>
    private var lastIDs: [Int] = []
    private var lastShape: [Int] = []

    init(vocabulary: Int, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        weight = Parameter("weight", role: .weight,
                           value: Tensor<Scalar>.randomNormal(shape: [vocabulary, vocabulary], std: 0.7, generator: &generator))
        bias = Parameter("bias", role: .bias, value: Tensor<Scalar>.randomNormal(shape: [vocabulary], std: 0.3, generator: &generator))
    }

    override var localParameters: [Parameter<Scalar>] { [weight, bias] }

    var vocabulary: Int { bias.shape[0] }

    /// Rows of `table` picked by the ids, plus `row` (if any) added to each.
    private func gather(_ table: Tensor<Scalar>?, plus row: Tensor<Scalar>?) -> Tensor<Scalar>? {
        guard table != nil || row != nil else { return nil }
        let v = vocabulary
        var out = Tensor<Scalar>(zeros: lastShape + [v])
        let o = out.mutablePointer()
        for (position, id) in lastIDs.enumerated() {
            for j in 0..<v {
                o[position * v + j] = (table.map { $0.pointer[id * v + j] } ?? 0) + (row.map { $0.pointer[j] } ?? 0)
            }
        }
        return out
    }

    /// ∂/∂W and ∂/∂c of ⟨g, logits⟩: g's rows added into the ids' rows, and summed.
    private func scatter(_ g: Tensor<Scalar>) -> (weight: Tensor<Scalar>, bias: Tensor<Scalar>) {
        let v = vocabulary
        var w = Tensor<Scalar>(zeros: [v, v]), b = Tensor<Scalar>(zeros: [v])
        let wp = w.mutablePointer(), bp = b.mutablePointer(), gp = g.pointer
        for (position, id) in lastIDs.enumerated() {
            for j in 0..<v {
                wp[id * v + j] += gp[position * v + j]
                bp[j] += gp[position * v + j]
            }
        }
        return (w, b)
    }

    override func forward(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        lastShape = input.shape
        lastIDs = input.scalars.map { Int(Double($0)) }
        return gather(weight.value, plus: bias.value)!
    }

    override func backward(_ gradient: Tensor<Scalar>) -> Tensor<Scalar> {
        let (w, b) = scatter(gradient)
        if computesParameterGradients {
            weight.accumulateGradient(w)
            bias.accumulateGradient(b)
        }
        return Tensor<Scalar>(zeros: lastShape)
    }

    override func forwardTangent(_ x: Tensor<Scalar>, _ xDot: Tensor<Scalar>?) -> (y: Tensor<Scalar>, yDot: Tensor<Scalar>?) {
        let y = forward(x)
        return (y, gather(weight.tangent, plus: bias.tangent))
    }

    override func backwardTangent(_ g: Tensor<Scalar>, _ gDot: Tensor<Scalar>?) -> (gx: Tensor<Scalar>, gxDot: Tensor<Scalar>?) {
        let gx = backward(g)
        if let gDot {
            let (w, b) = scatter(gDot)
            weight.accumulateCurvature(w)
            bias.accumulateCurvature(b)
        }
        return (gx, nil)
    }
}

@Suite struct SequenceLossTests {
    /// Token windows of a seeded stream: N sequences of T tokens below V.
    static func tokenData(count: Int, length: Int, vocabulary: Int, seed: UInt64) -> Dataset {
        var generator = SplitMix64(seed: seed)
        let stream = (0..<(count * (length + 1))).map { _ in Int(generator.next() % UInt64(vocabulary)) }
        var inputs: [Float] = [], targets: [Int32] = []
        for r in 0..<count {
            let window = stream[(r * (length + 1))..<((r + 1) * (length + 1))].map { $0 }
            inputs += window.dropLast().map(Float.init)
            targets += window.dropFirst().map(Int32.init)
        }
        return Dataset(name: "tokens", inputs: Tensor(shape: [count, length], scalars: inputs),
                       targets: .tokens(targets, length: length, vocabulary: vocabulary))
    }

    @Test func nextTokenLossAveragesEveryPosition() {
        let data = Self.tokenData(count: 3, length: 4, vocabulary: 5, seed: 1)
        let model = BigramTable<Double>(vocabulary: 5, seed: 2)
        let logits = model.forward(Tensor<Double>(converting: data.inputs))
        #expect(logits.shape == [3, 4, 5])
        let result = TaskLoss.compute(output: logits, targets: data.targets)
        // The same as cross-entropy over the 12 rows of logits.
        let rows = Loss.crossEntropy(logits: logits.reshaped([12, 5]), labels: data.targets.tokenIDs!)
        #expect(abs(result.loss - rows.loss) < 1e-15)
        #expect(result.gradient.shape == [3, 4, 5])
        #expect(result.gradient.scalars == rows.gradient.scalars)
        #expect(result.correct == rows.correct)
        let evaluation = Evaluation.evaluate(model, on: data, batchSize: 2)
        #expect(abs(evaluation.loss - rows.loss) < 1e-12)
        #expect(evaluation.accuracy == 100 * Double(rows.correct) / 12)
        #expect(evaluation.perplexity.map { abs($0 - Foundation.exp(evaluation.loss)) < 1e-12 } == true)
    }

    /// Loss, gradient and Hessian-vector product of the bigram model through `ModelObjective`
    /// against PyTorch's `F.cross_entropy` over [B·T, V] and its double backward, in float64.
    @Test(.enabled(if: Python.torchChecksRun))
    func matchesPyTorch() throws {
        let (count, length, vocabulary) = (7, 6, 5)
        let data = Self.tokenData(count: count, length: length, vocabulary: vocabulary, seed: 11)
        let model = BigramTable<Double>(vocabulary: vocabulary, seed: 12)
        let objective = ModelObjective(model: model, data: DatasetPair(train: data, test: data), batchSize: 3)
        let theta = objective.parameters()
        var generator = SplitMix64(seed: 13)
        let v = theta.map { _ in Double(generator.next() % 2001) / 1000 - 1 }
        let (value, gradient, product) = try objective.hessianVectorProduct(.train, v)
        let evaluated = try objective.evaluate(.train)
        func literal(_ xs: [Double]) -> String { "[" + xs.map { "\($0)" }.joined(separator: ",") + "]" }
        let script = """
            import json, torch
            import torch.nn.functional as F
            V, T = \(vocabulary), \(length)
            x = torch.tensor(\(literal(data.inputs.scalars.map(Double.init))), dtype=torch.long).reshape(-1, T)
            y = torch.tensor(\(literal(data.targets.tokenIDs!.map(Double.init))), dtype=torch.long).reshape(-1, T)
            theta = torch.tensor(\(literal(theta)), dtype=torch.float64, requires_grad=True)
            v = torch.tensor(\(literal(v)), dtype=torch.float64)
            W, c = theta[:V * V].reshape(V, V), theta[V * V:]
            logits = W[x] + c
            loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
            g, = torch.autograd.grad(loss, theta, create_graph=True)
            hv, = torch.autograd.grad(g, theta, v)
            acc = (logits.argmax(-1) == y).double().mean().item() * 100
            print(json.dumps({"loss": loss.item(), "grad": g.tolist(), "hvp": hv.tolist(), "acc": acc}))
            """
        let output = try Python.run(script, interpreter: Python.torchInterpreter)
        let torch = try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [String: Any]
        let loss = torch["loss"] as! Double, accuracy = torch["acc"] as! Double
        let torchGradient = torch["grad"] as! [Double], torchProduct = torch["hvp"] as! [Double]
        #expect(abs(value.loss - loss) <= 1e-12 * abs(loss))
        #expect(abs(evaluated.loss - loss) <= 1e-12 * abs(loss))
        #expect(abs((evaluated.accuracy ?? -1) - accuracy) < 1e-9)
        #expect(abs((value.accuracy ?? -1) - accuracy) < 1e-9)
        func largestDifference(_ a: [Double], _ b: [Double]) -> Double {
            zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
        }
        let gradientScale = torchGradient.map(abs).max()!, productScale = torchProduct.map(abs).max()!
        #expect(gradient.count == torchGradient.count && product.count == torchProduct.count)
        #expect(largestDifference(gradient, torchGradient) <= 1e-12 * gradientScale)
        #expect(largestDifference(product, torchProduct) <= 1e-12 * productScale)
    }

    /// The Float path (the program's) agrees with the Double one to Float rounding.
    @Test func floatAgreesWithDouble() throws {
        let data = Self.tokenData(count: 9, length: 5, vocabulary: 6, seed: 21)
        let pair = DatasetPair(train: data, test: data)
        let double = ModelObjective(model: BigramTable<Double>(vocabulary: 6, seed: 22), data: pair)
        let float = ModelObjective(model: BigramTable<Float>(vocabulary: 6, seed: 22), data: pair)
        float.setParameters(double.parameters())
        let v = double.parameters().map { $0 * 0.5 + 0.1 }
        let (d, dg, dh) = try double.hessianVectorProduct(.train, v)
        let (f, fg, fh) = try float.hessianVectorProduct(.train, v)
        #expect(abs(d.loss - f.loss) < 1e-5 * d.loss)
        #expect(d.accuracy == f.accuracy)
        #expect(zip(dg, fg).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(zip(dh, fh).allSatisfy { abs($0 - $1) < 1e-5 })
    }
}
