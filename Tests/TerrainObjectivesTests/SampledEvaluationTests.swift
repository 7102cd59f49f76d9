import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainLandscape
import TerrainObjectives

/// A model's samples evaluated one by one (`SampleEvaluating`, for `--data-tolerance`): on both
/// paths, on a plane, and as a sampled surface whose bits do not depend on the threads.
@Suite("Per-sample evaluation")
struct SampledEvaluationTests {
    static let count = 90

    static func images() -> DatasetPair {
        var g = SeededGenerator(seed: 9)
        let images = Tensor<Float>.randomNormal(shape: [count, 2, 8, 8], generator: &g)
        let set = Dataset(name: "images", inputs: images, targets: .classes((0..<count).map { Int32(($0 * 7) % 4) }, count: 4))
        return DatasetPair(train: set, test: set)
    }

    static func cnn() -> Module<Float> {
        var g = SeededGenerator(seed: 3)
        return Sequential<Float>(Conv2d(2, 6, kernel: 3, padding: 1, generator: &g), BatchNorm(6), ReLU(),
                                 GlobalAvgPool(), Linear(6, 4, generator: &g))
    }

    /// The per-sample losses of a seeded order average to `evaluate`'s loss (to rounding), their
    /// accuracies to its accuracy; the compiled path's losses are the layers' to Float rounding.
    @Test func perSampleLossesAverageToTheLossOnBothPaths() throws {
        let order = SampleOrder(count: Self.count, seed: 1)
        var perPath: [[Double]] = []
        for path in EvaluationPath.allCases {
            let objective = ModelObjective(model: Self.cnn(), data: Self.images(), batchSize: 32)
            objective.evaluationPath = path
            #expect(objective.evaluatesCompiled == (path == .compiled))
            #expect(objective.sampleCount(.train) == Self.count)
            let exact = try objective.evaluate(.train)
            // Two slices, as a growing prefix asks for them.
            let first = try objective.evaluateSamples(.train, at: order.indices[..<37])
            let rest = try objective.evaluateSamples(.train, at: order.indices[37...])
            let losses = first.losses + rest.losses, accuracies = (first.accuracies ?? []) + (rest.accuracies ?? [])
            #expect(losses.count == Self.count && accuracies.count == Self.count)
            #expect(abs(losses.reduce(0, +) / Double(Self.count) - exact.loss) <= 1e-6 * exact.loss)
            #expect(abs(accuracies.reduce(0, +) / Double(Self.count) - exact.accuracy!) <= 1e-9)
            #expect(accuracies.allSatisfy { $0 == 0 || $0 == 100 })
            perPath.append(losses)
        }
        for (a, b) in zip(perPath[0], perPath[1]) { #expect(abs(a - b) <= 1e-5 * max(abs(b), 1)) }
    }

    /// On a plane (an MLP's first layer computed once per plane), each sample's loss is the one
    /// its parameters set plainly give, to Float rounding.
    @Test func planePointsGiveThePlainPointsLosses() throws {
        var g = SeededGenerator(seed: 4)
        let inputs = Tensor<Float>.randomNormal(shape: [Self.count, 12], generator: &g)
        let set = Dataset(name: "features", inputs: inputs, targets: .classes((0..<Self.count).map { Int32($0 % 3) }, count: 3))
        func build() -> Module<Float> {
            var g = SeededGenerator(seed: 6)
            return Sequential<Float>(Linear(12, 16, generator: &g), ReLU(), Linear(16, 3, generator: &g))
        }
        let objective = ModelObjective(model: build(), data: DatasetPair(train: set, test: set), batchSize: 32)
        let theta = objective.parameters()
        let directions = DirectionRecipe(seed: 2).directions(count: 2, for: theta, groups: objective.groups)
        let plane = ObjectivePlane(center: theta, x: directions[0].values, y: directions[1].values)
        let (alpha, beta) = (0.4, -0.7)
        let point = zip(theta, zip(directions[0].values, directions[1].values)).map { $0 + alpha * $1.0 + beta * $1.1 }
        let order = SampleOrder(count: Self.count, seed: 8)
        objective.setParameters(point, on: plane, alpha: alpha, beta: beta)
        let onPlane = try objective.evaluateSamples(.train, at: order.indices[5..<70])
        objective.setParameters(point)
        let plain = try objective.evaluateSamples(.train, at: order.indices[5..<70])
        #expect(onPlane.losses.count == 65 && onPlane.accuracies == plain.accuracies)
        for (a, b) in zip(onPlane.losses, plain.losses) { #expect(abs(a - b) <= 1e-5 * max(abs(b), 1)) }
    }

    /// A sampled surface of the model: one thread, and points spread over two and three, give the
    /// same bits (values, standard errors, sample counts).
    @Test(arguments: EvaluationPath.allCases)
    func aSampledSurfaceHasTheSameBitsForAnyThreads(_ path: EvaluationPath) throws {
        let data = Self.images()
        let objective = ModelObjective(model: Self.cnn(), data: data, batchSize: 32, makeModel: Self.cnn)
        objective.evaluationPath = path
        let theta = objective.parameters()
        let directions = DirectionRecipe(seed: 20).directions(count: 2, for: theta, groups: objective.groups)
        let grid = SurfaceGrid(x: try Axis.parse("-1:1:7").coordinates, y: try Axis.parse("-1:1:5").coordinates)
        let sampling = DataSampling(tolerance: .absolute(0.02), seed: 3, minimumSamples: 16, blockSize: 8)
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        var results: [[UInt64]] = []
        for threads in [1, 2, 3] {
            Parallel.threadCount = threads
            let surface = try SurfaceComputation(objective: objective, center: theta, xDirection: directions[0], yDirection: directions[1],
                                                 grid: grid, sets: [.train], sampling: sampling)
            if threads > 1 { #expect(try surface.spreadPointsOverThreads(threads)) }
            try surface.prepareSampling()
            let pending = surface.pendingPoints
            for start in stride(from: 0, to: pending.count, by: surface.concurrentPoints) {
                _ = try surface.compute(points: Array(pending[start..<min(pending.count, start + surface.concurrentPoints)]))
            }
            let samples = surface.samplingValues["train_loss_samples"]!
            #expect(samples.allSatisfy { $0 >= 16 && $0 <= Double(Self.count) })
            results.append((surface.values[.trainLoss]! + surface.values[.trainAccuracy]! + samples
                            + surface.samplingValues["train_loss_stderr"]!).map(\.bitPattern))
        }
        #expect(results[1] == results[0] && results[2] == results[0])
    }
}
