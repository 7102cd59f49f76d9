import Dispatch
import CBLAS
#if canImport(Glibc)
import Glibc
#endif

/// Terrain's one place for threads.
///
/// Work is cut into chunks whose boundaries depend only on the problem size, never on the
/// number of threads, so every reduction adds the same numbers in the same order on any
/// machine: results are bit-identical whatever `threadCount` is. BLAS itself runs
/// single-threaded inside these chunks (two thread pools on two cores only fight).
public enum Parallel {
    /// The most threads a run may use (`--threads` is refused above it, `TERRAIN_THREADS` is
    /// capped at it): each thread may hold a copy of the network, so the count is bounded.
    public static let maximumThreadCount = 1024

    nonisolated(unsafe) private static var configuredThreads: Int = {
        openblas_set_num_threads(1)
        if let text = getenv("TERRAIN_THREADS").map({ String(cString: $0) }), let n = Int(text), n > 0 {
            return min(n, maximumThreadCount)
        }
        return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }()

    /// Threads used by kernels; defaults to the online cores or `TERRAIN_THREADS`.
    public static var threadCount: Int {
        get { configuredThreads }
        set { configuredThreads = min(max(1, newValue), maximumThreadCount) }
    }

    /// Runs `body(chunk)` for `chunk` in `0..<chunks`, spread over the threads.
    /// Chunks must write disjoint memory.
    ///
    /// Calls made from inside a chunk (nested parallelism: grid points spread over threads,
    /// each running a network's kernels) run their chunks in order on the calling thread.
    /// The chunk boundaries are the same either way, so are the results.
    public static func forEach(chunks: Int, _ body: (Int) -> Void) {
        let threads = isInsideChunk ? 1 : min(threadCount, chunks)
        if threads <= 1 {
            for c in 0..<chunks { body(c) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = UnsafeSendableBox(body)
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                insideChunk {
                    // Static assignment: thread t takes chunks t, t + threads, …
                    var c = t
                    while c < chunks { box.value(c); c += threads }
                }
            }
        }
    }

    /// A per-thread mark, set while a thread runs chunks of a parallel `forEach`.
    private static let chunkKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Whether the current thread is running a chunk of a parallel `forEach`.
    public static var isInsideChunk: Bool { pthread_getspecific(chunkKey) != nil }

    private static func insideChunk(_ body: () -> Void) {
        let previous = pthread_getspecific(chunkKey)
        pthread_setspecific(chunkKey, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(chunkKey, previous) }
        body()
    }

    /// Splits `0..<count` into contiguous ranges of about `grain` items (at least one range) and
    /// runs them in parallel. The split depends on `count` and `grain` only.
    public static func forEach(range count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = max(1, (count + grain - 1) / max(grain, 1))
        let size = (count + chunks - 1) / chunks
        forEach(chunks: chunks) { c in
            let lo = c * size, hi = min(count, lo + size)
            if lo < hi { body(lo..<hi) }
        }
    }
}

/// Lets a non-Sendable closure cross into `concurrentPerform`; callers guarantee disjoint writes.
struct UnsafeSendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
