import Foundation
#if MPI
import CMPI
#endif

/// The processes that share one computation: this process's `rank` among `size` of them.
///
/// `SurfaceRunner` is written against this seam. `SingleProcess` (always available) is one rank
/// alone; `MPICommunicator` (package trait `MPI`, under `mpirun -n N`) is OpenMPI's
/// `MPI_COMM_WORLD`. Only the main thread talks to it; the kernels' own threads never do.
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
    /// `MPI_COMM_WORLD` when built with the trait `MPI` and launched by `mpirun`/`mpiexec`
    /// (MPI is initialized on first use and finalized at exit); otherwise `SingleProcess`.
    public static let world: any Communicator = makeWorld()

    /// Whether the trait `MPI` was enabled at build time.
    public static var isAvailable: Bool {
        #if MPI
        return true
        #else
        return false
        #endif
    }

    /// Whether a launcher (OpenMPI's mpirun, or a PMI/PMIx one) started this process.
    public static var launchedByMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"].contains { env[$0] != nil }
    }

    static func makeWorld() -> any Communicator {
        #if MPI
        if launchedByMPI { return MPICommunicator() }
        #endif
        return SingleProcess()
    }
}

#if MPI
/// OpenMPI's `MPI_COMM_WORLD`. Rows travel as `MPI_DOUBLE` messages with one tag; rank 0
/// receives from any source.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    static let rowTag: Int32 = 7

    init() {
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            var provided: Int32 = 0
            // Funneled: only the main thread calls MPI; the kernels' worker threads never do.
            MPI_Init_thread(nil, nil, shim_MPI_THREAD_FUNNELED(), &provided)
            atexit {
                var finalized: Int32 = 0
                MPI_Finalized(&finalized)
                if finalized == 0 { MPI_Finalize() }
            }
        }
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(shim_MPI_COMM_WORLD(), &r)
        MPI_Comm_size(shim_MPI_COMM_WORLD(), &s)
        rank = Int(r)
        size = Int(s)
    }

    public func broadcast(_ values: inout [Int64], root: Int) {
        let count = Int32(values.count)
        values.withUnsafeMutableBytes { buffer in
            _ = MPI_Bcast(buffer.baseAddress, count, shim_MPI_INT64_T(), Int32(root), shim_MPI_COMM_WORLD())
        }
    }

    public func send(_ values: [Double], to rank: Int) {
        values.withUnsafeBytes { buffer in
            _ = MPI_Send(buffer.baseAddress, Int32(values.count), shim_MPI_DOUBLE(), Int32(rank), Self.rowTag, shim_MPI_COMM_WORLD())
        }
    }

    public func receive(count: Int, wait: Bool) -> [Double]? {
        var status = MPI_Status()
        if !wait {
            var flag: Int32 = 0
            MPI_Iprobe(shim_MPI_ANY_SOURCE(), Self.rowTag, shim_MPI_COMM_WORLD(), &flag, &status)
            guard flag != 0 else { return nil }
        }
        var row = [Double](repeating: 0, count: count)
        row.withUnsafeMutableBytes { buffer in
            _ = MPI_Recv(buffer.baseAddress, Int32(count), shim_MPI_DOUBLE(), shim_MPI_ANY_SOURCE(), Self.rowTag,
                         shim_MPI_COMM_WORLD(), &status)
        }
        return row
    }

    public func barrier() { MPI_Barrier(shim_MPI_COMM_WORLD()) }

    public func abort(_ code: Int32) -> Never {
        MPI_Abort(shim_MPI_COMM_WORLD(), code)
        exit(code)
    }
}
#endif
