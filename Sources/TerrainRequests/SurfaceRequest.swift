import TerrainTensor
import Foundation
import TerrainLandscape
import TerrainObjectives

/// The loss (and accuracy) on a 1D or 2D grid around a model, along two directions:
/// L(θ + α·δ + β·η) for α on `x` and β on `y` (`terrain surface`).
///
/// Writes `output` (HDF5, the reference's layout) and, unless the directions come from a file,
/// `directionOutput`. A run stopped at any moment resumes where it stopped when run again.
///
///     let request = SurfaceRequest(model: .checkpoint("run/final.safetensors"), x: Axis(minimum: -1, maximum: 1, count: 21),
///                                  y: Axis(minimum: -1, maximum: 1, count: 21), output: "surface.h5")
///     let surface = try request.run()
public struct SurfaceRequest {
    /// Where the directions come from.
    public enum Directions {
        /// Seeded Gaussian directions, normalized against the weights.
        case random(RandomDirections)
        /// The directions of an HDF5 direction file (xdirection, ydirection), of `type`.
        case file(String, type: TensorSet = .weights)
        /// Exact coordinates along named parameters: `NAME` or `NAME:ELEMENT` (e.g. fc.weight:3),
        /// unnormalized; `y` is needed for a 2D surface.
        case parameters(x: String, y: String?)
    }

    public var model: ModelSource
    public var data: EvaluationData
    public var x: Axis
    /// nil: a 1D curve.
    public var y: Axis?
    public var directions: Directions
    /// A run folder whose checkpoints are projected onto the plane (path_x, path_y, …).
    public var path: String?
    /// Compute a coarse grid, then only the cells whose contours are unresolved (2D, one process).
    public var adaptive: AdaptiveSettings?
    /// Estimate each point's loss on a growing prefix of a seeded order of the data until its
    /// standard error is within a tolerance (`DataSampling`); nil: every point on the whole set.
    public var sampling: DataSampling?
    public var output: String
    /// Replace an existing output of a different request.
    public var overwrite: Bool
    /// Compute the slice several times, along other random directions or on other subsets, and
    /// store the members with their mean and standard deviation (`SurfaceRepeats`); nil (or one
    /// member): one surface.
    public var repeats: Repeats?

    /// An ensemble of surfaces: `members` slices differing by `kind`. Member k draws from the
    /// seed + 2k (`SurfaceRepeats.memberSeed`), so member 0 is the plain run and member k the
    /// plain run with `--seed` (or `--subset-seed`) seed + 2k.
    public struct Repeats: Equatable, Sendable {
        public var kind: SurfaceRepeats.Kind
        public var members: Int
        public init(kind: SurfaceRepeats.Kind, members: Int) { self.kind = kind; self.members = members }

        /// The most members an ensemble may have.
        public static let maximumMembers = 1000

        /// The option asking for it.
        public var option: String { kind == .directions ? "--repeats" : "--subset-repeats" }
    }

    public init(model: ModelSource, data: EvaluationData = EvaluationData(), x: Axis, y: Axis? = nil,
                directions: Directions = .random(RandomDirections()), path: String? = nil, adaptive: AdaptiveSettings? = nil,
                output: String = "surface.h5", overwrite: Bool = false, repeats: Repeats? = nil, sampling: DataSampling? = nil) {
        self.repeats = repeats
        self.sampling = sampling
        self.model = model
        self.data = data
        self.x = x
        self.y = y
        self.directions = directions
        self.path = path
        self.adaptive = adaptive
        self.output = output
        self.overwrite = overwrite
    }

    /// The direction file: the one read, or the one written beside the output (S.directions.h5).
    public var directionOutput: String {
        if case .file(let file, _) = directions { return file }
        return LandscapeJob.directionPath(for: output)
    }

    /// The direction type the directions are in (named parameters: every tensor, so `states`).
    var directionType: TensorSet {
        switch directions {
        case .random(let random): random.type
        case .file(_, let type): type
        case .parameters: .states
        }
    }

    /// The tensors said to move in the announcement: those the directions' type covers (for
    /// named parameters, the trainable ones, as the program has always said).
    private var announcedType: TensorSet {
        if case .parameters = directions { return .weights }
        return directionType
    }

    /// Checks what needs no loading: adaptive settings and their fit to the grid, repeats and
    /// what they go with.
    public func validate() throws {
        if let repeats {
            let option = repeats.option
            guard repeats.members >= 1, repeats.members <= Repeats.maximumMembers else {
                throw RequestError("\(option) takes a number of members from 1 to \(Repeats.maximumMembers), got \(repeats.members)")
            }
            switch (repeats.kind, directions) {
            case (.directions, .file(let file, _)):
                throw RequestError("--repeats draws its members' directions from --seed, but --directions \(file) gives one fixed pair: "
                                   + "drop --repeats, or use --subset-repeats for these directions on several data subsets")
            case (.directions, .parameters):
                throw RequestError("--repeats draws random directions, but --x-axis/--y-axis give fixed axes: drop one of them")
            case (.subsets, _) where data.subset == nil:
                throw RequestError("--subset-repeats \(repeats.members) draws \(repeats.members) subsets of --subset N samples each: give --subset too")
            case (.subsets, _) where model.path == nil:
                throw RequestError("--subset-repeats draws subsets of the data a checkpoint or ONNX model is evaluated on; an objective given in Swift has none")
            default: break
            }
            if adaptive != nil && repeats.members > 1 {
                throw RequestError("--adaptive refines one surface from its own values; \(option) computes every member in full: drop one of them")
            }
        }
        if let sampling {
            do { try sampling.validate() } catch let error as LandscapeError { throw RequestError("--data-tolerance: \(error)") }
            if let repeats, repeats.members > 1 {
                throw RequestError("--data-tolerance samples one surface; \(repeats.option) computes an ensemble on the whole data: drop one of them")
            }
        }
        if let adaptive {
            guard y != nil else { throw RequestError("--adaptive refines 2D surfaces: give --y too (a 1D curve is cheap to compute in full)") }
            guard Distributed.world.size == 1 else {
                throw RequestError("--adaptive runs in one process (each round's points depend on the last round's values): run it without mpirun")
            }
            try adaptive.validate()
        }
    }

    /// Computes the surface (resuming a stopped run), writes its files and returns it.
    @discardableResult
    public func run(progress: RequestProgress = .standard()) throws -> SurfaceFile {
        try validate()
        let count = y == nil ? 1 : 2
        let loaded = try model.load(on: data, progress: progress)
        let objective = loaded.objective
        let theta = objective.parameters()
        let groups = objective.groups
        var dirs: [Direction]
        var metadata = SurfaceMetadata()
        metadata.name(model)
        metadata.spacing = x.spacing
        var directionWrite = LandscapeJob.DirectionOutput.existing
        let type = directionType
        switch directions {
        case .parameters(let xName, let yName):
            // Exact coordinates along named parameters: for models small enough to draw as they are.
            dirs = try [xName, yName].prefix(count).map { spec in
                guard let spec else { throw RequestError("--x-axis needs --y-axis for a 2D surface") }
                let parts = spec.split(separator: ":")
                guard parts.count <= 2, let element = parts.count == 2 ? Int(parts[1]) : 0 else {
                    throw RequestError("an axis is NAME or NAME:ELEMENT, got '\(spec)'")
                }
                return try Direction.axis(String(parts[0]), element: element, groups: groups)
            }
            metadata.axes = [xName, yName ?? ""].joined(separator: ",")
            var directionMetadata = DirectionMetadata()
            directionMetadata.axes = metadata.axes
            directionWrite = .write(directionMetadata, counters: [:])
        case .file(let file, _):
            dirs = try DirectionFile.read(from: file, groups: groups, type: type)
            guard dirs.count >= count else { throw RequestError("\(file) has no ydirection for a 2D surface") }
            dirs = Array(dirs.prefix(count))
        case .random(let random):
            // Every rank draws the same directions from the seed; only rank 0 writes them.
            let recipe = random.recipe
            dirs = recipe.directions(count: count, for: theta, groups: groups)
            random.record(count: dirs.count, in: &metadata)
            // Random `states` directions carry each batch-norm counter as the reference draws
            // it: a copy of the counter, or 0 where that axis ignores biases and BN.
            var counters: [String: [Double]] = [:]
            if random.type == .states {
                counters = try model.batchCounters().mapValues { value in
                    dirs.indices.map { recipe.oneDimensional[$0] == .leftOut ? 0 : value }
                }
            }
            directionWrite = .write(DirectionMetadata(surface: metadata), counters: counters)
        }
        // Zero or parallel directions (the same axis twice, a direction file of zeros) would
        // give a constant surface, or a plane that is only a line.
        try Direction.checkSpan(dirs, names: ["x", "y"].map { "of the \($0) axis" })
        let grid = SurfaceGrid(x: x.coordinates, y: y?.coordinates ?? [])
        var extra: [String: [Double]] = [:]
        if let path {
            let history = try RunHistory(folder: path)
            let thetas = try history.entries.map { try RunHistory.parameters(of: $0.path, groups: groups) }
            extra = history.pathDatasets(try PathProjection.project(thetas, center: theta, x: dirs[0], y: dirs.count > 1 ? dirs[1] : nil))
        }
        let cosine = dirs.count > 1 ? Direction.cosine(dirs[0], dirs[1]) : 1
        metadata.directionCosine = cosine
        var ensemble: LandscapeJob.Ensemble?
        var ensembleNote = ""
        if let repeats, repeats.members > 1 {
            ensemble = try members(of: repeats, first: dirs, objective: objective, dataDescription: loaded.dataDescription,
                                   center: theta, count: count)
            let seeds = ensemble!.members.map { String($0.seed) }
            ensembleNote = "; \(repeats.members) members, each " + (repeats.kind == .directions
                ? "along its own directions (--seed \(seeds.joined(separator: ", ")))"
                : "on its own subset (--subset-seed \(seeds.joined(separator: ", ")))")
        }
        return try LandscapeJob(
            objective: objective, spread: data.spread, center: theta, directions: dirs, directionType: type,
            grid: grid, sets: data.sets, dataDescription: loaded.dataDescription, out: output, directionPath: directionOutput,
            directionOutput: directionWrite, metadata: metadata, extraDatasets: extra, adaptive: adaptive, sampling: sampling, ensemble: ensemble,
            announcement: "surface: \(grid.pointCount) point\(grid.pointCount == 1 ? "" : "s") (\(grid.shape.map(String.init).joined(separator: "x"))) on \(loaded.dataDescription); "
                + "\(groups.filter(announcedType.covers).count) tensors move"
                + (dirs.count > 1 ? String(format: "; cosine between the directions %.2e", cosine) : "") + ensembleNote
        ).run(progress: progress, overwrite: overwrite)
    }

    /// The members of an ensemble: member 0 is the plain run (`first`, `objective`); member k
    /// draws its directions from --seed + 2k, or its subset from --subset-seed + 2k (the model
    /// loaded again on it), along the same directions.
    private func members(of repeats: Repeats, first: [Direction], objective: any Objective, dataDescription: String,
                         center: [Double], count: Int) throws -> LandscapeJob.Ensemble {
        var members: [LandscapeJob.Ensemble.Member] = []
        switch (repeats.kind, directions) {
        case (.directions, .random(let random)):
            members.append(.init(objective: objective, directions: first, seed: random.seed, dataDescription: dataDescription))
            for k in 1..<repeats.members {
                var drawn = random
                drawn.seed = SurfaceRepeats.memberSeed(random.seed, member: k)
                let dirs = drawn.recipe.directions(count: count, for: center, groups: objective.groups)
                try Direction.checkSpan(dirs, names: ["x", "y"].map { "of the \($0) axis of member \(k)" })
                members.append(.init(objective: objective, directions: dirs, seed: drawn.seed, dataDescription: dataDescription))
            }
        case (.subsets, _):
            members.append(.init(objective: objective, directions: first, seed: data.subsetSeed, dataDescription: dataDescription))
            for k in 1..<repeats.members {
                var subset = data
                subset.subsetSeed = SurfaceRepeats.memberSeed(data.subsetSeed, member: k)
                let loaded = try model.load(on: subset, progress: .silent)
                guard loaded.objective.groups == objective.groups else {
                    throw RequestError("member \(k) of --subset-repeats loaded a model with other parameters than member 0's")
                }
                loaded.objective.setParameters(center)
                members.append(.init(objective: loaded.objective, directions: first, seed: subset.subsetSeed,
                                     dataDescription: loaded.dataDescription))
            }
        default:
            throw RequestError("--repeats draws random directions (validate refuses the others)")
        }
        // Each member records its directions' digest, as a surface does, so that directions drawn
        // again from its seed can be checked against the ones it was computed along.
        for k in members.indices {
            members[k].attributes[DirectionFile.digestAttribute] = DirectionFile.digest(members[k].directions, groups: objective.groups,
                                                                                         type: directionType)
        }
        return LandscapeJob.Ensemble(kind: repeats.kind, members: members)
    }
}

extension DirectionMetadata {
    /// A random surface's direction file records what its surface records about the model,
    /// the spacing and the draws: the same origin.
    init(surface: SurfaceMetadata) {
        self.init()
        origin = surface.origin
    }
}
