import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking work (HDF5 reads, viewer pages, file reads) on threads of its own, at most
/// `threads` pieces at once, and waits for each piece at most a deadline.
///
/// Why threads of its own: request handlers run on Swift's cooperative pool, which has one
/// thread per core. Work that blocks there (a 1000 × 1000 surface takes seconds; a damaged HDF5
/// file can make the library loop for ever while it holds the process-wide HDF5 lock) takes
/// those threads from every other request, and the listing waits for it.
///
/// A piece that overruns its deadline is answered with `ServeError.unavailable` (503). Its
/// thread stays with it (a thread cannot be stopped from outside) and keeps its place until the
/// work returns, so stuck work never multiplies: once every thread is stuck, new work waits its
/// deadline in the queue and is refused, and nothing else in the server waits for it. Worker
/// threads run at a lower scheduling priority (nice 10 on Linux), so the threads that answer
/// requests get the cores first. `stop()` releases everyone waiting (shutdown).
public final class WorkerPool: @unchecked Sendable {
    /// One piece of work: `run` does it and returns the delivery of its result (made once the
    /// worker has counted itself free), `abandon` delivers a refusal instead (the first
    /// delivery wins).
    private struct Job: Sendable {
        let id: Int
        let run: @Sendable () -> (@Sendable () -> Void)
        let abandon: @Sendable (ServeError) -> Void
    }

    private let condition = NSCondition()
    private var queue: [Job] = []
    /// Jobs waited for (queued or running) by id, so that `stop()` can release their callers.
    private var waiting: [Int: Job] = [:]
    private var nextID = 0
    private var threadCount = 0
    private var idleThreads = 0
    private var runningJobs = 0
    private var stopped = false

    public let threads: Int
    public let name: String

    public init(threads: Int, name: String) {
        self.threads = max(1, threads)
        self.name = name
    }

    /// Pieces of work running now (stuck ones included).
    public var running: Int { condition.withLock { runningJobs } }

    /// Pieces of work waiting for a thread.
    var queued: Int { condition.withLock { queue.count } }

    /// Whether every thread is taken, so that new work would only queue.
    public var isSaturated: Bool { condition.withLock { runningJobs >= threads } }

    /// Does `work` on a worker thread and returns its result; throws `ServeError.unavailable`
    /// when it has not finished within `timeout` of the call (queueing included) or the pool is
    /// stopped, and `CancellationError` when the calling task is cancelled (the client left).
    /// `what` names the work in the messages ("reading runs/a.h5").
    /// Where time limits fire: a serial queue of its own, which Dispatch gives a thread even when
    /// its global pool is taken up by blocked work (a global queue's timer waited 30 s behind
    /// such work in the test process), so that a limit is kept whatever else the process does.
    private static let deadlines = DispatchQueue(label: "terrain.serve.worker-pool.deadlines")

    public func run<T: Sendable>(_ what: String, timeout: Duration, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        let delivery = Delivery<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                delivery.attach(continuation)
                let job = condition.withLock { () -> Job? in
                    guard !stopped else { return nil }
                    nextID += 1
                    let id = nextID
                    // The pool outlives its jobs (they leave its lists when answered).
                    let job = Job(id: id, run: { [self] in
                        guard delivery.begin() else { return {} }
                        let result = Result { try work() }
                        return { [self] in
                            delivery.deliver(result)
                            forget(id)
                        }
                    }, abandon: { [self] error in
                        delivery.deliver(.failure(error))
                        forget(id)
                    })
                    queue.append(job)
                    waiting[id] = job
                    // Idle threads may already be promised to earlier jobs still queued.
                    if queue.count > idleThreads && threadCount < threads { startThread() } else { condition.signal() }
                    return job
                }
                guard let job else {
                    delivery.deliver(.failure(ServeError.unavailable("the server is stopping")))
                    return
                }
                let seconds = Self.seconds(timeout)
                Self.deadlines.asyncAfter(deadline: .now() + seconds) { [weak self] in
                    let limit = Self.describe(seconds)
                    job.abandon(delivery.hasBegun
                        ? ServeError.unavailable("\(what) took longer than \(limit); the server stopped waiting for it (the file may be damaged)")
                        : ServeError.unavailable("the server is busy (\(self?.threads ?? 0) at a time): \(what) did not start within \(limit); try again later"))
                }
            }
        } onCancel: {
            delivery.deliver(.failure(CancellationError()))
        }
    }

    /// Refuses all queued work and releases every caller still waiting (running work goes on
    /// until it returns; its result is dropped). Later calls are refused at once.
    public func stop() {
        let jobs = condition.withLock { () -> [Job] in
            stopped = true
            queue.removeAll()
            condition.broadcast()
            return Array(waiting.values)
        }
        for job in jobs { job.abandon(.unavailable("the server is stopping")) }
    }

    /// Drops a job once its caller has an answer: a job abandoned while queued leaves the queue
    /// too, so that requests refused while every thread is stuck leave nothing behind.
    private func forget(_ id: Int) {
        condition.withLock {
            if waiting.removeValue(forKey: id) != nil { queue.removeAll { $0.id == id } }
        }
    }

    /// Called with the condition's lock held.
    private func startThread() {
        threadCount += 1
        let thread = Thread { [self] in
            #if os(Linux)
            // Linux applies nice values per thread (0: the calling one): requests' threads
            // come before loads.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
            #endif
            work()
        }
        thread.name = "terrain-serve \(name) \(threadCount)"
        // Page building recurses little, but deeply nested HDF5 calls want room.
        thread.stackSize = 8 << 20
        thread.start()
    }

    private func work() {
        while true {
            condition.lock()
            idleThreads += 1
            while queue.isEmpty && !stopped { condition.wait() }
            idleThreads -= 1
            if stopped {
                threadCount -= 1
                condition.unlock()
                return
            }
            let job = queue.removeFirst()
            runningJobs += 1
            condition.unlock()
            let deliver = job.run()
            condition.withLock { runningJobs -= 1 }
            deliver()
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return max(0, Double(seconds) + Double(attoseconds) * 1e-18)
    }

    static func describe(_ seconds: Double) -> String {
        seconds < 1 ? "\(Int((seconds * 1000).rounded())) ms" : String(format: "%g s", seconds)
    }
}

/// Hands one result to one waiting caller, exactly once: the work's result, a timeout, a stop or
/// a cancellation, whichever comes first; the others are dropped. Also records whether the
/// work has started, so that work not yet started is skipped once its caller is gone.
private final class Delivery<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var early: Result<T, any Error>?
    private var done = false
    private var started = false

    func attach(_ continuation: CheckedContinuation<T, any Error>) {
        lock.lock()
        if let early {
            lock.unlock()
            continuation.resume(with: early)
            return
        }
        self.continuation = continuation
        lock.unlock()
    }

    /// Marks the work started; false when the caller already has an answer (skip the work).
    func begin() -> Bool {
        lock.withLock {
            guard !done else { return false }
            started = true
            return true
        }
    }

    var hasBegun: Bool { lock.withLock { started } }

    func deliver(_ result: Result<T, any Error>) {
        lock.lock()
        guard !done else { lock.unlock(); return }
        done = true
        guard let continuation else {
            // Cancelled before the continuation was attached: answer when it is.
            early = result
            lock.unlock()
            return
        }
        self.continuation = nil
        lock.unlock()
        continuation.resume(with: result)
    }
}
