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
    /// bf16 keeps 8 significant bits, so rounding a value moves it by at most u = 2⁻⁸ of itself.
    /// Each product layer rounds its two operands (weights, activations) and its output: three
    /// roundings per layer, 3L along the network, each sum of products accumulated in Float
    /// (2⁻²⁴ per addition, negligible beside u). The worst case, every rounding error of the same
    /// sign and no cancellation, adds up to 3uL relative (≈ 0.25 for a ResNet-20: far too loose to
    /// catch a wrong kernel). Round-to-nearest errors are independent and of mean zero, so they add
    /// in quadrature: the probabilistic bound of Higham and Mary (SIAM J. Sci. Comput. 41, 2019)
    /// replaces 3uL by λ·√(3L)·u, exceeded with probability at most 2·3L·exp(−λ²/2); λ = 5 makes
    /// that below 0.1% for these networks (3L ≤ 69). The loss then moves by at most that relative
    /// amount (its sensitivity to relative changes of the logits is of order one for a softmax
    /// cross-entropy near ln 10); max(1, loss) keeps the bound from vanishing at small losses.
    /// That allows 8% (cnn, L = 6) and 16% (ResNet-20, L = 23) of the loss; measured on AMX:
    /// 3.4e-5 and 1.6e-4. A wrong layout or type gives errors of the loss's own size.
    static func tolerance(products: Int, loss: Double) -> Double {
        5 * (3 * Double(products)).squareRoot() * 0x1p-8 * max(1, loss)
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
