import Foundation
import TerrainIO
import TerrainTraining
import TerrainLandscape

/// A `SymmetricOperator` that counts and times its products (for the progress line and summary).
final class CountingOperator<Base: SymmetricOperator>: SymmetricOperator {
    let base: Base
    private(set) var count = 0
    private(set) var seconds = 0.0
    init(_ base: Base) { self.base = base }
    var dimension: Int { base.dimension }
    func apply(_ v: [Double]) throws -> [Double] {
        let start = Date()
        defer { count += 1; seconds += Date().timeIntervalSince(start) }
        return try base.apply(v)
    }
    func apply(block: [[Double]]) throws -> [[Double]] {
        let start = Date()
        defer { count += block.count; seconds += Date().timeIntervalSince(start) }
        return try base.apply(block: block)
    }
}

/// Progress of one phase on standard error: products done, products per second, ETA.
final class HVPProgress<Base: SymmetricOperator> {
    private let bar: ProgressBar
    private let counter: CountingOperator<Base>
    private let startCount: Int
    private let start = Date()

    init(label: String, total: Int, counter: CountingOperator<Base>, showsBar: Bool) {
        bar = ProgressBar(total: total, label: "hessian: \(label) HVP")
        bar.enabled = showsBar
        self.counter = counter
        startCount = counter.count
    }

    func update(_ done: Int) {
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(counter.count - startCount) / elapsed : 0
        bar.update(done, String(format: "%.2f HVP/s  %d HVPs in all", rate, counter.count))
    }

    func finish() { bar.finish() }
}
