import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainModels
import TerrainTraining
import TerrainObjectives
import TerrainCompiled

/// The compiled evaluation in bf16 (`InferencePrecision.bf16`) against the same program in Float.
/// Skipped, saying why, where this CPU (or `TERRAIN_DISABLE_BF16`) rules bf16 out.
@Suite("bf16 evaluation")
struct BFloat16EvaluationTests {
    /// Nil where bf16 runs here; otherwise why not.
    static let unavailable = ModelObjective<Float>.unavailability(of: .bf16)
    static let skipReason: Comment = "bf16 is unavailable here: \(unavailable ?? "")"

    /// The largest loss difference bf16 may make on a network with `products` convolutions and
    /// inner products in series, whose loss is about `loss`.
    ///
    /// bf16 keeps 8 significant bits, so rounding an operand moves it by at most u = 2⁻⁸ of
    /// itself. A product of a rounded weight and a rounded activation is then off by at most
    /// 2u + u² relative, and a Float sum of such products by at most (2u + u²)·Σ|terms| (Float's
    /// own rounding, 2⁻²⁴ per addition, is negligible beside it); rounding the layer's output to
    /// bf16 adds u. Each layer so adds at most about 3u relative to its absolute sums, and L
    /// layers in series about 3uL to the logits z. Cross-entropy's gradient in z is
    /// softmax(z) − onehot, whose absolute values sum to at most 2, so the loss moves by at most
    /// 2·max|Δz| ≈ 2·3uL·max|z|. The logits of these small random networks are of the order of
    /// the loss itself (a few units), so the bound taken is 6uL·max(1, loss).
    static func tolerance(products: Int, loss: Double) -> Double {
        6 * 0x1p-8 * Double(products) * max(1, loss)
    }

    /// The number of convolutions and inner products of the compiled graph.
    static func products(of compiled: CompiledEvaluation<Float>) -> Int {
        compiled.network.graph.steps.filter { $0.weightSlot != nil }.count
    }

    /// bf16 kernels run (oneDNN names them, and the result is not Float's bits), and the loss
    /// is Float's within the tolerance above, at the centre and at points of a random plane.
    @Test(.enabled(if: unavailable == nil, skipReason), arguments: [("cnn", [1, 12, 12]), ("resnet20", [3, 16, 16])])
    func agreesWithFloatWithinBFloat16Rounding(_ architecture: String, _ shape: [Int]) throws {
        let (model, data, _) = try CompiledEvaluationTests.subject(architecture, inputShape: shape, count: 40)
        let single = try #require(CompiledEvaluation(model: model, sampleShape: shape))
        let reduced = try #require(CompiledEvaluation(model: model, sampleShape: shape, precision: .bf16))
        #expect(reduced.kernels.contains { $0.contains("bf16") }, "kernels: \(reduced.kernels)")
        #expect(!single.kernels.contains { $0.contains("bf16") }, "kernels: \(single.kernels)")
        let full = try #require(single.evaluate(on: data.train))
        let half = try #require(reduced.evaluate(on: data.train))
        let bound = Self.tolerance(products: Self.products(of: reduced), loss: full.loss)
        #expect(abs(half.loss - full.loss) <= bound, "\(architecture): bf16 \(half.loss) vs fp32 \(full.loss), bound \(bound)")
        #expect(half.loss != full.loss, "\(architecture): bf16 gave fp32's bits, so no bf16 kernel ran")
    }

    /// The same bits with one thread or two, through the objective a surface uses.
    @Test(.enabled(if: unavailable == nil, skipReason))
    func threadCountDoesNotChangeTheBits() throws {
        let (model, data, _) = try CompiledEvaluationTests.subject("resnet20", inputShape: [3, 16, 16], count: 40)
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        var losses: [UInt64] = []
        for threads in [1, 2] {
            Parallel.threadCount = threads
            let objective = ModelObjective(model: model, data: data, batchSize: 16)
            objective.precision = .bf16
            #expect(objective.evaluatesCompiled)
            losses.append(try objective.evaluate(.train).loss.bitPattern)
        }
        #expect(losses[0] == losses[1])
    }

    /// An MLP on a plane: the first layer stays Float (Y₀ + αYx + βYy), the rest is bf16; the
    /// plane's points agree with the whole network in Float within the bound.
    @Test(.enabled(if: unavailable == nil, skipReason))
    func thePlaneTrickStaysWithinTheBound() throws {
        let (model, data, _) = try CompiledEvaluationTests.subject("mlp", inputShape: [1, 8, 8], hidden: [32, 24], count: 45)
        let single = try #require(CompiledEvaluation(model: model, sampleShape: [1, 8, 8]))
        let reduced = try #require(CompiledEvaluation(model: model, sampleShape: [1, 8, 8], precision: .bf16))
        let layer = try #require(reduced.planeLayer)
        let plane = CompiledEvaluationTests.randomPlane(through: layer)
        for (alpha, beta) in [(0.7, -0.4), (-1.0, 1.0)] {
            CompiledEvaluationTests.move(layer, to: plane, alpha: alpha, beta: beta)
            let full = try #require(single.evaluate(on: data.train))
            let half = try #require(reduced.evaluate(on: data.train, plane: plane, alpha: alpha, beta: beta))
            let bound = Self.tolerance(products: Self.products(of: reduced), loss: full.loss)
            #expect(abs(half.loss - full.loss) <= bound, "(\(alpha), \(beta)): bf16 \(half.loss) vs fp32 \(full.loss)")
            #expect(half.loss != full.loss)
        }
    }

    /// A point with a NaN weight still runs layer by layer (in Float) and gives NaN, as in fp32.
    @Test(.enabled(if: unavailable == nil, skipReason))
    func nanWeightsKeepTheLayers() throws {
        let (model, data, _) = try CompiledEvaluationTests.subject("cnn", inputShape: [1, 12, 12], count: 20)
        let objective = ModelObjective(model: model, data: data, batchSize: 16)
        objective.precision = .bf16
        var theta = objective.parameters()
        theta[0] = .nan
        objective.setParameters(theta)
        #expect(try objective.evaluate(.train).loss.isNaN)
    }
}
