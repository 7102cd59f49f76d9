import Foundation
import TerrainTensor

/// An objective and its replicas, one per thread: what every `GridComputation` evaluates points
/// on side by side.
///
/// The pool starts with the objective alone (one point at a time, each kernel spread over the
/// threads). `spread(over:)` adds up to `threads − 1` replicas (`Objective.replica()`, a model
/// built again from its description), after which `rows(of:_:)` evaluates point c on
/// `workers[c]`, each replica running single-threaded kernels. Each point is computed from the
/// stored centre, so the rows have the same bits either way and for any thread count.
struct ReplicaPool<Worker> {
    /// The objective first, then its replicas.
    private(set) var workers: [Worker]

    init(_ objective: Worker) { workers = [objective] }

    /// How many points `rows(of:_:)` takes at once.
    var count: Int { workers.count }

    /// Grows the pool to up to `threads` workers with `replica()` (nil: the objective cannot be
    /// copied, or no more copies). Returns whether points are now spread over threads; with one
    /// thread, or an objective that cannot be copied, nothing changes.
    mutating func spread(over threads: Int, replica: () throws -> Worker?) rethrows -> Bool {
        guard threads > 1, workers.count < threads else { return workers.count > 1 }
        var copies: [Worker] = []
        while copies.count < threads - 1 {
            guard let next = try replica() else { break }
            copies.append(next)
        }
        guard !copies.isEmpty else { return false }
        workers = [workers[0]] + copies
        return true
    }

    /// Rows of `points`, point c evaluated on `workers[c]`, in parallel; a single point runs on
    /// the calling thread with the objective itself. The first error thrown by any point is
    /// rethrown.
    func rows(of points: [Int], _ evaluate: (Int, Worker) throws -> [Double]) throws -> [[Double]] {
        precondition(points.count <= workers.count, "\(points.count) points for \(workers.count) workers")
        if points.count == 1 { return [try evaluate(points[0], workers[0])] }
        var results = [Result<[Double], Error>](repeating: .success([]), count: points.count)
        results.withUnsafeMutableBufferPointer { slots in
            // Each chunk writes its own slot and uses its own worker.
            Parallel.forEach(chunks: points.count) { c in
                slots[c] = Result { try evaluate(points[c], workers[c]) }
            }
        }
        return try results.map { try $0.get() }
    }

    /// Rows of any number of `points`, each worker taking the next point not yet taken until
    /// none is left: for points of unequal cost (a sampled surface's, whose prefixes differ),
    /// where `rows(of:)`'s one point per worker would wait for the slowest of each group. A
    /// point's row does not depend on the worker that computes it. The first error thrown by any
    /// point is rethrown.
    func rowsTakenInTurn(of points: [Int], _ evaluate: (Int, Worker) throws -> [Double]) throws -> [[Double]] {
        if workers.count == 1 || points.count <= 1 { return try points.map { try evaluate($0, workers[0]) } }
        var results = [Result<[Double], Error>](repeating: .success([]), count: points.count)
        let lock = NSLock()
        var next = 0
        results.withUnsafeMutableBufferPointer { slots in
            // Each worker writes the slots of the points it took, under no lock: no two take one.
            Parallel.forEach(chunks: min(workers.count, points.count)) { c in
                while true {
                    lock.lock()
                    let k = next
                    next += 1
                    lock.unlock()
                    guard k < points.count else { return }
                    slots[k] = Result { try evaluate(points[k], workers[c]) }
                }
            }
        }
        return try results.map { try $0.get() }
    }
}
