import TerrainTensor
import Foundation
import TerrainIO
import TerrainLandscape
import TerrainObjectives
import TerrainData

/// What every surface-like request (surface, plane, interpolation, trajectory) does once its
/// directions are known: rank 0 writes the direction file, all ranks compute the grid resumably
/// into `out`, the file records `metadata`.
struct LandscapeJob {
    /// How the direction file comes to be.
    enum DirectionOutput {
        /// Given by the user: not written.
        case existing
        /// Written from the directions with this metadata (and `states` counters).
        case write(DirectionMetadata, counters: [String: [Double]])
        /// Written by the request itself (a PCA plane's file holds more than the directions).
        case custom(() throws -> Void)
    }

    var objective: any Objective
    var spread: ThreadUse
    var center: [Double]
    var directions: [Direction]
    var directionType: TensorSet
    var grid: SurfaceGrid
    var sets: [EvaluationSet]
    var dataDescription: String
    var out: String
    var directionPath: String
    var directionOutput: DirectionOutput
    var metadata: SurfaceMetadata
    var extraDatasets: [String: [Double]] = [:]
    /// Compute only the points an adaptive refinement asks for (2D surfaces); nil: every point.
    var adaptive: AdaptiveSettings? = nil
    /// Estimate each point's loss on a prefix of the data (`DataSampling`); nil: the whole set.
    var sampling: DataSampling? = nil
    /// Several surfaces (`--repeats`, `--subset-repeats`): every member, member 0 being the one
    /// `objective` and `directions` describe; nil: one surface.
    var ensemble: Ensemble? = nil
    /// The line said before the computation starts.
    var announcement: String

    /// The members of an ensemble of surfaces (`SurfaceRepeats`, `RepeatedSurfaceComputation`).
    struct Ensemble {
        struct Member {
            var objective: any Objective
            var directions: [Direction]
            var seed: UInt64
            /// The data as the member's fingerprint records it (a subset's own seed).
            var dataDescription: String
            /// Its stored group's attributes (the digest of its directions).
            var attributes: [String: String] = [:]
        }
        var kind: SurfaceRepeats.Kind
        var members: [Member]

        /// The fingerprint of every member's surface, combined.
        func fingerprint(center: [Double], grid: SurfaceGrid, sets: [EvaluationSet], precision: EvaluationPrecision) -> String {
            RepeatedSurfaceComputation.fingerprint(kind: kind, memberFingerprints: members.map {
                SurfaceRunner.fingerprint(center: center, directions: $0.directions, grid: grid, sets: sets,
                                          data: $0.dataDescription + PrecisionCheck.fingerprintTag(precision))
            })
        }

        func computation(center: [Double], grid: SurfaceGrid, sets: [EvaluationSet]) throws -> RepeatedSurfaceComputation {
            try RepeatedSurfaceComputation(kind: kind, members: members.map {
                RepeatedSurfaceComputation.Member(objective: $0.objective, xDirection: $0.directions[0],
                      yDirection: $0.directions.count > 1 ? $0.directions[1] : nil, seed: $0.seed, attributes: $0.attributes)
            }, center: center, grid: grid, sets: sets)
        }
    }

    func run(progress: RequestProgress, overwrite: Bool) throws -> SurfaceFile {
        let world = Distributed.world
        // The request is checked (the grid's size among it) before any file is touched.
        let computation = try SurfaceComputation(objective: objective, center: center, xDirection: directions[0],
                                                 yDirection: directions.count > 1 ? directions[1] : nil, grid: grid, sets: sets,
                                                 sampling: sampling)
        if world.isWriter {
            for path in [out, directionPath] { try OutputPath.checkFile(path) }
            // The output's folder is made here, not discovered missing after the computation.
            for path in [out, directionPath] {
                try FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(),
                                                        withIntermediateDirectories: true)
            }
        }
        var gridComputation: any GridComputation = computation
        // A bf16 run is another request than a Float one (its values differ): the fingerprint
        // says so, and so does `terrain.precision`.
        let network = objective as? ModelObjective<Float>
        let precision = network?.precision ?? .fp32
        let tag = PrecisionCheck.fingerprintTag(precision)
        var fingerprint = SurfaceRunner.fingerprint(center: center, directions: directions, grid: grid, sets: sets, data: dataDescription + tag)
        if let ensemble {
            let repeated = try ensemble.computation(center: center, grid: grid, sets: sets)
            if spread.spreadsPoints { try repeated.spreadPointsOverThreads() }
            gridComputation = repeated
            fingerprint = ensemble.fingerprint(center: center, grid: grid, sets: sets, precision: precision)
        } else {
            try spread.apply(to: computation)
        }
        // A sampled surface's request names its sampling: other settings give other values.
        var request = dataDescription + tag + computation.samplingRequestTag
        var announcement = announcement + (precision == .fp32 ? "" : "; \(precision.rawValue) products")
        // The pilot's rows depend on the sampled request, adaptive or not.
        var pilotFingerprint: String?
        if let sampling {
            fingerprint = SurfaceRunner.fingerprint(center: center, directions: directions, grid: grid, sets: sets, data: request)
            pilotFingerprint = fingerprint
            announcement += "; sampled: \(sampling.description) on prefixes of one order of the data (--data-seed \(sampling.seed))"
        }
        if let adaptive {
            let refining = try AdaptiveSurfaceComputation(surface: computation, levels: adaptive.levels, tolerance: adaptive.tolerance,
                                                          contourLevels: adaptive.contourLevels)
            gridComputation = refining
            request += AdaptiveSurfaceComputation.requestTag(levels: refining.plan.levels, tolerance: adaptive.tolerance,
                                                             contourLevels: adaptive.contourLevels)
            announcement += "; adaptive: coarse stride \(1 << refining.plan.levels), tolerance \(adaptive.tolerance) of a level spacing"
            fingerprint = SurfaceRunner.fingerprint(center: center, directions: directions, grid: grid, sets: sets, data: request)
        }
        var options = SurfaceRunner.Options()
        options.directionFile = directionPath
        // Only once the output is known to be of this request (or overwrite): a refused run
        // changes no file, and the surface and its direction file always agree.
        let (directions, groups, type, path) = (directions, objective.groups, directionType, directionPath)
        switch directionOutput {
        case .existing: break
        case .write(let directionMetadata, let counters):
            let attributes = try directionMetadata.attributes
            options.writeRequestFiles = {
                try DirectionFile.write(directions, groups: groups, type: type, counters: counters, attributes: attributes, to: path)
            }
        case .custom(let write):
            options.writeRequestFiles = write
        }
        var metadata = metadata
        metadata.data = dataDescription
        metadata.precision = precision == .fp32 ? nil : precision
        metadata.version = TerrainVersion.current
        metadata.directionType = directionType
        metadata.directionsDigest = DirectionFile.digest(directions, groups: groups, type: type)
        options.extraDatasets = extraDatasets
        options.storesPerplexity = SurfaceRunner.storesPerplexity(for: objective)
        let runner = SurfaceRunner.forRequest(computation: gridComputation, path: out,
                                              fingerprint: fingerprint,
                                              options: options, attributes: try FileAttributes(encoding: metadata), progress: progress)
        // One process computes this output at a time, from its pilot to its bf16 check (`OutputLock`,
        // taken by `completedOutput` in one process; under mpirun by `run`, for its own span).
        defer { runner.releaseOutput() }
        // The same command again, for its figures: nothing to compute, not even a pilot.
        if var result = try runner.completedOutput(overwrite: overwrite) {
            progress.note("\(out) already holds every point of this request: nothing to compute (--overwrite computes it again)")
            // A pilot journal a run killed after its last point left behind.
            if pilotFingerprint != nil { unlink(SurfaceComputation.PilotJournal.path(besides: out)) }
            summarize(result, progress: progress)
            try PrecisionCheck.record(network: network, surface: computation, in: &result, path: out, progress: progress)
            return result
        }
        if let pilotFingerprint {
            try preparePilot(of: computation, fingerprint: pilotFingerprint, progress: progress)
        }
        progress.note(announcement + (world.size > 1 ? "; \(world.size) ranks" : ""))
        var result = try runner.run(overwrite: overwrite)
        if pilotFingerprint != nil && world.isWriter { unlink(SurfaceComputation.PilotJournal.path(besides: out)) }
        runner.reportNotes(path: out, progress: progress)
        summarize(result, progress: progress)
        try PrecisionCheck.record(network: network, surface: computation, in: &result, path: out, progress: progress)
        return result
    }

    /// What a finished surface saved: the points adaptive refinement left out, the samples sampling did.
    private func summarize(_ result: SurfaceFile, progress: RequestProgress) {
        if let saving = AdaptiveSurfaceComputation.summary(of: result) { progress.note(saving) }
        if let saving = DataSampling.summary(of: result) { progress.note(saving) }
    }

    /// A sampled surface's pilot, kept in `S.h5.pilot.journal` as it is computed so that a run
    /// killed after any of its points does not evaluate them again (the journal goes once the
    /// surface is complete). One process writes it, once `completedOutput` has found that the
    /// output may be written: a refused request changes no file and wastes no pilot. Under mpirun every rank
    /// evaluates the pilot (none waits for another's), reading a journal an earlier run left but
    /// writing none (rank 0 learns whether the output is refused only when the run starts).
    private func preparePilot(of computation: SurfaceComputation, fingerprint: String, progress: RequestProgress) throws {
        let world = Distributed.world
        progress.note("sampling: first the pilot lattice (\(computation.samplingPilotDescription)) on the whole data: the levels and the other points' references")
        let journal = SurfaceComputation.PilotJournal(path: SurfaceComputation.PilotJournal.path(besides: out), fingerprint: fingerprint,
                                                      writes: world.size == 1, showsProgress: progress.showsBar && world.isWriter)
        let kept = try computation.prepareSampling(keepingPilotIn: journal)
        if kept > 0 { progress.note("sampling: \(kept) of the pilot's points read back from \(journal.path)") }
    }

    /// The direction file beside a surface: S.h5 → S.directions.h5.
    static func directionPath(for out: String) -> String {
        stem(of: out) + ".directions.h5"
    }

    /// A file's name without `.h5`.
    static func stem(of out: String) -> String {
        out.hasSuffix(".h5") ? String(out.dropLast(3)) : out
    }
}
