import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainLandscape
import TerrainObjectives

@Suite("Objectives")
struct ObjectiveTests {
    /// A model's gradient over the whole set (batches of unequal size, evaluation-mode BN) equals
    /// central finite differences of its loss, in Double; buffers get zero.
    @Test func modelGradientMatchesFiniteDifferences() throws {
        var options = DatasetOptions()
        options.syntheticCount = 150
        let data = try DatasetCatalog.load("blobs", options: options)
        var g = SeededGenerator(seed: 5)
        let model = Sequential<Double>(Linear(2, 5, generator: &g), BatchNorm(5), Tanh(), Linear(5, 3, generator: &g))
        _ = model.forward(Tensor<Double>(converting: data.train.batch(0..<50).inputs))   // move the running statistics
        let objective = ModelObjective(model: model, data: data, batchSize: 64)
        let theta = objective.parameters()
        let (value, gradient) = try objective.gradient(.train)
        #expect(value == (try objective.evaluate(.train)))
        #expect(objective.parameters() == theta)
        var worst = 0.0
        for group in objective.groups {
            for i in group.range {
                if !group.isTrainable { #expect(gradient[i] == 0); continue }
                let h = 1e-6
                var plus = theta, minus = theta
                plus[i] += h; minus[i] -= h
                objective.setParameters(plus)
                let lp = try objective.evaluate(.train).loss
                objective.setParameters(minus)
                let lm = try objective.evaluate(.train).loss
                let numeric = (lp - lm) / (2 * h)
                worst = max(worst, abs(numeric - gradient[i]) / max(1e-3, abs(numeric) + abs(gradient[i])))
            }
        }
        objective.setParameters(theta)
        #expect(worst < 1e-6, "worst relative error \(worst)")
    }

    @Test func closureGradientIsCheckedAndOptional() throws {
        let groups: [ParameterGroup] = .tiling([("w", [2], .weight)])
        let bowl = ClosureObjective(groups: groups, initial: [1, 2], gradient: { w, _ in [2 * w[0], 6 * w[1]] }) { w, _ in
            ObjectiveValue(loss: w[0] * w[0] + 3 * w[1] * w[1])
        }
        let (value, gradient) = try bowl.gradient(.train)
        #expect(value.loss == 13 && gradient == [2, 12])
        let plain = ClosureObjective(groups: groups, initial: [1, 2]) { w, _ in ObjectiveValue(loss: w[0]) }
        #expect(throws: LandscapeError.self) { try plain.gradient(.train) }
        let wrong = ClosureObjective(groups: groups, initial: [1, 2], gradient: { _, _ in [1] }) { w, _ in ObjectiveValue(loss: w[0]) }
        #expect(throws: LandscapeError.self) { try wrong.gradient(.train) }
    }

    /// A linear model under mean squared error is a quadratic ½θᵀAθ + bᵀθ + c in θ = (w, b):
    /// its Hessian is exactly A = 2·mean([[x², x], [x, 1]]), whatever θ and v.
    @Test func quadraticObjectiveHasItsExactHessian() throws {
        let data = SyntheticData.parabola(count: 37, seed: 3)
        var g = SeededGenerator(seed: 8)
        let objective = ModelObjective(model: Sequential<Double>(Linear(1, 1, generator: &g)),
                                       data: DatasetPair(train: data, test: data), batchSize: 10)
        let x = data.inputs.scalars.map(Double.init)
        let n = Double(x.count)
        let a = [[2 * x.map { $0 * $0 }.reduce(0, +) / n, 2 * x.reduce(0, +) / n],
                 [2 * x.reduce(0, +) / n, 2.0]]
        for v in [[1.0, 0.0], [0.0, 1.0], [0.3, -2.5]] {
            let product = try objective.hessianVectorProduct(.train, v).product
            for r in 0..<2 {
                let expected = a[r][0] * v[0] + a[r][1] * v[1]
                #expect(abs(product[r] - expected) <= 1e-12 * max(1, abs(expected)), "row \(r) for v = \(v)")
            }
        }
    }
}
