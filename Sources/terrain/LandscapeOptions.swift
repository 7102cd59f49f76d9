import ArgumentParser
import Foundation
import TerrainData
import TerrainNN
import TerrainTraining
import TerrainLandscape
import TerrainONNX
import TerrainIO
import TerrainObjectives

/// Where a landscape's loss is evaluated: the data, a fixed subset, the batch size.
struct EvaluationOptions: ParsableArguments {
    @Option(help: "Dataset (default: the one the checkpoint was trained on).") var dataset: String?
    @Option(help: ArgumentHelp("Sets to evaluate at each point: train, test or train,test; or a data file (NPZ with x and y, or any path --dataset takes), evaluated as the train set.",
                               valueName: "sets-or-file"))
    var data: String = "train"
    @Option(help: ArgumentHelp("The zoo architecture of a checkpoint without Terrain's metadata (a PyTorch state_dict saved as safetensors): ARCH[,width=W][,hidden=64x64][,activation=A], or a model spec as JSON.",
                               valueName: "spec"))
    var model: String?
    @Flag(help: "ONNX models: standardize inputs per channel with the training set's statistics (default: the data as stored).")
    var normalize = false
    @Flag(help: "A checkpoint trained on normalized inputs: fit the normalization on this dataset's training set instead of using the statistics the checkpoint stores.")
    var refitNormalization = false
    @Option(help: "Evaluate on a fixed random subset of this many samples of each set.") var subset: Int?
    @Option(help: "Seed of the subset.") var subsetSeed: UInt64 = 0
    @Option(help: "Evaluation batch size.") var batchSize: Int = 500
    @Option(help: ArgumentHelp("How the threads share the work: points (grid points side by side, one copy of the network per thread), layers (one point at a time, each layer split over the threads) or auto. Same numbers either way.",
                               valueName: "mode"))
    var spread: ThreadUse = .auto

    /// The largest evaluation batch.
    static let maximumBatchSize = 1 << 20

    func validate() throws {
        try OptionCheck.count(batchSize, "--batch-size", in: 1...Self.maximumBatchSize)
        if let subset { try OptionCheck.count(subset, "--subset", in: 1...Int.max) }
    }

    /// The data file `--data` names, when it names one instead of sets: an existing path, or
    /// anything that looks like one (a typo in a set name still gets the sets' message).
    var dataFile: String? {
        let sets = data.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if !sets.isEmpty, sets.allSatisfy({ EvaluationSet(rawValue: $0) != nil }) { return nil }
        let looksLikePath = data.contains("/") || data.contains(".")
            || FileManager.default.fileExists(atPath: NSString(string: data).expandingTildeInPath)
        return looksLikePath ? data : nil
    }

    /// `--dataset`, or the data file given as `--data FILE`.
    func datasetSpec() throws -> String? {
        if let file = dataFile {
            guard dataset == nil else { throw ValidationError("--data \(file) and --dataset \(dataset!) name two datasets: give one") }
            return file
        }
        return dataset
    }

    func sets() throws -> [EvaluationSet] {
        if dataFile != nil { return [.train] }
        let sets = try data.split(separator: ",").map { part -> EvaluationSet in
            guard let s = EvaluationSet(rawValue: part.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw ValidationError("--data takes train, test or train,test, or a data file; got '\(data)'")
            }
            return s
        }
        guard !sets.isEmpty, Set(sets).count == sets.count else { throw ValidationError("--data takes train, test or train,test") }
        return sets
    }

    /// Another model's values laid out as `groups` (a plane's B and C): from a checkpoint's
    /// tensors or an ONNX model's initializers, by name.
    func parameters(of path: String, groups: [ParameterGroup]) throws -> [Double] {
        guard case .onnx = ModelSource(path: path) else { return try RunHistory.parameters(of: path, groups: groups) }
        let model = try ONNXModel.read(from: URL(fileURLWithPath: path))
        let byName = Dictionary(model.parameters.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var flat = [Double](repeating: 0, count: groups.scalarCount)
        for g in groups {
            guard let p = byName[g.name], p.shape == g.shape else {
                throw LandscapeError.incompatibleFile(path, "initializer \(g.name) is missing or shaped differently from the first model's")
            }
            for i in 0..<g.count { flat[g.offset + i] = p.values[i] }
        }
        return flat
    }

    /// The batch-norm counters (`num_batches_tracked`) of a checkpoint, by state_dict name; none
    /// for an ONNX model (its initializers leave them out).
    func batchCounters(of path: String) throws -> [String: Double] {
        guard case .checkpoint = ModelSource(path: path) else { return [:] }
        return try Checkpoint.readTensors(from: URL(fileURLWithPath: path)).counters.mapValues(Double.init)
    }

    /// Two-model directions' counter entries, as the reference's `get_diff_states` makes them:
    /// each target's counter minus the origin's (`targets`: one checkpoint per direction).
    func counterDifferences(from origin: String, to targets: [String]) throws -> [String: [Double]] {
        let base = try batchCounters(of: origin)
        let ends = try targets.map { try batchCounters(of: $0) }
        var result: [String: [Double]] = [:]
        for (name, value) in base {
            let others = ends.compactMap { $0[name] }
            if others.count == ends.count { result[name] = others.map { $0 - value } }
        }
        return result
    }

    /// A checkpoint or ONNX model given as a path (`.onnx` files are ONNX models).
    func objective(checkpoint path: String) throws -> (ModelObjective<Float>, String, String) {
        try objective(ModelSource(path: path))
    }

    /// Loads the model and the data it is evaluated on: a checkpoint's data prepared as in
    /// training, an ONNX model's as stored. Returns the objective, the architecture's name and a
    /// description of the data.
    func objective(_ source: ModelSource) throws -> (ModelObjective<Float>, String, String) {
        guard case .checkpoint(let path) = source else {
            let (objective, description) = try ONNXObjective.make(path: source.path, dataset: try datasetSpec(), normalize: normalize,
                                                                   subset: subset, subsetSeed: subsetSeed, batchSize: batchSize)
            return (objective, "onnx", description)
        }
        let url = URL(fileURLWithPath: path)
        let checkpoint: Checkpoint
        var data: DatasetPair
        let name: String
        var refitted = false
        if let model {
            // A checkpoint without (or instead of) Terrain's description: the data come first,
            // since they fix the input shape and the number of outputs.
            guard let dataName = try datasetSpec() else {
                throw ValidationError("--model needs the data the model runs on: pass --dataset or --data FILE")
            }
            name = dataName
            data = try DatasetCatalog.load(name, options: DatasetOptions(normalize: normalize, testFraction: 0))
            if data.test.count == 0 { data.test = data.train }
            let spec = try ModelDescription(model, sampleShape: data.train.sampleShape, outputs: data.train.outputCount).spec
            checkpoint = try Checkpoint.read(from: url, spec: spec)
        } else {
            checkpoint = try Checkpoint.read(from: url)
            guard let dataName = try datasetSpec() ?? checkpoint.metadata["terrain.dataset"] else {
                throw ValidationError("the checkpoint does not name its dataset: pass --dataset")
            }
            name = dataName
            let (loaded, line, refit) = try CheckpointData.load(name, for: checkpoint, source: path, refitNormalization: refitNormalization)
            data = loaded
            refitted = refit
            if Distributed.world.isWriter { print(line) }
        }
        try DataFit.check(checkpoint.spec, model: "\(path) (\(checkpoint.spec.architecture))", fits: data, dataName: name)
        let model = try checkpoint.makeModel(Float.self, source: path)
        var pair = data
        if let subset {
            guard subset > 0 else { throw ValidationError("--subset must be positive") }
            pair = DatasetPair(train: data.train.randomSubset(size: subset, seed: subsetSeed),
                               test: data.test.randomSubset(size: subset, seed: subsetSeed &+ 1),
                               normalization: data.normalization)
        }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        // A refit normalization is other data: a resumed surface must not mix the two.
        let description = "\(name) train \(pair.train.count) test \(pair.test.count)" + (subset.map { " subset \($0) seed \(subsetSeed)" } ?? "")
            + (refitted ? " refit-normalization" : "")
        let objective = ModelObjective(model: model, data: pair, batchSize: batchSize) {
            try checkpoint.spec.build() as Module<Float>
        }
        return (objective, checkpoint.spec.architecture, description)
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

/// `terrain surface --adaptive`: how far to coarsen, how closely to follow the contours, and which.
struct AdaptiveRequest {
    var levels: Int
    var tolerance: Double
    var contourLevels: RefinementLevels
}

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
    /// nil: the direction file exists already (given by the user), or `writeDirections` writes it.
    var directionAttributes: [String: String]?
    /// `states` directions: each batch-norm counter's entry per direction (`DirectionFile`).
    var directionCounters: [String: [Double]] = [:]
    /// Writes the direction file (and whatever else belongs to the request) once the request is
    /// accepted, when the caller has more to write than `directionAttributes` says.
    var writeDirections: (() throws -> Void)? = nil
    var textAttributes: [String: String] = [:]
    var numberAttributes: [String: Double] = [:]
    var extraDatasets: [String: [Double]] = [:]
    /// Compute only the points an adaptive refinement asks for (2D surfaces); nil: every point.
    var adaptive: AdaptiveRequest? = nil
    /// The line printed before the computation starts.
    var announcement: String

    func run(quiet: Bool, overwrite: Bool) throws {
        let world = Distributed.world
        // The request is checked (the grid's size among it) before any file is touched.
        let computation = try SurfaceComputation(objective: objective, center: center, xDirection: directions[0],
                                                 yDirection: directions.count > 1 ? directions[1] : nil, grid: grid, sets: sets)
        if world.isWriter {
            for path in [out, directionPath] { try OutputPath.checkFile(path) }
            // The output's folder is made here, not discovered missing after the computation.
            for path in [out, directionPath] {
                try FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(),
                                                        withIntermediateDirectories: true)
            }
        }
        try threadUse.apply(to: computation)
        var gridComputation: any GridComputation = computation
        var request = dataDescription
        var announcement = announcement
        if let adaptive {
            let refining = try AdaptiveSurfaceComputation(surface: computation, levels: adaptive.levels, tolerance: adaptive.tolerance,
                                                          contourLevels: adaptive.contourLevels)
            gridComputation = refining
            request += AdaptiveSurfaceComputation.requestTag(levels: refining.plan.levels, tolerance: adaptive.tolerance,
                                                             contourLevels: adaptive.contourLevels)
            announcement += "; adaptive: coarse stride \(1 << refining.plan.levels), tolerance \(adaptive.tolerance) of a level spacing"
        }
        let runner = SurfaceRunner(computation: gridComputation, path: out,
                                   fingerprint: SurfaceRunner.fingerprint(center: center, directions: directions, grid: grid,
                                                                          sets: sets, data: request))
        runner.directionFile = directionPath
        // Only once the output is known to be of this request (or --overwrite): a refused run
        // changes no file, and the surface and its direction file always agree.
        let (directions, groups, type, path, counters) = (directions, objective.groups, directionType, directionPath, directionCounters)
        if let attributes = directionAttributes {
            runner.writeRequestFiles = {
                try DirectionFile.write(directions, groups: groups, type: type, counters: counters, attributes: attributes, to: path)
            }
        } else if let writeDirections {
            runner.writeRequestFiles = writeDirections
        }
        runner.showProgress = !quiet && world.isWriter
        runner.communicator = world
        runner.textAttributes = textAttributes.merging(["terrain.data": dataDescription, "terrain.version": Terrain.version,
                                                        "terrain.dir_type": directionType.rawValue,
                                                        DirectionFile.digestAttribute: DirectionFile.digest(directions, groups: groups, type: type)]) { $1 }
        runner.numberAttributes = numberAttributes
        runner.extraDatasets = extraDatasets
        if world.isWriter { print(announcement + (world.size > 1 ? "; \(world.size) ranks" : "")) }
        let result = try runner.run(overwrite: overwrite)
        guard world.isWriter else { return }
        if runner.damagedPoints > 0 { print(SurfaceRunner.damageNote(runner.damagedPoints, path: out)) }
        if runner.resumedPoints > 0 { print("resumed: \(runner.resumedPoints) points were already computed") }
        if let saving = AdaptiveSurfaceComputation.summary(of: result) { print(saving) }
        Surface.summarize(result, path: out)
    }
}
