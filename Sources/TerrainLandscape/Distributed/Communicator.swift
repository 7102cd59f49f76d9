import Foundation

/// The processes that share one computation: this process's `rank` among `size` of them.
///
/// `SurfaceRunner` is written against this seam. `SingleProcess` (always available) is one rank
/// alone; `MPICommunicator` (under `mpirun -n N`) is Open MPI's `MPI_COMM_WORLD`, its library
/// loaded at run time. Only the main thread talks to it; the kernels' own threads never do.
public protocol Communicator: AnyObject, Sendable {
    var rank: Int { get }
    var size: Int { get }
    /// Rank `root`'s `values` on every rank; every rank passes an array of the same length.
    func broadcast(_ values: inout [Int64], root: Int)
    /// Sends a row of doubles to one rank (returns once the buffer may be reused).
    func send(_ values: [Double], to rank: Int)
    /// A row of `count` doubles sent to this rank by any rank: waits for one if `wait`, otherwise
    /// returns nil when none has arrived.
    func receive(count: Int, wait: Bool) -> [Double]?
    func barrier()
    /// Ends every rank's process at once (a failure in the middle of a distributed run).
    func abort(_ code: Int32) -> Never
}

extension Communicator {
    /// Broadcasts a list of indices from `root`, or a failure (nil) that every rank learns of.
    public func broadcastList(_ list: [Int]?, root: Int = 0) -> [Int]? {
        var header: [Int64] = rank == root ? [list == nil ? 1 : 0, Int64(list?.count ?? 0)] : [0, 0]
        broadcast(&header, root: root)
        guard header[0] == 0 else { return nil }
        var body = rank == root ? list!.map(Int64.init) : [Int64](repeating: 0, count: Int(header[1]))
        if !body.isEmpty { broadcast(&body, root: root) }
        return body.map(Int.init)
    }

    /// Whether this rank writes files and prints: rank 0 (the only one when not distributed).
    public var isWriter: Bool { rank == 0 }
}

/// One process alone: rank 0 of 1. Every collective is a no-op.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func broadcast(_ values: inout [Int64], root: Int) {}
    public func send(_ values: [Double], to rank: Int) { preconditionFailure("a single process has no rank \(rank) to send to") }
    public func receive(count: Int, wait: Bool) -> [Double]? {
        precondition(!wait, "a single process has no rank to wait for")
        return nil
    }
    public func barrier() {}
    public func abort(_ code: Int32) -> Never { exit(code) }
}

/// How a list of `count` items is cut over `size` ranks, as the reference does: contiguous
/// chunks, the first `count % size` ranks take one more.
public enum WorkSplit {
    public static func chunk(count: Int, rank: Int, size: Int) -> Range<Int> {
        precondition(size > 0 && rank >= 0 && rank < size)
        let base = count / size, extra = count % size
        let start = rank * base + min(rank, extra)
        return start..<(start + base + (rank < extra ? 1 : 0))
    }
}

/// The processes this program was started as.
public enum Distributed {
    /// `MPI_COMM_WORLD` when launched by `mpirun`/`mpiexec` (Open MPI, loaded at run time,
    /// initialized on first use and finalized at exit); otherwise `SingleProcess`. A process that a
    /// launcher started but that cannot load Open MPI stops with a message: running on as N
    /// independent copies would have every copy compute and write the whole surface.
    public static let world: any Communicator = makeWorld()

    /// Whether a launcher (Open MPI's mpirun, or a PMI/PMIx one) started this process.
    public static var launchedByMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"].contains { env[$0] != nil }
    }

    static func makeWorld() -> any Communicator {
        guard launchedByMPI else { return SingleProcess() }
        do {
            return try MPICommunicator()
        } catch {
            FileHandle.standardError.write(Data("terrain: started by an MPI launcher, but \(error)\n".utf8))
            exit(69)  // EX_UNAVAILABLE
        }
    }
}
