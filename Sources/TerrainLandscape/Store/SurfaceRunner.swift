import Foundation
import TerrainTraining

/// Runs a `SurfaceComputation` into a surface file, resumably.
///
/// The file exists from the start (all NaN), every finished point goes to the journal at once,
/// and the file is rewritten atomically every `consolidationInterval` seconds and at the end.
/// A run killed at any moment and started again with the same request adopts every point the
/// file and the journal hold and computes only the rest; since each point is computed from the
/// centre independently, the final file is bit-identical to an uninterrupted run's.
public final class SurfaceRunner {
    public let computation: SurfaceComputation
    public let path: String
    /// Identifies the request (weights, directions, grid, data): a file or journal written for
    /// another request is never mixed in.
    public let fingerprint: String
    public var directionFile = ""
    public var textAttributes: [String: String] = [:]
    public var numberAttributes: [String: Double] = [:]
    public var extraDatasets: [String: [Double]] = [:]
    public var consolidationInterval: TimeInterval = 20
    public var showProgress = true

    public static let fingerprintKey = "terrain.request"

    public init(computation: SurfaceComputation, path: String, fingerprint: String) {
        self.computation = computation
        self.path = path
        self.fingerprint = fingerprint
    }

    /// Points adopted from an earlier run of the same request.
    public private(set) var resumedPoints = 0

    @discardableResult
    public func run(overwrite: Bool = false) throws -> SurfaceFile {
        let journal = PointJournal(path: path + ".journal", fields: computation.quantities.count, fingerprint: fingerprint)
        if !overwrite && FileManager.default.fileExists(atPath: path) {
            let existing = try SurfaceFile.read(from: path)
            guard existing.textAttributes[Self.fingerprintKey] == fingerprint else {
                throw LandscapeError.incompatibleFile(path, "holds a surface of a different request (model, directions, grid or data); pass --overwrite to replace it, or choose another --out")
            }
            for q in computation.quantities {
                if let v = existing.values[q] { computation.restore(q, v) }
            }
        }
        if !overwrite {
            for record in journal.replay() where record.point >= 0 && record.point < computation.grid.pointCount {
                computation.record(point: record.point, record.values)
            }
        }
        let pending = computation.pendingPoints
        resumedPoints = computation.grid.pointCount - pending.count
        try file(elapsed: 0).write(to: path)
        try journal.reset()

        let start = Date()
        var lastConsolidation = start
        let progress = ProgressBar(total: computation.grid.pointCount, label: "surface")
        progress.enabled = showProgress
        for (n, point) in pending.enumerated() {
            let row = try computation.compute(point: point)
            try journal.append(point: point, values: row)
            let now = Date()
            if now.timeIntervalSince(lastConsolidation) > consolidationInterval {
                try file(elapsed: now.timeIntervalSince(start)).write(to: path)
                try journal.reset()
                lastConsolidation = now
            }
            let rate = Double(n + 1) / max(now.timeIntervalSince(start), 1e-9)
            progress.update(resumedPoints + n + 1, String(format: "%.2f points/s", rate))
        }
        progress.finish()
        computation.restoreCenter()
        let final = file(elapsed: Date().timeIntervalSince(start))
        try final.write(to: path)
        journal.remove()
        return final
    }

    func file(elapsed: Double) -> SurfaceFile {
        var text = textAttributes
        text[Self.fingerprintKey] = fingerprint
        var numbers = numberAttributes
        numbers["terrain.seconds"] = elapsed
        numbers["terrain.resumed_points"] = Double(resumedPoints)
        var file = SurfaceFile(grid: computation.grid, values: computation.values, directionFile: directionFile,
                               textAttributes: text, numberAttributes: numbers)
        file.extraDatasets = extraDatasets
        return file
    }

    /// A fingerprint of the exact numbers a surface depends on.
    public static func fingerprint(center: [Double], directions: [Direction], grid: SurfaceGrid,
                                   sets: [EvaluationSet], data: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ v: UInt64) { var v = v; for _ in 0..<8 { h = (h ^ (v & 0xff)) &* 0x100_0000_01b3; v >>= 8 } }
        for v in center { mix(v.bitPattern) }
        for d in directions { mix(UInt64(d.values.count)); for v in d.values { mix(v.bitPattern) } }
        for v in grid.x + [.nan] + grid.y { mix(v.bitPattern) }
        for s in sets { mix(s == .train ? 1 : 2) }
        for b in data.utf8 { mix(UInt64(b)) }
        return String(h, radix: 16)
    }
}
