import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainModels
import TerrainLandscape
import TerrainObjectives

/// The sharpness numbers on quadratics L(θ) = ½ Σ aᵢ(θᵢ − mᵢ)², where every one of them has a
/// closed form, and on a tiny Double network whose Hessian can be formed densely.
@Suite("SharpnessTests")
struct SharpnessTests {
    // MARK: Helpers

    /// A 3×4 weight matrix and a 3-vector bias: 15 trainable scalars.
    static let groups: [ParameterGroup] = .tiling([("w", [3, 4], .weight), ("b", [3], .bias)])

    /// Curvatures aᵢ > 0 (distinct), minimum m and a point c away from it (cᵢ − mᵢ ≠ 0).
    static let a: [Double] = (0..<15).map { (i: Int) -> Double in 0.5 + 0.37 * Double((i * 7) % 15) }
    static let m: [Double] = (0..<15).map { (i: Int) -> Double in
        let shift: Double = i % 2 == 0 ? 0.4 : -0.4
        return 0.8 * sin(Double(i) + 1) + shift
    }
    static let c: [Double] = (0..<15).map { (i: Int) -> Double in
        let offset: Double = i % 3 == 0 ? -0.6 : 0.3 + 0.05 * Double(i)
        return m[i] + offset
    }

    static func loss(_ theta: [Double], _ a: [Double]) -> Double {
        var sum = 0.0
        for i in theta.indices {
            let x = theta[i] - m[i]
            sum += 0.5 * a[i] * x * x
        }
        return sum
    }

    /// The quadratic as a `ClosureObjective` with its gradient a ⊙ (θ − m).
    static func closure(_ a: [Double], at theta: [Double]) -> ClosureObjective {
        ClosureObjective(groups: groups, initial: theta, gradient: { t, _ in (0..<t.count).map { a[$0] * (t[$0] - m[$0]) } }) { t, _ in
            ObjectiveValue(loss: loss(t, a))
        }
    }

    /// The same quadratic with exact Hessian-vector products H·v = a ⊙ v, so λmax = max aᵢ.
    final class Quadratic: TwiceDifferentiableObjective {
        let a: [Double]
        var theta: [Double]
        var groups: [ParameterGroup] { SharpnessTests.groups }
        init(_ a: [Double], at theta: [Double]) { self.a = a; self.theta = theta }
        func parameters() -> [Double] { theta }
        func setParameters(_ values: [Double]) { theta = values }
        func evaluate(_ set: EvaluationSet) throws -> ObjectiveValue { ObjectiveValue(loss: SharpnessTests.loss(theta, a)) }
        func gradient(_ set: EvaluationSet) throws -> (value: ObjectiveValue, gradient: [Double]) {
            (try evaluate(set), (0..<theta.count).map { a[$0] * (theta[$0] - SharpnessTests.m[$0]) })
        }
        func hessianVectorProduct(_ set: EvaluationSet, _ v: [Double]) throws
            -> (value: ObjectiveValue, gradient: [Double], product: [Double]) {
            let (value, g) = try gradient(set)
            return (value, g, zip(a, v).map { $0 * $1 })
        }
    }

    static func relative(_ x: Double, _ y: Double) -> Double { abs(x - y) / max(abs(y), 1e-300) }

    /// A 3-4-3 tanh MLP in Double on 12 random samples (31 parameters).
    static func tinyModel() throws -> ModelObjective<Double> {
        let model: Module<Double> = try ModelSpec(architecture: "mlp", hiddenSizes: [4], activation: "tanh",
                                                  inputShape: [3], outputs: 3, seed: 5).build()
        var g = SeededGenerator(seed: 6)
        let inputs = Tensor<Float>.randomNormal(shape: [12, 3], generator: &g)
        let set = Dataset(name: "random", inputs: inputs, targets: .classes((0..<12).map { Int32($0 % 3) }, count: 3))
        return ModelObjective(model: model, data: DatasetPair(train: set, test: set), batchSize: 5)
    }

    // MARK: ε-sharpness

    /// For a convex quadratic the maximum over the box is at the corner δᵢ = sign(cᵢ − mᵢ)·wᵢ,
    /// wᵢ = ε(|cᵢ| + 1), where L = ½ Σ aᵢ(|cᵢ − mᵢ| + wᵢ)²: the ascent reaches it exactly and
    /// the sharpness equals 100·(that − L(c))/(1 + L(c)).
    @Test func epsilonSharpnessReachesTheBoxCorner() throws {
        for epsilon in [1e-3, 5e-2] {
            let objective = Self.closure(Self.a, at: Self.c)
            let result = try Sharpness.epsilonSharpness(of: objective, epsilon: epsilon, steps: 20)
            let w = Self.c.map { epsilon * (abs($0) + 1) }
            let corner = (0..<15).map { Self.c[$0] > Self.m[$0] ? w[$0] : -w[$0] }
            for i in 0..<15 { #expect(Self.relative(result.perturbation[i], corner[i]) <= 1e-12, "δ[\(i)]") }
            let l0 = Self.loss(Self.c, Self.a)
            let maximum = (0..<15).reduce(0.0) { $0 + 0.5 * Self.a[$1] * pow(abs(Self.c[$1] - Self.m[$1]) + w[$1], 2) }
            #expect(Self.relative(result.loss, l0) <= 1e-15)
            #expect(Self.relative(result.maximumLoss, maximum) <= 1e-6)
            let expected = 100 * (maximum - l0) / (1 + l0)
            #expect(Self.relative(result.sharpness, expected) <= 1e-6, "\(result.sharpness) vs \(expected)")
            #expect(result.sharpness > 0)
            #expect(objective.parameters() == Self.c)
        }
    }

    /// Buffers have a zero-width box: the ascent never moves them.
    @Test func epsilonBoxLeavesBuffersAlone() throws {
        let groups: [ParameterGroup] = .tiling([("w", [2, 2], .weight), ("bn.running_mean", [2], .runningMean)])
        let theta = [1.0, -2, 0.5, 3, 7, 9]
        let objective = ClosureObjective(groups: groups, initial: theta, gradient: { t, _ in t.map { 2 * $0 } }) { t, _ in
            ObjectiveValue(loss: t.reduce(0) { $0 + $1 * $1 })
        }
        let result = try Sharpness.epsilonSharpness(of: objective, epsilon: 0.01)
        #expect(result.perturbation[4] == 0 && result.perturbation[5] == 0)
        #expect(Sharpness.boxHalfWidths(theta, groups: groups, epsilon: 0.01) == [0.02, 0.03, 0.015, 0.04, 0, 0])
    }

    // MARK: Loss increase

    /// At the minimum, L(m + r·d) − L(m) = ½ r² dᵀAd exactly for each drawn direction; the
    /// directions are filter-normalized (each row of w has θ's row norm) and zero on the bias.
    @Test func lossIncreaseIsHalfRSquaredDAD() throws {
        let objective = Self.closure(Self.a, at: Self.m)
        let r = 0.7, n = 6
        let result = try Sharpness.lossIncrease(of: objective, radius: r, directions: n, seed: 42)
        let directions = Sharpness.randomDirections(at: Self.m, groups: Self.groups, count: n, seed: 42)
        #expect(result.increases.count == n && result.loss == 0)
        var expected: [Double] = []
        for (k, d) in directions.enumerated() {
            #expect(d.values[12..<15].allSatisfy { $0 == 0 })
            for row in 0..<3 {
                let dn = (0..<4).reduce(0.0) { $0 + d.values[row * 4 + $1] * d.values[row * 4 + $1] }.squareRoot()
                let tn = (0..<4).reduce(0.0) { $0 + Self.m[row * 4 + $1] * Self.m[row * 4 + $1] }.squareRoot()
                #expect(Self.relative(dn, tn) <= 1e-9)
            }
            var drawn = Direction.random(groups: Self.groups, type: .weights, seed: 42 + UInt64(k))
            drawn.normalize(against: Self.m, groups: Self.groups, type: .weights, normalization: .filter, oneDimensional: .leftOut)
            #expect(d == drawn)
            let dAd = (0..<15).reduce(0.0) { $0 + Self.a[$1] * d.values[$1] * d.values[$1] }
            expected.append(0.5 * r * r * dAd)
            #expect(Self.relative(result.increases[k], expected[k]) <= 1e-9, "direction \(k)")
        }
        let mean = expected.reduce(0, +) / Double(n)
        let sd = (expected.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)).squareRoot()
        #expect(Self.relative(result.mean, mean) <= 1e-9)
        #expect(Self.relative(result.standardDeviation, sd) <= 1e-6)
        #expect(objective.parameters() == Self.m)
    }

    // MARK: Sharp against flat

    /// Multiplying every curvature by 4 raises all three numbers: the loss increase and λmax by
    /// exactly 4 (λmax = max aᵢ), ε-sharpness by less (its denominator 1 + L grows too) but still.
    @Test func sharperQuadraticGivesLargerNumbers() throws {
        var settings = SharpnessSettings()
        settings.epsilon = 1e-2
        settings.radius = 0.5
        settings.directions = 5
        settings.eigenvalue = true
        settings.lanczosTolerance = 1e-10
        let flat = try Sharpness.report(of: Quadratic(Self.a, at: Self.c), settings: settings)
        let sharp = try Sharpness.report(of: Quadratic(Self.a.map { 4 * $0 }, at: Self.c), settings: settings)
        #expect(sharp.epsilon.sharpness > flat.epsilon.sharpness)
        #expect(flat.epsilon.sharpness > 0)
        #expect(sharp.lossIncrease.mean > flat.lossIncrease.mean)
        let flatEigen = try #require(flat.topEigenvalue), sharpEigen = try #require(sharp.topEigenvalue)
        #expect(Self.relative(flatEigen.value, Self.a.max()!) <= 1e-8, "\(flatEigen.value)")
        #expect(Self.relative(sharpEigen.value, 4 * Self.a.max()!) <= 1e-8)
        #expect(sharpEigen.value > flatEigen.value)
        // Around the minimum the increase is quadratic in a: exactly 4 times.
        let atMinimumFlat = try Sharpness.lossIncrease(of: Self.closure(Self.a, at: Self.m), directions: 5)
        let atMinimumSharp = try Sharpness.lossIncrease(of: Self.closure(Self.a.map { 4 * $0 }, at: Self.m), directions: 5)
        #expect(Self.relative(atMinimumSharp.mean, 4 * atMinimumFlat.mean) <= 1e-12)
    }

    /// λmax of a tiny network equals the largest eigenvalue of its dense Hessian (built column by
    /// column from Hessian-vector products and diagonalized by Jacobi rotations).
    @Test func topEigenvalueOfTinyNetworkMatchesDenseHessian() throws {
        let objective = try Self.tinyModel()
        let op = HessianOperator(objective: objective)
        let n = op.dimension
        var dense = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            var e = [Double](repeating: 0, count: n)
            e[j] = 1
            let column = try op.apply(e)
            for i in 0..<n { dense[i * n + j] = column[i] }
        }
        for i in 0..<n { for j in 0..<i { let s = 0.5 * (dense[i * n + j] + dense[j * n + i]); dense[i * n + j] = s; dense[j * n + i] = s } }
        let exact = SymmetricEigen.decompose(dense, size: n).values[0]
        let result = try Sharpness.topEigenvalue(of: objective, tolerance: 1e-8)
        #expect(Self.relative(result.value, exact) <= 1e-8, "\(result.value) vs \(exact)")
        #expect(result.converged)
    }

    // MARK: Restoring and reproducing

    /// The report leaves a network's parameters exactly as they were, the same seed gives the
    /// same bits, and another seed other directions.
    @Test func parametersRestoredAndSeedReproducible() throws {
        let objective = try Self.tinyModel()
        let before = objective.parameters()
        var settings = SharpnessSettings()
        settings.epsilon = 0.05
        settings.directions = 4
        settings.eigenvalue = true
        let first = try Sharpness.report(of: objective, settings: settings)
        #expect(objective.parameters() == before)
        let second = try Sharpness.report(of: objective, settings: settings)
        #expect(first == second)
        #expect(first.epsilon.maximumLoss.bitPattern == second.epsilon.maximumLoss.bitPattern)
        #expect(first.lossIncrease.increases.map(\.bitPattern) == second.lossIncrease.increases.map(\.bitPattern))
        #expect(first.epsilon.sharpness > 0 && Self.relative(first.loss, first.epsilon.loss) <= 1e-12)
        #expect(first.lossIncrease.increases.allSatisfy { $0.isFinite })
        settings.seed = 124
        let other = try Sharpness.report(of: objective, settings: settings)
        #expect(other.lossIncrease.increases != first.lossIncrease.increases)
        #expect(other.lossIncrease.increases[0..<3] == first.lossIncrease.increases[1..<4])   // direction k uses seed + k
        #expect(other.epsilon == first.epsilon)   // the ascent draws nothing
        #expect(objective.parameters() == before)
    }

    /// A throwing objective still gets its parameters back.
    @Test func parametersRestoredWhenTheLossThrows() throws {
        struct Broken: Error {}
        var calls = 0
        let objective = ClosureObjective(groups: Self.groups, initial: Self.c, gradient: { t, _ in t }) { t, _ in
            calls += 1
            if calls > 2 { throw Broken() }
            return ObjectiveValue(loss: Self.loss(t, Self.a))
        }
        #expect(throws: Broken.self) { try Sharpness.lossIncrease(of: objective, directions: 5) }
        #expect(objective.parameters() == Self.c)
        calls = 0
        #expect(throws: Broken.self) { try Sharpness.epsilonSharpness(of: objective, steps: 5) }
        #expect(objective.parameters() == Self.c)
    }

    // MARK: Bad requests

    @Test func badSettingsAreRefused() throws {
        let objective = Self.closure(Self.a, at: Self.c)
        #expect(throws: LandscapeError.self) { try Sharpness.epsilonSharpness(of: objective, epsilon: 0) }
        #expect(throws: LandscapeError.self) { try Sharpness.epsilonSharpness(of: objective, epsilon: .nan) }
        #expect(throws: LandscapeError.self) { try Sharpness.epsilonSharpness(of: objective, steps: 0) }
        #expect(throws: LandscapeError.self) { try Sharpness.lossIncrease(of: objective, radius: -1) }
        #expect(throws: LandscapeError.self) { try Sharpness.lossIncrease(of: objective, directions: 0) }
        var settings = SharpnessSettings()
        settings.eigenvalue = true
        #expect(throws: LandscapeError.self) { try Sharpness.report(of: objective, settings: settings) }
        #expect(objective.parameters() == Self.c)
    }
}
