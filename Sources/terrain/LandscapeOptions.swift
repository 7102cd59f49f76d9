import ArgumentParser
import Foundation
import TerrainData
import TerrainNN
import TerrainTraining
import TerrainLandscape

/// Where a landscape's loss is evaluated: the data, a fixed subset, the batch size.
struct EvaluationOptions: ParsableArguments {
    @Option(help: "Dataset (default: the one the checkpoint was trained on).") var dataset: String?
    @Option(help: "Sets to evaluate at each point: train, test or train,test.") var data: String = "train"
    @Option(help: "Evaluate on a fixed random subset of this many samples of each set.") var subset: Int?
    @Option(help: "Seed of the subset.") var subsetSeed: UInt64 = 0
    @Option(help: "Evaluation batch size.") var batchSize: Int = 500
    @Option(help: ArgumentHelp("How the threads share the work: points (grid points side by side, one copy of the network per thread), layers (one point at a time, each layer split over the threads) or auto. Same numbers either way.",
                               valueName: "mode"))
    var spread: ThreadUse = .auto

    func sets() throws -> [EvaluationSet] {
        let sets = try data.split(separator: ",").map { part -> EvaluationSet in
            guard let s = EvaluationSet(rawValue: part.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw ValidationError("--data takes train, test or train,test; got '\(data)'")
            }
            return s
        }
        guard !sets.isEmpty, Set(sets).count == sets.count else { throw ValidationError("--data takes train, test or train,test") }
        return sets
    }

    /// Loads the checkpoint's model and the data it is evaluated on, prepared as in training.
    func objective(checkpoint path: String) throws -> (ModelObjective<Float>, Checkpoint, String) {
        let checkpoint = try Checkpoint.read(from: URL(fileURLWithPath: path))
        let model = try checkpoint.makeModel(Float.self, source: path)
        guard let name = dataset ?? checkpoint.metadata["terrain.dataset"] else {
            throw ValidationError("the checkpoint does not name its dataset: pass --dataset")
        }
        var options = DatasetOptions()
        if let text = checkpoint.metadata["terrain.training"], let config = try? TrainingConfig(json: text) {
            options.normalize = config.normalize
            options.seed = config.seed
        }
        let data = try DatasetCatalog.load(name, options: options)
        var pair = data
        if let subset {
            guard subset > 0 else { throw ValidationError("--subset must be positive") }
            pair = DatasetPair(train: data.train.randomSubset(size: subset, seed: subsetSeed),
                               test: data.test.randomSubset(size: subset, seed: subsetSeed &+ 1),
                               normalization: data.normalization)
        }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        let description = "\(name) train \(pair.train.count) test \(pair.test.count)" + (subset.map { " subset \($0) seed \(subsetSeed)" } ?? "")
        let objective = ModelObjective(model: model, data: pair, batchSize: batchSize) {
            try checkpoint.spec.build() as Module<Float>
        }
        return (objective, checkpoint, description)
    }
}

/// The random directions of `terrain surface` and `terrain evolve`: seeded Gaussian directions,
/// each normalized against the weights it perturbs (`DirectionRecipe`).
struct RandomDirectionOptions: ParsableArguments {
    @Option(help: "Normalization of the x direction: filter, layer, weight, dfilter, dlayer, none.") var xnorm: DirectionNormalization = .filter
    @Option(help: "Normalization of the y direction.") var ynorm: DirectionNormalization = .filter
    @Option(help: "biasbn: zero direction on biases and batch-norm tensors; none: move them too.") var xignore: String = "biasbn"
    @Option(help: "The same for the y direction.") var yignore: String = "biasbn"
    @Option(help: "weights (trainable) or states (also BN running statistics).") var dirType: DirectionType = .weights
    @Option(help: "Seed of the random directions (x: seed, y: seed + 1).") var seed: UInt64 = 123
    @Flag(help: "Make the y direction orthogonal to the x direction.") var orthogonalize = false

    func recipe() throws -> DirectionRecipe {
        let ignores = try [xignore, yignore].map { text -> Bool in
            switch text.lowercased() {
            case "biasbn": return true
            case "none", "": return false
            default: throw ValidationError("--xignore/--yignore take biasbn or none; got '\(text)'")
            }
        }
        return DirectionRecipe(seed: seed, type: dirType, normalizations: [xnorm, ynorm], ignoresBiasAndNorm: ignores,
                               orthogonalize: orthogonalize)
    }

    /// The attributes a surface file records about its directions (`count`: 1 or 2 of them).
    func attributes(count: Int) -> [String: String] {
        var text = ["terrain.seed": "\(seed)", "terrain.xnorm": xnorm.rawValue, "terrain.xignore": xignore]
        if count > 1 { text.merge(["terrain.ynorm": ynorm.rawValue, "terrain.yignore": yignore]) { $1 } }
        if orthogonalize { text["terrain.orthogonalize"] = "1" }
        return text
    }
}

/// How a landscape's threads share the work (`--spread`).
enum ThreadUse: String, ExpressibleByArgument, CaseIterable {
    case auto, points, layers

    /// Spreads grid points over threads unless told not to. Both ways give the same bits;
    /// `auto` takes points, which measured faster for every zoo model on 2 cores (README).
    func apply(to computation: SurfaceComputation) throws {
        if self != .layers { try computation.spreadPointsOverThreads() }
    }
}

extension DirectionNormalization: ExpressibleByArgument {}
extension DirectionType: ExpressibleByArgument {}

/// What every landscape command does once its directions are known: rank 0 writes the
/// direction file, all ranks compute the grid resumably into `out`, rank 0 prints the summary.
struct LandscapeJob {
    var objective: ModelObjective<Float>
    var threadUse: ThreadUse
    var center: [Double]
    var directions: [Direction]
    var directionType: DirectionType
    var grid: SurfaceGrid
    var sets: [EvaluationSet]
    var dataDescription: String
    var out: String
    var directionPath: String
    /// nil: the direction file exists already (given by the user, or written by the caller).
    var directionAttributes: [String: String]?
    var textAttributes: [String: String] = [:]
    var numberAttributes: [String: Double] = [:]
    var extraDatasets: [String: [Double]] = [:]
    /// The line printed before the computation starts.
    var announcement: String

    func run(quiet: Bool, overwrite: Bool) throws {
        let world = Distributed.world
        if world.isWriter {
            // The output's folder is made here, not discovered missing after the computation.
            for path in [out, directionPath] {
                try FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(),
                                                        withIntermediateDirectories: true)
            }
        }
        if let attributes = directionAttributes, world.isWriter {
            try DirectionFile.write(directions, groups: objective.groups, type: directionType, attributes: attributes, to: directionPath)
        }
        let computation = try SurfaceComputation(objective: objective, center: center, xDirection: directions[0],
                                                 yDirection: directions.count > 1 ? directions[1] : nil, grid: grid, sets: sets)
        try threadUse.apply(to: computation)
        let runner = SurfaceRunner(computation: computation, path: out,
                                   fingerprint: SurfaceRunner.fingerprint(center: center, directions: directions, grid: grid,
                                                                          sets: sets, data: dataDescription))
        runner.directionFile = directionPath
        runner.showProgress = !quiet && world.isWriter
        runner.communicator = world
        runner.textAttributes = textAttributes.merging(["terrain.data": dataDescription, "terrain.version": Terrain.version,
                                                        "terrain.dir_type": directionType.rawValue]) { $1 }
        runner.numberAttributes = numberAttributes
        runner.extraDatasets = extraDatasets
        if world.isWriter { print(announcement + (world.size > 1 ? "; \(world.size) ranks" : "")) }
        let result = try runner.run(overwrite: overwrite)
        guard world.isWriter else { return }
        if runner.resumedPoints > 0 { print("resumed: \(runner.resumedPoints) points were already computed") }
        Surface.summarize(result, path: out)
    }
}
