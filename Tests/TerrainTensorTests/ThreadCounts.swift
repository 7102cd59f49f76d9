import TerrainTensor

/// `body`'s results with `Parallel.threadCount` set to each of `counts` in turn, restored
/// afterwards: for the tests that a kernel's bits do not depend on the number of threads (chunk
/// boundaries depend on the problem size only, see `Parallel`).
func results<R>(threadCounts counts: [Int], _ body: () -> R) -> [R] {
    let saved = Parallel.threadCount
    defer { Parallel.threadCount = saved }
    return counts.map { threads in
        Parallel.threadCount = threads
        return body()
    }
}

/// `body`'s results with one thread and with three.
func resultsWithOneAndThreeThreads<R>(_ body: () -> R) -> (one: R, three: R) {
    let both = results(threadCounts: [1, 3], body)
    return (both[0], both[1])
}
