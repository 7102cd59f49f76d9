import Foundation
import TerrainIO

/// Runs a `GridComputation` (a loss surface, a curvature map) into a surface file, resumably.
///
/// The file exists from the start (all NaN), every finished point goes to the journal at once,
/// and the file is rewritten atomically every `consolidationInterval` seconds and at the end.
/// A run killed at any moment and started again with the same request adopts every point the
/// file and the journal hold and computes only the rest; since each point is computed from the
/// centre independently, the final file is bit-identical to an uninterrupted run's.
///
/// The file holds what `options.baseFile` holds (nothing by default) with the computation's
/// values stored over it, so a curvature map can be added to an existing loss surface. The run's
/// own attributes are named with `options.attributePrefix`: `<prefix>request` (the fingerprint),
/// `<prefix>seconds` and `<prefix>resumed_points`.
public final class SurfaceRunner {
    /// How a run writes its file, given once at `init`: what the file holds besides the
    /// computation's values, how often it is consolidated, how progress is shown, which processes
    /// share the run.
    public struct Options {
        /// The direction file the surface names (`dir_file`); empty: none, or the base file's.
        public var directionFile = ""
        public var textAttributes: [String: String] = [:]
        public var numberAttributes: [String: Double] = [:]
        public var extraDatasets: [String: [Double]] = [:]
        /// Store exp(loss) beside each loss (`SurfacePerplexity`): the loss is a next-token
        /// cross-entropy.
        public var storesPerplexity = false
        /// Seconds between rewrites of the whole file (the journal holds every point meanwhile).
        public var consolidationInterval: TimeInterval = 20
        public var showProgress = true
        /// The progress bar's label.
        public var progressLabel = "surface"
        /// The file whose datasets and attributes the run's file keeps (the computation's values,
        /// the run's attributes and `extraDatasets` are stored over them); nil: a new file.
        public var baseFile: SurfaceFile?
        /// Whether a file at the path that holds no fingerprint of this kind (`fingerprintAttribute`)
        /// may be written over without `overwrite`: the run adopts nothing from it and keeps its
        /// content through `baseFile` (a curvature map written into the loss surface it belongs to).
        public var acceptsUnmarkedFile = false
        /// The prefix of the run's attributes: "terrain." for surfaces.
        public var attributePrefix = "terrain."
        /// What a file of another request holds, for the refusal: "a surface of a different request (…)".
        public var otherRequest = "a surface of a different request (model, directions, grid or data)"
        /// Writes the request's other files (its direction file) once the request is accepted:
        /// after an existing output has been read and found to be of this request (or
        /// `overwrite`), before the surface file or the journal is touched. A refused request
        /// thus changes no file, and the surface never points at directions written for another
        /// request.
        public var writeRequestFiles: (() throws -> Void)?
        /// The processes sharing this run (`Distributed.world` under `mpirun`). Rank 0 is the one
        /// writer: it alone reads and writes the surface file and the journal; the other ranks
        /// compute their share of the pending points and send each finished row to rank 0.
        public var communicator: any Communicator = SingleProcess()

        public init() {}

        /// Options for a run that draws no progress bar (a library caller's, a test's), then
        /// whatever `change` sets.
        public static func quiet(_ change: (inout Self) -> Void = { _ in }) -> Self {
            var options = Self()
            options.showProgress = false
            change(&options)
            return options
        }
    }

    public let computation: any GridComputation
    public let path: String
    /// Identifies the request (weights, directions, grid, data): a file or journal written for
    /// another request is never mixed in.
    public let fingerprint: String
    public let options: Options
    /// The attribute holding the fingerprint: `terrain.request` for surfaces.
    public var fingerprintAttribute: String { options.attributePrefix + "request" }

    public static let fingerprintKey = "terrain.request"

    public init(computation: any GridComputation, path: String, fingerprint: String, options: Options = Options()) {
        self.computation = computation
        self.path = path
        self.fingerprint = fingerprint
        self.options = options
    }

    /// The output's lock while this runner computes it (`OutputLock`): taken by `run` and let go
    /// when it ends, or taken by `lockOutput()` and let go by `releaseOutput()`.
    private var lock: OutputLock?

    /// Takes the output's lock (`OutputLock`) for the work a request does before `run` (a
    /// sampled surface's pilot journal): throws `OutputLockError` while another process computes
    /// this output. Once; nothing on ranks other than 0 of a distributed run, which write no file.
    public func lockOutput() throws {
        guard lock == nil, options.communicator.isWriter else { return }
        lock = try OutputLock(for: path)
    }

    /// Lets the lock `lockOutput()` or `completedOutput` took go (also when the runner goes).
    public func releaseOutput() {
        lock?.release()
        lock = nil
    }

    /// Points adopted from an earlier run of the same request.
    public private(set) var resumedPoints = 0
    /// Points of the existing file whose checksum failed (damaged on the disk): computed again.
    public private(set) var damagedPoints = 0

    /// Computes every point not computed yet and writes the file. On ranks other than 0 of a
    /// distributed run, the result holds only the points this rank computed.
    @discardableResult
    public func run(overwrite: Bool = false) throws -> SurfaceFile {
        let comm = options.communicator
        guard comm.size > 1 else { return try runAsWriter(overwrite: overwrite) }
        // Every rank knows this before any message: each refuses alike, none waits for another.
        guard !computation.refinesInRounds else {
            throw LandscapeError.invalidRequest("adaptive refinement runs in one process (each round's points depend on the last round's values): run it without mpirun, or drop --adaptive to split the full grid over \(comm.size) ranks")
        }
        do {
            return comm.isWriter ? try runAsWriter(overwrite: overwrite) : try runAsWorker()
        } catch let error as DistributedStartFailure {
            throw error.underlying
        } catch {
            // A failure in the middle: the other ranks would wait for ever.
            FileHandle.standardError.write(Data("error (rank \(comm.rank) of \(comm.size)): \(error)\n".utf8))
            comm.abort(1)
        }
    }

    /// A failure before any point is computed, which every rank has learnt of: no abort needed.
    struct DistributedStartFailure: Error { let underlying: Error }

    /// Rank 0 (or the only process): adopts earlier points, computes its share, records every
    /// row (its own and the other ranks') in the journal and consolidates the file.
    func runAsWriter(overwrite: Bool) throws -> SurfaceFile {
        let comm = options.communicator
        let journal = PointJournal(path: path + ".journal", fields: computation.fieldCount, fingerprint: fingerprint)
        let pending: [Int]
        // A lock taken before `run` (`lockOutput`) is its taker's to let go, after what it does next.
        let takesLock = lock == nil
        defer { if takesLock { releaseOutput() } }
        do {
            try lockOutput()
            if let existing = try existingFileOfThisRequest(overwrite: overwrite) {
                computation.restore(from: existing)
                damagedPoints = existing.damagedPoints
            }
            try options.writeRequestFiles?()
            if !overwrite {
                for record in journal.replay() where record.point >= 0 && record.point < computation.pointCount {
                    computation.record(point: record.point, record.values)
                }
            }
            pending = computation.pendingPoints
            resumedPoints = computation.computedPointCount
            try file(elapsed: 0).write(to: path)
            try journal.reset()
        } catch {
            guard comm.size > 1 else { throw error }
            _ = comm.broadcastList(nil)
            throw DistributedStartFailure(underlying: error)
        }
        if comm.size > 1 { _ = comm.broadcastList(pending) }
        var mine = pending[WorkSplit.chunk(count: pending.count, rank: comm.rank, size: comm.size)]
        var awaited = pending.count - mine.count
        let fields = computation.fieldCount

        let start = Date()
        var lastConsolidation = start
        var done = 0
        // A computation refining in rounds cannot know its total: each round's bar counts to its end.
        var progress = ProgressBar(total: computation.refinesInRounds ? resumedPoints + pending.count : computation.pointCount,
                                   label: options.progressLabel, alreadyDone: resumedPoints)
        progress.enabled = options.showProgress
        /// A row is in `computation`: journal it, consolidate now and then, show progress.
        func finished(point: Int, row: [Double]) throws {
            try journal.append(point: point, values: row)
            done += 1
            let now = Date()
            if now.timeIntervalSince(lastConsolidation) > options.consolidationInterval {
                try file(elapsed: now.timeIntervalSince(start)).write(to: path)
                try journal.reset()
                lastConsolidation = now
            }
            let rate = Double(done) / max(now.timeIntervalSince(start), 1e-9)
            progress.update(resumedPoints + done, String(format: "%.2f points/s", rate))
        }
        /// Takes in the rows other ranks sent (waiting for one if `wait`).
        func absorb(wait: Bool) throws {
            while awaited > 0, let message = comm.receive(count: fields + 1, wait: wait) {
                let point = Int(message[0]), row = Array(message[1...])
                guard point >= 0 && point < computation.pointCount else {
                    throw LandscapeError.invalidRequest("received a row for point \(point), outside the grid")
                }
                computation.record(point: point, row)
                awaited -= 1
                try finished(point: point, row: row)
                if wait { return }
            }
        }
        while true {
            for group in mine.groups(of: computation.concurrentPoints) {
                for (point, row) in zip(group, try computation.compute(points: group)) {
                    try finished(point: point, row: row)
                }
                if awaited > 0 { try absorb(wait: false) }
            }
            while awaited > 0 { try absorb(wait: true) }
            // One process only (`run` refuses rounds across ranks): the next round, if any.
            guard computation.refinesInRounds else { break }
            let next = computation.pendingPoints
            if next.isEmpty { break }
            mine = next[...]
            progress.finish()
            progress = ProgressBar(total: resumedPoints + done + next.count, label: options.progressLabel, alreadyDone: resumedPoints + done)
            progress.enabled = options.showProgress
        }
        progress.finish()
        computation.restoreCenter()
        let final = file(elapsed: Date().timeIntervalSince(start))
        try final.write(to: path)
        journal.remove()
        if comm.size > 1 { comm.barrier() }
        return final
    }

    /// Throws what `run` would throw for the existing output (a file of another request, an
    /// unreadable one), before any work a request does first (a sampled surface's pilot).
    ///
    /// The existing output, as it is, when it already holds every point of this request: one
    /// process, not `overwrite`, no point damaged on the disk, no journal of rows since its last
    /// write. The request's other files are written as `run` writes them (a direction file
    /// removed since comes back), and nothing else is touched: the file keeps the seconds and
    /// attributes of the run that computed it (temporary files of killed writes beside it are
    /// removed, as a write removes them). nil where anything is left to do: `run` does it.
    /// Takes the output's lock first (`lockOutput`) and keeps it either way, through `run`, until
    /// `releaseOutput()`.
    ///
    /// Why not `run`: it would find nothing to compute too, but a request may have work to do
    /// before `run` that only the points need (a sampled surface's pilot, most of an hour on a
    /// large set): the same command run again (for its figures) must not pay for it.
    public func completedOutput(overwrite: Bool) throws -> SurfaceFile? {
        guard options.communicator.size == 1 else { return nil }
        try lockOutput()
        guard let existing = try existingFileOfThisRequest(overwrite: overwrite), existing.damagedPoints == 0,
              !FileManager.default.fileExists(atPath: path + ".journal") else { return nil }
        computation.restore(from: existing)
        guard computation.pendingPoints.isEmpty else { return nil }
        // What killed writes left beside it goes, as the next write of it would have removed it.
        AtomicFile.removeStalePartials(of: URL(fileURLWithPath: path))
        try options.writeRequestFiles?()
        resumedPoints = computation.pointCount
        return existing
    }

    /// The file at `path` when it holds points of this request to adopt; nil when there is none
    /// (or `overwrite`, or an unmarked file the options accept); throws for another request's.
    private func existingFileOfThisRequest(overwrite: Bool) throws -> SurfaceFile? {
        guard !overwrite && FileManager.default.fileExists(atPath: path) else { return nil }
        let existing = try SurfaceFile.read(from: path, allowingStacks: true)
        let mark = existing.textAttributes[fingerprintAttribute]
        if mark == fingerprint { return existing }
        if mark == nil && options.acceptsUnmarkedFile { return nil }
        throw LandscapeError.incompatibleFile(path, "holds \(options.otherRequest); pass --overwrite to replace it, or choose another --out")
    }

    /// Ranks other than 0: no file, no journal; learn the pending points from rank 0, compute
    /// this rank's contiguous share and send each row as (point, values…) to rank 0.
    func runAsWorker() throws -> SurfaceFile {
        let comm = options.communicator
        guard let pending = comm.broadcastList(nil) else {
            throw DistributedStartFailure(underlying: LandscapeError.invalidRequest("rank 0 could not start the surface (its message says why)"))
        }
        resumedPoints = computation.pointCount - pending.count
        let start = Date()
        let mine = pending[WorkSplit.chunk(count: pending.count, rank: comm.rank, size: comm.size)]
        for group in mine.groups(of: computation.concurrentPoints) {
            for (point, row) in zip(group, try computation.compute(points: group)) {
                comm.send([Double(point)] + row, to: 0)
            }
        }
        computation.restoreCenter()
        comm.barrier()
        return file(elapsed: Date().timeIntervalSince(start))
    }

    func file(elapsed: Double) -> SurfaceFile {
        var file = options.baseFile ?? SurfaceFile(grid: computation.grid, values: [:], directionFile: options.directionFile)
        file.grid = computation.grid
        if !options.directionFile.isEmpty { file.directionFile = options.directionFile }
        file.textAttributes.merge(options.textAttributes) { $1 }
        file.textAttributes[fingerprintAttribute] = fingerprint
        file.numberAttributes.merge(options.numberAttributes) { $1 }
        file.numberAttributes[options.attributePrefix + "seconds"] = elapsed
        file.numberAttributes[options.attributePrefix + "resumed_points"] = Double(resumedPoints)
        file.extraDatasets.merge(options.extraDatasets) { $1 }
        computation.store(into: &file)
        if options.storesPerplexity { SurfacePerplexity.add(to: &file) }
        return file
    }

    /// What a resume says of the points it found damaged: "3 stored points of S.h5 failed their
    /// checksum (damaged on the disk) and were computed again".
    public static func damageNote(_ count: Int, path: String) -> String {
        "\(count) stored point\(count == 1 ? "" : "s") of \(path) failed \(count == 1 ? "its" : "their") checksum (damaged on the disk) and \(count == 1 ? "was" : "were") computed again"
    }

    /// A fingerprint of the exact numbers a surface depends on: the centre, each direction's
    /// length and values, the x coordinates, a NaN, the y coordinates, each set (1 train, 2
    /// test) and the data description's UTF-8 bytes, each as a word of its own
    /// (`FingerprintHasher`; stored files hold these values).
    public static func fingerprint(center: [Double], directions: [Direction], grid: SurfaceGrid,
                                   sets: [EvaluationSet], data: String) -> String {
        var h = FingerprintHasher()
        h.mix(center)
        for d in directions { h.mix(UInt64(d.values.count)); h.mix(d.values) }
        h.mix(grid.x + [.nan] + grid.y)
        for s in sets { h.mix(s == .train ? 1 as UInt64 : 2) }
        for byte in data.utf8 { h.mix(UInt64(byte)) }
        return h.hex
    }
}

extension Collection {
    /// Consecutive runs of `size` elements (the last may be shorter).
    func groups(of size: Int) -> [[Element]] {
        var result: [[Element]] = [], current: [Element] = []
        for element in self {
            current.append(element)
            if current.count == size { result.append(current); current = [] }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}
