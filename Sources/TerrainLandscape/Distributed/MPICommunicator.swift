import Foundation
import CMPIRuntime

/// Open MPI's `MPI_COMM_WORLD`, through the library loaded at run time (`CMPIRuntime`), so the
/// one `terrain` binary is also the distributed one. Rows travel as `MPI_DOUBLE` messages with
/// one tag; rank 0 receives from any source.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    static let rowTag: Int32 = 7

    /// Why Open MPI could not be used.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// Loads Open MPI, initializes it (funneled: only the main thread calls MPI; the kernels'
    /// worker threads never do) unless something already did, and finalizes it at exit.
    init() throws {
        var message = [CChar](repeating: 0, count: 512)
        guard terrain_mpi_load(&message, message.count) == 0 else {
            throw Unavailable(description: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        guard terrain_mpi_initialize() == 0 else { throw Unavailable(description: "MPI_Init_thread failed") }
        atexit { _ = terrain_mpi_finalize() }
        var r: Int32 = 0, s: Int32 = 0
        guard terrain_mpi_rank_and_size(&r, &s) == 0 else { throw Unavailable(description: "MPI_Comm_rank or MPI_Comm_size failed") }
        rank = Int(r)
        size = Int(s)
    }

    public func broadcast(_ values: inout [Int64], root: Int) {
        let count = Int32(values.count)
        values.withUnsafeMutableBufferPointer { buffer in
            _ = terrain_mpi_broadcast_int64(buffer.baseAddress, count, Int32(root))
        }
    }

    public func send(_ values: [Double], to rank: Int) {
        values.withUnsafeBufferPointer { buffer in
            _ = terrain_mpi_send_doubles(buffer.baseAddress, Int32(values.count), Int32(rank), Self.rowTag)
        }
    }

    public func receive(count: Int, wait: Bool) -> [Double]? {
        if !wait {
            var arrived: Int32 = 0
            _ = terrain_mpi_probe_any(Self.rowTag, &arrived)
            guard arrived != 0 else { return nil }
        }
        var row = [Double](repeating: 0, count: count)
        row.withUnsafeMutableBufferPointer { buffer in
            _ = terrain_mpi_receive_doubles_any(buffer.baseAddress, Int32(count), Self.rowTag)
        }
        return row
    }

    public func barrier() { _ = terrain_mpi_barrier() }

    public func abort(_ code: Int32) -> Never {
        terrain_mpi_abort(code)
        exit(code)
    }
}
