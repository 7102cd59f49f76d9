import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainIO
import TerrainModels
@testable import TerrainTraining
import TerrainTestSupport

/// The curves of `terrain connect` (`ConnectingCurve`) and the training of their bend
/// (`CurveTrainer`).
@Suite("Connecting curves")
struct CurveTrainingTests {
    @Test func weightsMeetTheEndsAndTheBendAndSumToOne() {
        for curve in ConnectingCurve.allCases {
            let start = curve.weights(at: 0), end = curve.weights(at: 1)
            #expect(start == (1, 0, 0) && end == (0, 0, 1), "\(curve): θ(0) = A, θ(1) = B")
            for t in stride(from: 0.0, through: 1.0, by: 0.05) {
                let w = curve.weights(at: t)
                #expect(abs(w.a + w.bend + w.b - 1) < 1e-15, "\(curve) at \(t): the weights are affine")
                #expect(curve.planeCoordinates(at: t) == (w.b, w.bend))
            }
        }
        // The Bézier curve: (1 − t)², 2t(1 − t), t²; its bend's pull is strongest at t = ½.
        #expect(ConnectingCurve.bezier.weights(at: 0.25) == (0.5625, 0.375, 0.0625))
        #expect(ConnectingCurve.bezier.bendGradientCoefficient(at: 0.5) == 0.5)
        // The chain passes through the bend at t = ½, with coefficient 2t, then 2(1 − t).
        #expect(ConnectingCurve.polychain.weights(at: 0.5) == (0, 1, 0))
        #expect(ConnectingCurve.polychain.bendGradientCoefficient(at: 0.25) == 0.5)
        #expect(ConnectingCurve.polychain.bendGradientCoefficient(at: 0.75) == 0.5)
        #expect(ConnectingCurve.polychain.weights(at: 0.75) == (0, 0.5, 0.5))
        #expect(ConnectingCurve.initialBend(a: 1, b: 3) == 2)
    }

    /// ∂L(θ(t))/∂θ_b = coefficient(t)·∇L(θ(t)): the gradient the trainer steps on, held to central
    /// differences of L(θ(t)) in the bend's coordinates, in Double on a small MLP.
    @Test(arguments: [(ConnectingCurve.bezier, 0.3), (.polychain, 0.2), (.polychain, 0.7)])
    func bendGradientIsTheDerivativeOfTheLossAlongTheCurve(curve: ConnectingCurve, t: Double) throws {
        let data = try blobs().train
        let spec = ModelSpec(architecture: "mlp", hiddenSizes: [6], inputShape: data.sampleShape, outputs: data.outputCount, seed: 3)
        let model: Module<Double> = try spec.build(Double.self)
        let parameters = model.trainableParameters
        var random = SeededGenerator(seed: 11)
        func vector() -> [[Double]] { parameters.map { p in (0..<p.value.count).map { _ in random.nextUniform() - 0.5 } } }
        let a = vector(), b = vector(), bend = vector()
        let (inputs, targets) = data.batch(Array(0..<40))
        let x = Tensor<Double>(converting: inputs)
        func loss(bend: [[Double]]) -> (loss: Double, gradient: [[Double]]) {
            let w = curve.weights(at: t)
            for (k, p) in parameters.enumerated() {
                let out = p.value.mutablePointer()
                for i in 0..<p.value.count { out[i] = w.a * a[k][i] + w.bend * bend[k][i] + w.b * b[k][i] }
            }
            model.zeroGradients()
            model.setRecording(true)
            let result = TaskLoss.compute(output: model.forward(x), targets: targets)
            _ = model.backward(result.gradient)
            let coefficient = curve.bendGradientCoefficient(at: t)
            return (result.loss, parameters.map { p in (0..<p.value.count).map { coefficient * p.gradient!.pointer[$0] } })
        }
        let analytic = loss(bend: bend).gradient
        let h = 1e-6
        for k in parameters.indices {
            for i in Set([0, parameters[k].value.count / 2, parameters[k].value.count - 1]) {
                var plus = bend, minus = bend
                plus[k][i] += h
                minus[k][i] -= h
                let numeric = (loss(bend: plus).loss - loss(bend: minus).loss) / (2 * h)
                #expect(abs(numeric - analytic[k][i]) <= 1e-6 * max(1, abs(numeric)), "tensor \(k) element \(i): \(numeric) vs \(analytic[k][i])")
            }
        }
    }

    func ends() throws -> (a: Checkpoint, b: Checkpoint, data: DatasetPair) {
        let data = try blobs()
        func trained(_ seed: UInt64) throws -> Checkpoint {
            var config = TrainingConfig(model: ModelSpec(architecture: "mlp", hiddenSizes: [16], inputShape: [], outputs: 0, seed: seed),
                                        dataset: "blobs")
            config.epochs = 2
            config.batchSize = 32
            config.seed = seed
            let folder = try makeTemporaryFolder("curve-ends")
            let trainer = try Trainer(config: config, folder: folder)
            trainer.showProgress = false
            try trainer.run(data: data)
            return try Checkpoint.read(from: folder.appendingPathComponent("final.safetensors"))
        }
        return (try trained(1), try trained(2), data)
    }

    func config(_ spec: ModelSpec, optimizer: OptimizerKind) -> TrainingConfig {
        var config = TrainingConfig(model: spec, dataset: "blobs")
        config.epochs = 3
        config.batchSize = 50
        config.optimizer = optimizer
        config.learningRate = optimizer == .sgd ? 0.05 : 0.01
        config.schedule = "cosine"
        config.seed = 5
        return config
    }

    /// Stopped after an epoch and continued, the bend has the bits of an uninterrupted training,
    /// and so has the log; a resume with other options is refused.
    @Test(arguments: [OptimizerKind.sgd, .adam])
    func resumedTrainingGivesTheSameBend(optimizer: OptimizerKind) throws {
        let (a, b, data) = try ends()
        let c = config(a.spec, optimizer: optimizer)
        let straightFolder = try makeTemporaryFolder("curve-straight"), stoppedFolder = try makeTemporaryFolder("curve-stopped")
        let straight = try CurveTrainer(curve: .bezier, config: c, folder: straightFolder, identity: "ends")
        straight.showProgress = false
        let uninterrupted = try straight.run(a: a, b: b, data: data.train, resume: false, output: straightFolder.appendingPathComponent("curve.safetensors"))

        let first = try CurveTrainer(curve: .bezier, config: c, folder: stoppedFolder, identity: "ends")
        first.showProgress = false
        first.stopAfterEpochs = 1
        #expect(throws: Trainer.SimulatedStop.self) { try first.run(a: a, b: b, data: data.train, resume: false, output: stoppedFolder.appendingPathComponent("curve.safetensors")) }
        #expect(first.canResume)
        let other = try CurveTrainer(curve: .polychain, config: c, folder: stoppedFolder, identity: "ends")
        #expect { try other.run(a: a, b: b, data: data.train, resume: true, output: stoppedFolder.appendingPathComponent("other.safetensors")) } throws: { "\($0)".contains("other options") }
        let second = try CurveTrainer(curve: .bezier, config: c, folder: stoppedFolder, identity: "ends")
        second.showProgress = false
        var resumedAfter: Int?
        second.onResume = { resumedAfter = $0 }
        let resumed = try second.run(a: a, b: b, data: data.train, resume: true, output: stoppedFolder.appendingPathComponent("curve.safetensors"))
        #expect(resumedAfter == 1)
        #expect(!second.canResume, "a finished training keeps no resume state")
        for name in uninterrupted.tensorOrder where uninterrupted.counters[name] == nil {
            #expect(uninterrupted.tensors[name]!.scalars == resumed.tensors[name]!.scalars, "\(name)")
        }
        #expect(try Data(contentsOf: stoppedFolder.appendingPathComponent("curve.safetensors"))
                == Data(contentsOf: straightFolder.appendingPathComponent("curve.safetensors")), "the same file, byte for byte")
        func losses(_ folder: URL) throws -> [String] {
            try String(contentsOf: folder.appendingPathComponent("metrics.csv"), encoding: .utf8).split(separator: "\n")
                .map { $0.split(separator: ",").dropLast().joined(separator: ",") }
        }
        #expect(try losses(stoppedFolder) == losses(straightFolder))
    }

    /// The bend's trainable tensors start at the midpoint and move; the file keeps A's buffers and
    /// says what it is.
    @Test func theBendMovesFromTheMidpoint() throws {
        let (a, b, data) = try ends()
        var c = config(a.spec, optimizer: .sgd)
        c.epochs = 1
        let folder = try makeTemporaryFolder("curve-moves")
        let trainer = try CurveTrainer(curve: .polychain, config: c, folder: folder, identity: "ends")
        trainer.showProgress = false
        let bend = try trainer.run(a: a, b: b, data: data.train, resume: false, output: folder.appendingPathComponent("bend.safetensors"))
        #expect(try Checkpoint.read(from: folder.appendingPathComponent("bend.safetensors")).tensors == bend.tensors)
        #expect(bend.metadata["terrain.curve"] == "polychain")
        #expect(bend.spec == a.spec)
        var moved = 0
        for name in a.tensorOrder where a.counters[name] == nil {
            let midpoint = zip(a.tensors[name]!.scalars, b.tensors[name]!.scalars).map { 0.5 * ($0 + $1) }
            moved += zip(midpoint, bend.tensors[name]!.scalars).filter { abs($0 - $1) > 1e-6 }.count
        }
        #expect(moved > 0)
    }
}
