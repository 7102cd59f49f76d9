import Foundation
import Synchronization

/// A 64-byte aligned buffer of scalars owned by one or more tensors.
///
/// Freed buffers go back to a size-keyed pool instead of the system allocator: a training step or
/// a grid point allocates the same sizes again and again, and every large fresh allocation is an
/// `mmap` with page faults on first touch (tens of milliseconds for tens of megabytes).
public final class TensorStorage<Scalar: TensorScalar>: @unchecked Sendable {
    /// The scalars, valid only while this object is alive. Swift may destroy it right after its
    /// last use, and loading `pointer` may be that use (see `Tensor.pointer`).
    public let pointer: UnsafeMutablePointer<Scalar>
    public let count: Int
    private let byteCount: Int

    /// An uninitialized buffer of `count` scalars.
    public init(uninitializedCount count: Int) {
        self.count = count
        self.byteCount = max(count, 1) * MemoryLayout<Scalar>.stride
        pointer = BufferPool.shared.take(byteCount: byteCount).bindMemory(to: Scalar.self, capacity: max(count, 1))
    }

    deinit {
        BufferPool.shared.give(UnsafeMutableRawPointer(pointer), byteCount: byteCount)
    }
}

/// Recycles freed tensor buffers by exact byte size, keeping at most `capacityBytes` idle.
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool()

    private let lock = NSLock()
    private var idle: [Int: [UnsafeMutableRawPointer]] = [:]
    private var idleBytes = 0
    /// Idle memory kept for reuse; beyond it buffers are freed.
    let capacityBytes: Int
    /// Buffers smaller than this come from malloc directly: it is fast for them.
    let minimumPooledBytes = 1 << 16
    /// While positive, every freed buffer is filled with 0xFF bytes (NaN as Float or Double)
    /// before it is pooled or freed, so that a read through a pointer that outlived its tensor
    /// (see `Tensor.pointer`) gives NaN rather than another tensor's plausible numbers. Raised by
    /// `poisoningFreedBuffers` in tests, or for the whole process by
    /// `TERRAIN_POISON_FREED_BUFFERS` in the environment (any value): a stress for a test suite.
    private let poisoners = Atomic<Int>(getenv("TERRAIN_POISON_FREED_BUFFERS") == nil ? 0 : 1)

    /// A pool keeping at most `capacityBytes` idle; tensors use `shared` (a private pool is for
    /// tests, whose assertions about which buffer comes back must not depend on what tests running
    /// beside them left in the shared one).
    init(capacityBytes: Int = 1 << 30) {
        self.capacityBytes = capacityBytes
    }

    /// Runs `body` with freed buffers poisoned (every thread's, while it runs).
    func poisoningFreedBuffers<R>(_ body: () throws -> R) rethrows -> R {
        poisoners.add(1, ordering: .sequentiallyConsistent)
        defer { poisoners.subtract(1, ordering: .sequentiallyConsistent) }
        return try body()
    }

    func take(byteCount: Int) -> UnsafeMutableRawPointer {
        if byteCount >= minimumPooledBytes {
            lock.lock()
            if var list = idle[byteCount], let p = list.popLast() {
                idle[byteCount] = list
                idleBytes -= byteCount
                lock.unlock()
                return p
            }
            lock.unlock()
        }
        return UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
    }

    func give(_ p: UnsafeMutableRawPointer, byteCount: Int) {
        if poisoners.load(ordering: .relaxed) > 0 { _ = memset(p, 0xFF, byteCount) }
        if byteCount >= minimumPooledBytes {
            lock.lock()
            if idleBytes + byteCount <= capacityBytes {
                idle[byteCount, default: []].append(p)
                idleBytes += byteCount
                lock.unlock()
                return
            }
            lock.unlock()
        }
        p.deallocate()
    }
}
