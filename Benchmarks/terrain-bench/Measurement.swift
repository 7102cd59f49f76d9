import Foundation

// Timing and reporting shared by the benchmarks: each figure is printed as one JSON object
// {"name", "value", "unit"} so that bench/run.py can set it against PyTorch's figure of the same name.

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Median of `repeats` timings after one warm-up.
func median(repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    try body()
    let times = try (0..<repeats).map { _ in try seconds(body) }.sorted()
    return times[times.count / 2]
}

/// Prints one figure; `against` names the PyTorch figure a variant is compared with (default: its own name).
func report(_ name: String, _ value: Double, _ unit: String, against: String? = nil) {
    let reference = against.map { ", \"against\": \"\($0)\"" } ?? ""
    print("{\"name\": \"\(name)\", \"value\": \(value), \"unit\": \"\(unit)\"\(reference)}")
    fflush(nil)
}
