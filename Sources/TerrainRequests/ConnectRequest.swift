import Foundation
import TerrainTensor
import TerrainIO
import TerrainData
import TerrainLandscape
import TerrainObjectives
import TerrainTraining
import TerrainModels

/// Mode connectivity (`terrain connect`; Garipov et al., "Loss Surfaces, Mode Connectivity, and
/// Fast Ensembling of DNNs", NeurIPS 2018): trains a curve between two checkpoints of one
/// architecture (`ConnectingCurve`, `CurveTrainer`), then measures the loss along it and along
/// the straight line, and on the plane through A, B and the bend. Writes, in `output` (a folder):
///
///     curve.safetensors       the bend θ_b as a checkpoint of the architecture (A's buffers); its
///                             metadata: the curve (terrain.curve), A and B, the training
///     training/metrics.csv    per epoch of the bend's training (loss at the sampled points);
///                             training/resume.safetensors while it is unfinished
///     curve.h5                1D file over t ∈ [0, 1] (`points`): the curve's train_loss, …, and
///                             the straight line's line_train_loss, …; the barriers of each as
///                             attributes (terrain.barrier.curve.train, terrain.barrier.line.train, …)
///     plane.h5                the plane θA + α·(θB − θA) + β·(θ_b − θA), the curve drawn on it as
///                             path_x, path_y (α = t², β = 2t(1 − t) for the Bézier curve)
///     plane.directions.h5     the two directions (B − A and θ_b − A), which curve.h5 names too
///
/// The running statistics of batch norm belong to no point of the curve: at every point
/// evaluated (the curve's, the line's and the plane's) they are recomputed on the training data
/// (or `batchNormSubset` samples of it), as Garipov et al. do (`ModelObjective.batchNormData`).
/// The directions move the trainable tensors only.
///
/// Every part resumes: a killed run continues the bend's training from its last finished epoch
/// and the grids from their journals; a finished curve is reused when the request is the same
/// (`overwrite` replaces a curve of other options, and grids of another request: `--points`,
/// `--plane-grid`, `--bn-subset` change only the grids).
public struct ConnectRequest {
    /// The two checkpoints (Terrain's, of one architecture): t = 0 and t = 1.
    public var a: String
    public var b: String
    public var curve: ConnectingCurve
    /// The bend's training: epochs, batch size, optimizer, learning rate and schedule, weight
    /// decay, seed (its model and data set are A's, filled in by the request).
    public var training: CurveTrainingSettings
    /// The data: A's training data unless another set is named; `sets` evaluated along the paths.
    public var data: EvaluationData
    /// Points along t ∈ [0, 1] (at least 2).
    public var points: Int
    /// Points per axis of the plane (0: no plane), over α and β from −0.25 to 1.25.
    public var planeGrid: Int
    /// Batch-norm statistics from a fixed random subset of this many training samples (nil: all).
    public var batchNormSubset: Int?
    /// The output folder.
    public var output: String
    public var overwrite: Bool

    /// The plane's axes: both from −0.25 to 1.25, so that A (0, 0), B (1, 0), the bend (0, 1) and
    /// the whole curve lie inside with a margin.
    public static let planeRange = (minimum: -0.25, maximum: 1.25)

    public init(a: String, b: String, curve: ConnectingCurve = .bezier, training: CurveTrainingSettings = CurveTrainingSettings(),
                data: EvaluationData = EvaluationData(sets: [.train, .test]), points: Int = 61, planeGrid: Int = 13,
                batchNormSubset: Int? = nil, output: String = "connect", overwrite: Bool = false) {
        self.a = a
        self.b = b
        self.curve = curve
        self.training = training
        self.data = data
        self.points = points
        self.planeGrid = planeGrid
        self.batchNormSubset = batchNormSubset
        self.output = output
        self.overwrite = overwrite
    }

    /// The files written.
    public var curveCheckpoint: String { path("curve.safetensors") }
    public var trainingFolder: String { path("training") }
    public var curveSurface: String { path("curve.h5") }
    public var planeSurface: String { path("plane.h5") }
    public var directionFile: String { path("plane.directions.h5") }

    private func path(_ name: String) -> String { URL(fileURLWithPath: output).appendingPathComponent(name).path }

    /// Checks what needs no file: the numbers of points and the subset.
    public func validate() throws {
        guard points >= 2 else {
            throw RequestError("--points must be at least 2 (t = 0 and t = 1): a curve of \(points) point\(points == 1 ? "" : "s") has no barrier")
        }
        guard planeGrid == 0 || planeGrid >= 2 else { throw RequestError("--plane-grid must be 0 (no plane) or at least 2, got \(planeGrid)") }
        if let batchNormSubset, batchNormSubset < 1 { throw RequestError("--bn-subset must be at least 1, got \(batchNormSubset)") }
        guard points <= Axis.maximumCount else { throw RequestError("--points: at most \(Axis.maximumCount), got \(points)") }
        try SurfaceGrid(x: Array(repeating: 0, count: planeGrid), y: Array(repeating: 0, count: planeGrid))
            .checkSize(fields: SurfaceQuantity.quantities(for: data.sets).count)
    }

    @discardableResult
    public func run(progress: RequestProgress = .standard()) throws -> ConnectResult {
        try validate()
        // The bend's training is not split over ranks, and every rank would write its files.
        guard Distributed.world.size == 1 else {
            throw RequestError("terrain connect runs in one process (the bend's training is not split over ranks): run it without mpirun")
        }
        let checkpointA = try Self.readCheckpoint(a, role: "A"), checkpointB = try Self.readCheckpoint(b, role: "B")
        var specB = checkpointB.spec
        specB.seed = checkpointA.spec.seed
        guard specB == checkpointA.spec else {
            let (nameA, nameB) = (checkpointA.spec.architecture, checkpointB.spec.architecture)
            let what = nameA == nameB ? "two \(nameA) models of other sizes" : "\(nameA) and \(nameB)"
            throw RequestError("\(a) and \(b) are different models (\(what)); a curve connects two models of one architecture")
        }
        // The training's numbers are checked before any data are read or any folder is made.
        do { try training.config(model: checkpointA.spec, dataset: "").validate() } catch { throw RequestError("\(error)") }
        let loaded = try ModelSource.checkpoint(a).load(on: data, progress: progress)
        let network = try loaded.requireNetwork(for: "connect")
        let trainData = network.data.train
        network.batchNormData = batchNormSubset.map { trainData.randomSubset(size: min($0, trainData.count), seed: data.subsetSeed &+ 2) }
            ?? trainData
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)

        try trainBend(a: checkpointA, b: checkpointB, data: trainData, description: loaded.dataDescription, progress: progress)

        // The plane through A, B and the bend, and the two paths in it.
        let groups = network.groups
        let thetaA = network.parameters()
        let thetaB = try ModelSource.checkpoint(b).parameters(groups: groups)
        let thetaBend = try ModelSource.checkpoint(curveCheckpoint).parameters(groups: groups)
        let directions = [Direction.between(thetaA, thetaB, groups: groups, type: .weights),
                          Direction.between(thetaA, thetaBend, groups: groups, type: .weights)]
        try Direction.checkSpan([directions[0]], names: ["B − A (\(b) − \(a))"])
        var origin = DirectionOrigin()
        origin.a = a
        origin.b = b
        origin.c = curveCheckpoint
        let directionAttributes = try DirectionMetadata(origin: origin).attributes
        let writeDirections = { [directionFile] in
            try DirectionFile.write(directions, groups: groups, type: .weights, counters: [:], attributes: directionAttributes, to: directionFile)
        }
        let positions = Axis(minimum: 0, maximum: 1, count: points).coordinates
        let curvePath = positions.map { curve.planeCoordinates(at: $0) }
        let paths = [PlanePathComputation.Path(name: "curve", coordinates: curvePath),
                     PlanePathComputation.Path(name: "line", coordinates: positions.map { ($0, 0) })]
        let hasBatchNorm = !network.model.batchNormLayers.isEmpty
        let batchNorm = hasBatchNorm ? "recomputed at every point on \(network.batchNormData?.count ?? 0) training samples" : "none in the model"
        // The statistics' samples are part of the data each point is evaluated on: a resumed grid
        // must not mix points of two subsets.
        let evaluated = loaded.dataDescription + (hasBatchNorm ? batchNormSubset.map { " bn-subset \($0)" } ?? "" : "")

        // Along the curve and the line.
        let computation = try PlanePathComputation(objective: network, center: thetaA, xDirection: directions[0], yDirection: directions[1],
                                                   positions: positions, paths: paths, sets: data.sets)
        if data.spread.spreadsPoints { try computation.spreadPointsOverThreads() }
        var metadata = SurfaceMetadata(origin: DirectionOrigin())
        metadata.from = a
        metadata.to = b
        metadata.c = curveCheckpoint
        metadata.kind = "connect"
        metadata.curve = curve.rawValue
        metadata.batchNorm = batchNorm
        metadata.data = evaluated
        metadata.version = TerrainVersion.current
        metadata.directionType = .weights
        metadata.directionsDigest = DirectionFile.digest(directions, groups: groups, type: .weights)
        metadata.distance = directions[0].norm
        var options = SurfaceRunner.Options()
        options.directionFile = directionFile
        options.writeRequestFiles = writeDirections
        options.progressLabel = "curve"
        let runner = SurfaceRunner.forRequest(computation: computation, path: curveSurface, fingerprint: computation.fingerprint(data: evaluated),
                                              options: options, attributes: try FileAttributes(encoding: metadata), progress: progress)
        progress.note("connect: \(points) points along the \(curve.title) and the line on \(loaded.dataDescription); batch norm: \(batchNorm)")
        var curveFile = try runner.run(overwrite: overwrite)
        runner.reportNotes(path: curveSurface, progress: progress)
        let result = ConnectResult(file: curveFile)
        for (name, value) in result.attributes { curveFile.numberAttributes[name] = value }
        try curveFile.write(to: curveSurface)

        // The plane, with the curve drawn on it.
        let planeFile = planeGrid > 0
            ? try measurePlane(network: network, center: thetaA, directions: directions, origin: origin, curvePath: curvePath,
                               writeDirections: writeDirections, description: evaluated, batchNorm: batchNorm, progress: progress)
            : nil
        var finished = result
        finished.curveFile = curveFile
        finished.planeFile = planeFile
        return finished
    }

    /// The bend: trained (or continued from a stopped training), or reused when this request
    /// trained it already (`curve.safetensors` records the request).
    private func trainBend(a checkpointA: Checkpoint, b checkpointB: Checkpoint, data trainData: Dataset, description: String,
                           progress: RequestProgress) throws {
        let trainer = try CurveTrainer(curve: curve, config: training.config(model: checkpointA.spec, dataset: description),
                                       folder: URL(fileURLWithPath: trainingFolder),
                                       identity: "A \(a) B \(b) data \(description)")
        trainer.showProgress = progress.showsBar
        trainer.onResume = { progress.note("curve: continuing the training stopped after epoch \($0)") }
        trainer.onEpoch = { summary in
            var line = String(format: "curve epoch %d/%d  lr %.4g  loss %.4f", summary.epoch, training.epochs, summary.learningRate, summary.train.loss)
            if let accuracy = summary.train.accuracy { line += String(format: "  acc %.2f%%", accuracy) }
            progress.note(line)
        }
        let requestKey = "terrain.curve.request"
        // A curve of this request is kept even with `overwrite` (training it again would give the
        // same bits); one of another request is replaced only with `overwrite`.
        let existing = FileManager.default.fileExists(atPath: curveCheckpoint) ? try Self.readCheckpoint(curveCheckpoint, role: "the curve") : nil
        if let existing, existing.metadata[requestKey] == trainer.requestJSON {
            progress.note("curve: \(curveCheckpoint) is this request's, trained already")
        } else {
            if existing != nil {
                guard overwrite else {
                    throw RequestError("\(curveCheckpoint) holds a curve of another request (curve, end points, data or training options); pass --overwrite to train it again")
                }
                try FileManager.default.removeItem(atPath: curveCheckpoint)
            }
            progress.note("curve: training the bend of a \(curve.title) between \(a) and \(b), \(training.epochs) epoch\(training.epochs == 1 ? "" : "s") on \(description)")
            try trainer.run(a: checkpointA, b: checkpointB, data: trainData, resume: !overwrite, output: URL(fileURLWithPath: curveCheckpoint),
                            metadata: [requestKey: trainer.requestJSON, "terrain.curve.a": a, "terrain.curve.b": b])
        }
    }

    /// The plane A + α·(B − A) + β·(θ_b − A) over α, β ∈ `planeRange`, the curve drawn on it.
    private func measurePlane(network: ModelObjective<Float>, center thetaA: [Double], directions: [Direction], origin: DirectionOrigin,
                              curvePath: [(alpha: Double, beta: Double)], writeDirections: @escaping () throws -> Void, description: String,
                              batchNorm: String, progress: RequestProgress) throws -> SurfaceFile {
        let axis = Axis(minimum: Self.planeRange.minimum, maximum: Self.planeRange.maximum, count: planeGrid).coordinates
        try Direction.checkSpan(directions, names: ["B − A (\(b) − \(a))", "θ_b − A (\(curveCheckpoint) − \(a))"])
        var planeMetadata = SurfaceMetadata(origin: origin)
        planeMetadata.kind = "connect"
        planeMetadata.curve = curve.rawValue
        planeMetadata.batchNorm = batchNorm
        planeMetadata.directionCosine = Direction.cosine(directions[0], directions[1])
        return try LandscapeJob(
            objective: network, spread: data.spread, center: thetaA, directions: directions, directionType: .weights,
            grid: SurfaceGrid(x: axis, y: axis), sets: data.sets, dataDescription: description, out: planeSurface,
            directionPath: directionFile, directionOutput: .custom(writeDirections), metadata: planeMetadata,
            extraDatasets: ["path_x": curvePath.map(\.alpha), "path_y": curvePath.map(\.beta)],
            announcement: "plane: \(planeGrid * planeGrid) points through A, B and the bend; batch norm: \(batchNorm)"
        ).run(progress: progress, overwrite: overwrite)
    }

    /// A Terrain checkpoint, or a request error saying that the file is not one.
    static func readCheckpoint(_ path: String, role: String) throws -> Checkpoint {
        do {
            return try Checkpoint.read(from: URL(fileURLWithPath: path))
        } catch {
            throw RequestError("\(role) (\(path)) is not a Terrain checkpoint: \(error)")
        }
    }
}

/// How the bend of a curve is trained (`ConnectRequest.training`): `TrainingConfig`'s options
/// that apply to it, with Garipov et al.'s kind of defaults for a short run.
public struct CurveTrainingSettings: Sendable, Equatable {
    public var epochs: Int
    public var batchSize: Int
    public var optimizer: OptimizerKind
    public var learningRate: Double
    public var momentum: Double
    public var weightDecay: Double
    public var schedule: String
    public var seed: UInt64

    public init(epochs: Int = 10, batchSize: Int = 128, optimizer: OptimizerKind = .sgd, learningRate: Double = 0.03,
                momentum: Double = 0.9, weightDecay: Double = 5e-4, schedule: String = "constant", seed: UInt64 = 0) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.schedule = schedule
        self.seed = seed
    }

    /// The training configuration of the bend of a `model` curve on `dataset` (a description).
    public func config(model: ModelSpec, dataset: String) -> TrainingConfig {
        var config = TrainingConfig(model: model, dataset: dataset)
        config.epochs = epochs
        config.batchSize = batchSize
        config.optimizer = optimizer
        config.learningRate = learningRate
        config.momentum = momentum
        config.weightDecay = weightDecay
        config.schedule = schedule
        config.seed = seed
        return config
    }
}

/// What `terrain connect` found: per set, the barrier along the curve and along the line, and
/// the end losses.
public struct ConnectResult {
    public struct Barriers: Sendable, Equatable {
        public var set: EvaluationSet
        /// max over t of L(t) − ((1 − t)·L(A) + t·L(B)) (`PathBarrier`).
        public var line: Double
        public var curve: Double
        /// Where along t each is reached.
        public var lineAt: Double
        public var curveAt: Double
        public var lossA: Double
        public var lossB: Double
    }

    public var barriers: [Barriers]
    public var curveFile: SurfaceFile?
    public var planeFile: SurfaceFile?

    /// The barriers of a curve file (`curve.h5`): the curve's losses and the line's `line_*`.
    public init(file: SurfaceFile) {
        var found: [Barriers] = []
        for (set, loss) in [(EvaluationSet.train, SurfaceQuantity.trainLoss), (.test, .testLoss)] {
            guard let curve = file.values[loss], let line = file.extraDatasets["line_\(loss.rawValue)"],
                  let c = PathBarrier.of(t: file.grid.x, losses: curve), let l = PathBarrier.of(t: file.grid.x, losses: line) else { continue }
            found.append(Barriers(set: set, line: l.barrier, curve: c.barrier, lineAt: l.at, curveAt: c.at,
                                  lossA: curve.first!, lossB: curve.last!))
        }
        barriers = found
    }

    /// The file attributes of the barriers: terrain.barrier.curve.train, terrain.barrier.line.test, ….
    public var attributes: [String: Double] {
        var result: [String: Double] = [:]
        for b in barriers {
            result["terrain.barrier.curve.\(b.set.rawValue)"] = b.curve
            result["terrain.barrier.line.\(b.set.rawValue)"] = b.line
        }
        return result
    }
}
