import Foundation
import TerrainData
import TerrainNN
import TerrainTensor
import TerrainIO
import TerrainTraining
import TerrainLandscape
import TerrainObjectives
import TerrainONNX

/// A model loaded with the data it is evaluated on, as every request starts.
public struct LoadedModel {
    /// What the landscape code evaluates.
    public var objective: any Objective
    /// The same objective as a network with data, for the requests that need one (Hessians,
    /// sharpness); nil for an objective given in Swift.
    public var network: ModelObjective<Float>?
    /// The architecture's name ("onnx" for an ONNX model, "objective" for one given in Swift).
    public var architecture: String
    /// The data as recorded in files and fingerprints (e.g. "mnist train 500 test 500 subset 500 seed 0").
    public var dataDescription: String

    /// The arithmetic the network's loss is computed in (fp32 for an objective given in Swift).
    public var precision: EvaluationPrecision { network?.precision ?? .fp32 }

    /// The data and the arithmetic, as a resume fingerprint records them (`PrecisionCheck.fingerprintTag`).
    public var fingerprintData: String { dataDescription + PrecisionCheck.fingerprintTag(precision) }

    /// The network, or a request error saying that `what` needs one.
    public func requireNetwork(for what: String) throws -> ModelObjective<Float> {
        guard let network else { throw RequestError("\(what) needs a network with its data (a checkpoint or an ONNX model), not an objective given in Swift") }
        return network
    }
}

extension ModelSource {
    /// Loads the model and the data it is evaluated on: a checkpoint's data prepared as in
    /// training (its seed and normalization; the line saying which normalization goes to
    /// `progress`), an ONNX model's as stored, an objective as it is.
    public func load(on data: EvaluationData, progress: RequestProgress = .silent) throws -> LoadedModel {
        let name: String
        let checkpoint: Checkpoint
        var pair: DatasetPair
        var refitted = false
        // bf16 is refused before anything is loaded: for an objective given in Swift, whatever the
        // CPU; for a network, where the CPU lacks it (the compiled path is checked once it is built).
        if case .objective = self, data.precision != .fp32 {
            throw RequestError("--precision \(data.precision.rawValue) runs a network's compiled evaluation; an objective given in Swift computes in its own arithmetic")
        }
        try PrecisionCheck.checkAvailable(data.precision)
        if let caveat = ModelObjective<Float>.caveat(of: data.precision) { progress.note("note: " + caveat) }
        switch self {
        case .objective(let objective, let description):
            return LoadedModel(objective: objective, network: nil, architecture: "objective", dataDescription: description)
        case .onnx(let path):
            let (objective, description) = try ONNXObjective.make(path: path, dataset: data.dataset, normalize: data.normalize,
                                                                   subset: data.subset, subsetSeed: data.subsetSeed, batchSize: data.batchSize,
                                                                   context: data.context)
            if let note = objective.data.note { progress.note(note) }
            try PrecisionCheck.apply(data.precision, to: objective, model: path)
            return LoadedModel(objective: objective, network: objective, architecture: "onnx", dataDescription: description)
        case .stateDict(let path, let architecture):
            // A checkpoint without (or instead of) Terrain's description: the data come first,
            // since they fix the input shape and the number of outputs.
            guard let dataName = data.dataset else {
                throw RequestError("--model needs the data the model runs on: pass --dataset or --data FILE")
            }
            name = dataName
            var options = DatasetOptions(normalize: data.normalize, testFraction: 0)
            options.context = data.context
            pair = try DatasetCatalog.load(name, options: options)
            if pair.test.count == 0 { pair.test = pair.train }
            let spec = try ModelDescription(architecture, sampleShape: pair.train.sampleShape, outputs: pair.train.outputCount).spec
            checkpoint = try Checkpoint.read(from: URL(fileURLWithPath: path), spec: spec)
        case .checkpoint(let path):
            checkpoint = try Checkpoint.read(from: URL(fileURLWithPath: path))
            guard let dataName = data.dataset ?? checkpoint.metadata["terrain.dataset"] else {
                throw RequestError("the checkpoint does not name its dataset: pass --dataset")
            }
            name = dataName
            let (loaded, line, refit) = try CheckpointData.load(name, for: checkpoint, source: path, refitNormalization: data.refitNormalization,
                                                                context: data.context)
            pair = loaded
            refitted = refit
            progress.note(line)
        }
        let path = self.path!
        if let note = pair.note { progress.note(note) }
        try DataFit.check(checkpoint.spec, model: "\(path) (\(checkpoint.spec.architecture))", fits: pair, dataName: name)
        let model = try checkpoint.makeModel(Float.self, source: path)
        if let subset = data.subset {
            guard subset > 0 else { throw RequestError("--subset must be positive") }
            pair = DatasetPair(train: pair.train.randomSubset(size: subset, seed: data.subsetSeed),
                               test: pair.test.randomSubset(size: subset, seed: data.subsetSeed &+ 1),
                               normalization: pair.normalization)
        }
        guard data.batchSize > 0 else { throw RequestError("--batch-size must be positive") }
        // A refit normalization is other data: a resumed surface must not mix the two.
        // (A context given on the command line is other data than the checkpoint's default.)
        let description = "\(name)" + (data.context.map { " context \($0)" } ?? "") + " train \(pair.train.count) test \(pair.test.count)"
            + (data.subset.map { " subset \($0) seed \(data.subsetSeed)" } ?? "")
            + (refitted ? " refit-normalization" : "")
        let objective = ModelObjective(model: model, data: pair, batchSize: data.batchSize) {
            try checkpoint.spec.build() as Module<Float>
        }
        try PrecisionCheck.apply(data.precision, to: objective, model: "\(path) (\(checkpoint.spec.architecture))")
        return LoadedModel(objective: objective, network: objective, architecture: checkpoint.spec.architecture, dataDescription: description)
    }

    /// This model's values laid out as `groups` (another model's: a plane's B and C): from a
    /// checkpoint's tensors or an ONNX model's initializers, by name.
    public func parameters(groups: [ParameterGroup]) throws -> [Double] {
        switch self {
        case .objective(let objective, _):
            guard objective.groups == groups else { throw RequestError("the objectives have different parameter groups") }
            return objective.parameters()
        case .checkpoint(let path), .stateDict(let path, _):
            return try RunHistory.parameters(of: path, groups: groups)
        case .onnx(let path):
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
    }

    /// The batch-norm counters (`num_batches_tracked`) of a checkpoint, by state_dict name; none
    /// for an ONNX model (its initializers leave them out) or an objective.
    public func batchCounters() throws -> [String: Double] {
        switch self {
        case .checkpoint(let path), .stateDict(let path, _):
            return try Checkpoint.readTensors(from: URL(fileURLWithPath: path)).counters.mapValues(Double.init)
        case .onnx, .objective:
            return [:]
        }
    }

    /// Two-model directions' counter entries, as the reference's `get_diff_states` makes them:
    /// each target's counter minus this origin's (`targets`: one model per direction).
    public func counterDifferences(to targets: [ModelSource]) throws -> [String: [Double]] {
        let base = try batchCounters()
        let ends = try targets.map { try $0.batchCounters() }
        var result: [String: [Double]] = [:]
        for (name, value) in base {
            let others = ends.compactMap { $0[name] }
            if others.count == ends.count { result[name] = others.map { $0 - value } }
        }
        return result
    }
}
