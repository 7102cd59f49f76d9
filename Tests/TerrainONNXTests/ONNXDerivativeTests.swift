import Foundation
import Testing
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainLandscape
@testable import TerrainONNX
import TerrainObjectives

/// Backward and R-operator passes of imported graphs against finite differences, in Double:
/// every operator of the fixtures (Gemm, MatMul, Conv with groups and dilation, BatchNormalization,
/// the activations, Erf, Softmax, LogSoftmax, pooling, Add/Sub/Mul/Div with broadcasting,
/// Concat, Transpose, Reshape chains) sits on the path from the parameters to the loss.
@Suite("Gradients and Hessian-vector products of ONNX graphs match finite differences")
struct ONNXDerivativeTests {
    /// The fixture's objective on its first 12 samples, in Double.
    static func objective(_ name: String) throws -> ModelObjective<Double> {
        let full = try Fixtures.data(name)
        let part = full.train.subset(0..<12)
        let model = try Fixtures.model(name)
        return ModelObjective(model: model.makeGraph(Double.self) as Module<Double>, data: DatasetPair(train: part, test: part),
                              batchSize: 5)
    }

    static func norm(_ a: [Double]) -> Double { a.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    static func direction(_ objective: some Objective, seed: UInt64) -> [Double] {
        var g = SeededGenerator(seed: seed)
        var v = [Double](repeating: 0, count: objective.groups.scalarCount)
        for group in objective.groups where group.isTrainable {
            for i in group.range { v[i] = g.nextNormal() }
        }
        return v
    }

    @Test(arguments: Fixtures.names) func gradientMatchesLossDifferences(_ name: String) throws {
        let objective = try Self.objective(name)
        let theta = objective.parameters()
        let (value, gradient) = try objective.gradient(.train)
        #expect(abs(value.loss - (try objective.evaluate(.train).loss)) < 1e-12)
        // Directional derivatives along random directions: ⟨∇L, v⟩ against (L(θ+hv) − L(θ−hv))/2h.
        for seed in [UInt64(1), 2, 3] {
            let v = Self.direction(objective, seed: seed)
            let h = 1e-6 * Self.norm(theta) / Self.norm(v)
            objective.setParameters(zip(theta, v).map { $0 + h * $1 })
            let plus = try objective.evaluate(.train).loss
            objective.setParameters(zip(theta, v).map { $0 - h * $1 })
            let minus = try objective.evaluate(.train).loss
            objective.setParameters(theta)
            let numeric = (plus - minus) / (2 * h)
            let analytic = zip(gradient, v).reduce(0) { $0 + $1.0 * $1.1 }
            #expect(abs(numeric - analytic) <= 1e-6 * max(abs(analytic), 1e-8), "\(name): ⟨∇L, v⟩ = \(analytic), differences \(numeric)")
        }
        for group in objective.groups where !group.isTrainable {
            #expect(group.range.allSatisfy { gradient[$0] == 0 }, "\(group.name) is a buffer")
        }
    }

    @Test(arguments: Fixtures.names) func hessianVectorProductMatchesGradientDifferences(_ name: String) throws {
        let objective = try Self.objective(name)
        let theta = objective.parameters()
        let v = Self.direction(objective, seed: 21)
        let (value, gradient, product) = try objective.hessianVectorProduct(.train, v)
        let (plainValue, plainGradient) = try objective.gradient(.train)
        #expect(abs(value.loss - plainValue.loss) <= 1e-13 * abs(plainValue.loss))
        #expect(Self.norm(zip(gradient, plainGradient).map { $0 - $1 }) <= 1e-12 * Self.norm(plainGradient))
        #expect(objective.parameters() == theta)
        let h = 1e-5 * Self.norm(theta) / Self.norm(v)
        objective.setParameters(zip(theta, v).map { $0 + h * $1 })
        let plus = try objective.gradient(.train).gradient
        objective.setParameters(zip(theta, v).map { $0 - h * $1 })
        let minus = try objective.gradient(.train).gradient
        objective.setParameters(theta)
        let numeric = zip(plus, minus).map { ($0 - $1) / (2 * h) }
        let error = Self.norm(zip(product, numeric).map { $0 - $1 }) / Self.norm(product)
        #expect(Self.norm(product) > 0)
        #expect(error < 1e-6, "\(name): relative error of H·v against gradient differences \(error)")
        for group in objective.groups where !group.isTrainable {
            #expect(group.range.allSatisfy { product[$0] == 0 }, "\(group.name) is a buffer")
        }
    }

    /// Module.backward returns ∂L/∂x too: checked against differences in the input.
    @Test(arguments: ["cnn", "mixer"]) func inputGradient(_ name: String) throws {
        let graph: ONNXGraph<Double> = try Fixtures.model(name).makeGraph()
        graph.setTraining(false)
        let x = Tensor<Double>(converting: try Fixtures.data(name).train.inputs.slice(rows: 0..<3))
        var g = SeededGenerator(seed: 5)
        let y = graph.forward(x)
        let r = Tensor<Double>.randomNormal(shape: y.shape, generator: &g)
        graph.zeroGradients()
        let gx = graph.backward(r)
        #expect(gx.shape == x.shape)
        var worst = 0.0
        for i in stride(from: 0, to: x.count, by: max(1, x.count / 40)) {
            var plus = x, minus = x
            plus[flat: i] += 1e-6; minus[flat: i] -= 1e-6
            let numeric = (Backends.current.dot(graph.forward(plus), r) - Backends.current.dot(graph.forward(minus), r)) / 2e-6
            worst = max(worst, abs(numeric - gx[flat: i]) / max(abs(numeric), 1e-3))
        }
        #expect(worst < 1e-6, "\(name): worst relative error of ∂L/∂x \(worst)")
    }
}
