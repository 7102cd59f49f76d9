import Testing
import Foundation
import TerrainData
import TerrainModels
import TerrainTraining

/// Numbers of a training request and the pairing of a model with data are checked before any
/// work, with messages that name the option or both shapes.
@Suite("Input validation")
struct InputValidationTests {
    func config() -> TrainingConfig {
        TrainingConfig(model: ModelSpec(architecture: "mlp", hiddenSizes: [8], inputShape: [], outputs: 0), dataset: "blobs")
    }

    @Test func everyNumberOfATrainingRequestIsChecked() {
        func refuses(_ change: (inout TrainingConfig) -> Void, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            var c = config()
            change(&c)
            let error = #expect(throws: TrainingError.self, sourceLocation: sourceLocation) { try c.validate() }
            if let error { #expect("\(error)".contains(fragment), "“\(error)” lacks “\(fragment)”", sourceLocation: sourceLocation) }
        }
        refuses({ $0.momentum = .nan }, "--momentum")
        refuses({ $0.momentum = 1.5 }, "--momentum")
        refuses({ $0.samRadius = .nan }, "--sam")
        refuses({ $0.samRadius = -1 }, "--sam")
        refuses({ $0.learningRate = .infinity }, "--lr")
        refuses({ $0.weightDecay = .nan }, "--weight-decay")
        refuses({ $0.betas = [0.9, 1] }, "betas")
        refuses({ $0.epsilon = -1 }, "--eps")
        refuses({ $0.epsilon = .infinity }, "--eps")
        refuses({ $0.clipNorm = 0 }, "--clip-norm")
        refuses({ $0.clipNorm = .nan }, "--clip-norm")
        refuses({ $0.clipValue = -0.5 }, "--clip-value")
        refuses({ $0.clipValue = .infinity }, "--clip-value")
        refuses({ $0.schedule = "warmup-cosine:-3" }, "--schedule")
        refuses({ $0.epochs = 0 }, "--epochs")
        refuses({ $0.batchSize = Int.max }, "--batch-size")
        refuses({ $0.swaStart = 10 }, "--swa-start")
        refuses({ $0.nesterov = true; $0.momentum = 0 }, "--nesterov")
        refuses({ $0.testSubset = 0 }, "--test-subset")
        refuses({ $0.saveEveryIterations = -1 }, "--save-every-iterations")
        refuses({ $0.schedule = "cosine:nan" }, "--schedule")
        refuses({ $0.model.width = 1e300 }, "width")
        #expect(throws: Never.self) { try config().validate() }
    }

    @Test func aModelAndDataOfAnotherShapeAreNamed() throws {
        let data = try DatasetCatalog.load("blobs")
        let spec = ModelSpec(architecture: "mlp", inputShape: [3], outputs: 3)
        let error = #expect(throws: DataFitError.self) { try DataFit.check(spec, model: "m", fits: data, dataName: "blobs") }
        #expect(error.map { "\($0)".contains("[3]") && "\($0)".contains("[2]") } == true)
        let few = ModelSpec(architecture: "mlp", inputShape: [2], outputs: 2)
        #expect(throws: DataFitError.self) { try DataFit.check(few, model: "m", fits: data, dataName: "blobs") }
        let regression = try DatasetCatalog.load("parabola")
        #expect(throws: DataFitError.self) {
            try DataFit.check(ModelSpec(architecture: "mlp", inputShape: regression.train.sampleShape, outputs: 2), model: "m",
                              fits: regression, dataName: "parabola")
        }
        try DataFit.check(ModelSpec(architecture: "mlp", inputShape: [2], outputs: 3), model: "m", fits: data, dataName: "blobs")
    }

    /// A training or test set of no samples would score a loss of 0: the trainer refuses it.
    @Test func emptySetsAreNotTrainedOn() throws {
        var data = try DatasetCatalog.load("blobs")
        data.test = data.test.randomSubset(size: 0, seed: 0)
        let trainer = try Trainer(config: config(), folder: FileManager.default.temporaryDirectory.appendingPathComponent("terrain-empty-\(UUID())"))
        trainer.showProgress = false
        #expect(throws: TrainingError.self) { try trainer.run(data: data) }
    }
}
