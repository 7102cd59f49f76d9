import Foundation

/// A 64-byte aligned buffer of scalars owned by one or more tensors.
///
/// Freed buffers go back to a size-keyed pool instead of the system allocator: a training step or
/// a grid point allocates the same sizes again and again, and every large fresh allocation is an
/// `mmap` with page faults on first touch (tens of milliseconds for tens of megabytes).
public final class TensorStorage<Scalar: TensorScalar>: @unchecked Sendable {
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
    let capacityBytes = 1 << 30
    /// Buffers smaller than this come from malloc directly: it is fast for them.
    let minimumPooledBytes = 1 << 16

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
