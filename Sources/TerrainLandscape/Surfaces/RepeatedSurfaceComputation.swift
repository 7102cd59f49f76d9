import TerrainTensor

/// K surfaces over one grid, each along its own directions or on its own objective (data subset),
/// computed as one resumable `GridComputation`: what `terrain surface --repeats K` and
/// `--subset-repeats K` run with `SurfaceRunner` (the stored layout is `SurfaceRepeats`).
///
/// Member k is a `SurfaceComputation` of its own, computed point by point exactly as a plain run
/// computes it (each point from the centre). The runner numbers the points
///
///     k·P ..< (k + 1)·P    member k's grid points (P = grid.pointCount), in grid order
///
/// so one journal and one fingerprint cover every member: a run killed in the middle of member k
/// resumes with every finished point of every member, and points are spread over threads (one
/// objective replica per thread) and ranks with the same bits for any count. Members that share
/// an objective (repeated directions) share its replicas; each distinct objective (a subset's)
/// has its own.
public final class RepeatedSurfaceComputation: GridComputation {
    /// One member: what it evaluates, along which directions, with its seed.
    public struct Member {
        public var objective: Objective
        public var xDirection: Direction
        public var yDirection: Direction?
        public var seed: UInt64
        /// Text attributes of the member's stored group (`SurfaceRepeats.memberAttributes`).
        public var attributes: [String: String]
        public init(objective: Objective, xDirection: Direction, yDirection: Direction?, seed: UInt64, attributes: [String: String] = [:]) {
            self.objective = objective; self.xDirection = xDirection; self.yDirection = yDirection; self.seed = seed
            self.attributes = attributes
        }
    }

    public let kind: SurfaceRepeats.Kind
    public let grid: SurfaceGrid
    public let sets: [EvaluationSet]
    public let center: [Double]
    public let members: [SurfaceComputation]
    public let seeds: [UInt64]
    public let memberAttributes: [[String: String]]
    /// One pool per distinct objective (by identity), and each member's pool.
    private var pools: [ReplicaPool<Objective>]
    private let poolOfMember: [Int]

    public init(kind: SurfaceRepeats.Kind, members: [Member], center: [Double], grid: SurfaceGrid, sets: [EvaluationSet]) throws {
        guard members.count >= 1 else { throw LandscapeError.invalidRequest("an ensemble needs at least one member") }
        try grid.checkSize(fields: SurfaceQuantity.quantities(for: sets).count, copies: members.count)
        self.kind = kind
        self.grid = grid
        self.sets = sets
        self.center = center
        self.members = try members.map {
            try SurfaceComputation(objective: $0.objective, center: center, xDirection: $0.xDirection,
                                   yDirection: $0.yDirection, grid: grid, sets: sets)
        }
        seeds = members.map(\.seed)
        memberAttributes = members.map(\.attributes)
        var objectives: [Objective] = [], poolOf: [Int] = []
        for member in members {
            if let index = objectives.firstIndex(where: { $0 === member.objective }) {
                poolOf.append(index)
            } else {
                poolOf.append(objectives.count)
                objectives.append(member.objective)
            }
        }
        pools = objectives.map { ReplicaPool($0) }
        poolOfMember = poolOf
    }

    public var quantities: [SurfaceQuantity] { SurfaceQuantity.quantities(for: sets) }
    public var fieldCount: Int { quantities.count }
    public var pointCount: Int { members.count * grid.pointCount }
    public var concurrentPoints: Int { pools.map(\.count).min()! }

    public var pendingPoints: [Int] {
        members.enumerated().flatMap { k, member in member.pendingPoints.map { k * grid.pointCount + $0 } }
    }

    /// Works on up to `threads` points at once from now on, one per thread, on replicas of each
    /// objective; false (nothing changes) when they cannot be replicated or there is one thread.
    @discardableResult
    public func spreadPointsOverThreads(_ threads: Int = Parallel.threadCount) throws -> Bool {
        var spread = true
        for p in pools.indices {
            let objective = pools[p].workers[0]
            spread = try pools[p].spread(over: threads) { try objective.replica() } && spread
        }
        // Pools of unequal sizes would let `concurrentPoints` hide replicas: keep one point per
        // thread in every pool, or none spread.
        if !spread || Set(pools.map(\.count)).count > 1 { pools = pools.map { ReplicaPool($0.workers[0]) }; return false }
        return true
    }

    /// The member and its point of a runner's point.
    private func split(_ point: Int) -> (member: Int, local: Int) {
        let (member, local) = point.quotientAndRemainder(dividingBy: grid.pointCount)
        return (member, local)
    }

    public func compute(points: [Int]) throws -> [[Double]] {
        // Consecutive points of one member go to its pool together; a group crossing from one
        // member to the next is evaluated in two steps.
        var rows: [[Double]] = []
        var start = 0
        while start < points.count {
            let member = split(points[start]).member
            var end = start + 1
            while end < points.count && split(points[end]).member == member { end += 1 }
            let locals = points[start..<end].map { split($0).local }
            let computation = members[member]
            let memberRows = try pools[poolOfMember[member]].rows(of: locals) { try computation.evaluate(point: $0, on: $1) }
            for (local, row) in zip(locals, memberRows) { computation.record(point: local, row) }
            rows += memberRows
            start = end
        }
        return rows
    }

    public func record(point: Int, _ row: [Double]) {
        let (member, local) = split(point)
        members[member].record(point: local, row)
    }

    /// Adopts member 0 from the file's own datasets (checksummed) and every other member from
    /// `repeats/<k>/` of a file of the same request.
    public func restore(from file: SurfaceFile) {
        guard file.grid == grid, file.frameCount == nil else { return }
        members[0].restore(from: file)
        guard let group = file.groups[SurfaceRepeats.groupName] else { return }
        for k in members.indices.dropFirst() {
            for (q, v) in SurfaceRepeats.storedMember(k, in: group, grid: grid) where quantities.contains(q) {
                members[k].restore(q, v)
            }
        }
    }

    /// Member 0 as the file's surface, every member and their statistics in `repeats/`.
    public func store(into file: inout SurfaceFile) {
        members[0].store(into: &file)
        file.groups[SurfaceRepeats.groupName] = ensemble.storedGroup
    }

    /// The members' values as an ensemble (NaN where not computed yet).
    public var ensemble: SurfaceRepeats {
        SurfaceRepeats(kind: kind, seeds: seeds, members: members.map(\.values), grid: grid, memberAttributes: memberAttributes)
    }

    public func restoreCenter() { for member in members { member.restoreCenter() } }

    /// A fingerprint of every number the ensemble depends on: its kind and each member's surface
    /// fingerprint (`SurfaceRunner.fingerprint`: centre, directions, grid, sets, and the member's
    /// data description, which names its subset).
    public static func fingerprint(kind: SurfaceRepeats.Kind, memberFingerprints: [String]) -> String {
        var h = FingerprintHasher()
        h.mix("terrain.repeats 1")
        h.mix(kind.rawValue)
        h.mix(UInt64(memberFingerprints.count))
        for f in memberFingerprints { h.mix(f) }
        return h.hex
    }
}
