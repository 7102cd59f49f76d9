import Foundation
import TerrainIO
import TerrainLandscape

/// Sharpness numbers of one or more models (`terrain sharpness`): ε-sharpness (Keskar et al.
/// 2017) by projected gradient ascent, the mean ± sd loss increase at a radius along random
/// filter-normalized directions, and optionally λmax by Lanczos; written to `csv` if given.
public struct SharpnessRequest {
    public var models: [ModelSource]
    /// One set (`data.sets` holds exactly one); `settings.set` is taken from it.
    public var data: EvaluationData
    public var settings: SharpnessSettings
    public var csv: String?
    /// Measure each model on this many random subsets of `data.subset` samples (`--subset-repeats`;
    /// subset k drawn from the subset seed + 2k, `SurfaceRepeats.memberSeed`, so subset 0 is the
    /// plain run's) and give each number's spread over them; nil or 1: the one subset.
    public var subsetRepeats: Int?

    public init(models: [ModelSource], data: EvaluationData = EvaluationData(), settings: SharpnessSettings = SharpnessSettings(),
                csv: String? = nil, subsetRepeats: Int? = nil) {
        self.models = models
        self.data = data
        self.settings = settings
        self.csv = csv
        self.subsetRepeats = subsetRepeats
    }

    /// One model's numbers.
    public struct Row {
        /// The file's name (its last path component; more of the path where files share a name),
        /// and the path.
        public var name: String
        public var path: String
        /// The numbers on the data (on subset 0 with `subsetRepeats`).
        public var report: SharpnessReport
        /// With `subsetRepeats`: the numbers on every subset, `report` first, and each subset's seed.
        public var subsets: [(seed: UInt64, report: SharpnessReport)] = []

        /// A number's mean and sample standard deviation (ddof = 1) over the subsets, over those
        /// where it is finite (`SurfaceRepeats.spread`).
        public func spread(_ number: (SharpnessReport) -> Double?) -> (mean: Double, standardDeviation: Double, count: Int) {
            SurfaceRepeats.spread(of: subsets.map { number($0.report) ?? .nan })
        }
    }

    public func validate() throws {
        guard !models.isEmpty else { throw RequestError("name at least one checkpoint") }
        _ = try data.singleSet("sharpness is measured on one set: --data train or --data test")
        if let csv, csv.isEmpty { throw RequestError("--csv needs a file name") }
        if let subsetRepeats {
            guard subsetRepeats >= 1, subsetRepeats <= SurfaceRequest.Repeats.maximumMembers else {
                throw RequestError("--subset-repeats takes a number of subsets from 1 to \(SurfaceRequest.Repeats.maximumMembers), got \(subsetRepeats)")
            }
            guard data.subset != nil else {
                throw RequestError("--subset-repeats \(subsetRepeats) draws \(subsetRepeats) subsets of --subset N samples each: give --subset too")
            }
        }
    }

    /// Each checkpoint's name in the table: its file name, or, where files share one (every run's
    /// `final.safetensors`), as much of the path as tells them apart (`cnn-b64/final.safetensors`).
    static func distinctNames(_ paths: [String]) -> [String] {
        let parts = paths.map { URL(fileURLWithPath: $0).standardizedFileURL.pathComponents.filter { $0 != "/" } }
        return parts.indices.map { k in
            var depth = 1
            func tail(_ p: [String], _ n: Int) -> String { p.suffix(n).joined(separator: "/") }
            while depth < parts[k].count,
                  parts.indices.contains(where: { $0 != k && parts[$0] != parts[k] && tail(parts[$0], depth) == tail(parts[k], depth) }) {
                depth += 1
            }
            return tail(parts[k], depth)
        }
    }

    public func run(progress: RequestProgress = .standard()) throws -> [Row] {
        try validate()
        var settings = settings
        settings.set = data.sets[0]
        var rows: [Row] = []
        let names = Self.distinctNames(models.map(\.label))
        for (index, model) in models.enumerated() {
            let path = model.label
            let name = names[index]
            let count = subsetRepeats ?? 1
            var subsets: [(seed: UInt64, report: SharpnessReport)] = []
            for k in 0..<count {
                var subset = data
                subset.subsetSeed = SurfaceRepeats.memberSeed(data.subsetSeed, member: k)
                let loaded = try model.load(on: subset, progress: k == 0 ? progress : .silent)
                progress.status("[\(index + 1)/\(models.count)] \(name): \(loaded.dataDescription)"
                                + (count > 1 ? " (subset \(k + 1) of \(count))" : ""))
                subsets.append((subset.subsetSeed, try report(on: loaded, name: name, settings: settings, progress: progress)))
            }
            rows.append(Row(name: name, path: path, report: subsets[0].report, subsets: count > 1 ? subsets : []))
        }
        if let csv {
            try AtomicFile.write(Data(Self.csvText(rows).utf8), to: URL(fileURLWithPath: csv))
            progress.status("wrote \(csv)")
        }
        return rows
    }

    /// One model's numbers on the data it was loaded on.
    private func report(on loaded: LoadedModel, name: String, settings: SharpnessSettings, progress: RequestProgress) throws -> SharpnessReport {
        guard let objective = loaded.objective as? any DifferentiableObjective else {
            throw RequestError("\(name): sharpness needs the gradient of the loss (a differentiable objective)")
        }
        // Step counts on one rewritten line, only when standard error is a terminal.
        let live = progress.showsBar && isatty(2) == 1
        let report = try Sharpness.report(of: objective, settings: settings) { phase, done, total in
            guard live else { return }
            let text = "\(phase.rawValue) \(done)" + (phase == .lanczos ? "" : "/\(total)")
            FileHandle.standardError.write(Data("\r  \(text)   ".utf8))
        }
        if live { FileHandle.standardError.write(Data("\r".utf8) + Data(repeating: 0x20, count: 40) + Data("\r".utf8)) }
        return report
    }

    /// A number as the table and the CSV write it: nan, inf, -inf in words.
    public static func format(_ x: Double, _ format: String = "%.6g") -> String {
        x.isNaN ? "nan" : x.isInfinite ? (x > 0 ? "inf" : "-inf") : String(format: format, x)
    }

    /// The CSV: one row per model, every number with 17 significant digits; with subset repeats,
    /// one row per model and subset, its seed in the last column `subset_seed`.
    static func csvText(_ rows: [Row]) -> String {
        let repeated = rows.contains { !$0.subsets.isEmpty }
        var text = "checkpoint,set,loss,accuracy,epsilon,ascent_steps,max_loss,epsilon_sharpness,radius,directions,seed,"
            + "loss_increase_mean,loss_increase_sd,lambda_max,lanczos_iterations" + (repeated ? ",subset_seed" : "") + "\n"
        let lines: [(path: String, report: SharpnessReport, seed: UInt64?)] = rows.flatMap { row in
            row.subsets.isEmpty ? [(row.path, row.report, nil)] : row.subsets.map { (row.path, $0.report, $0.seed) }
        }
        for (path, r, subsetSeed) in lines {
            let quoted = path.contains(",") || path.contains("\"") ? "\"" + path.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : path
            let fields: [String] = [
                quoted, r.settings.set.rawValue, format(r.loss, "%.17g"), r.accuracy.map { format($0, "%.17g") } ?? "",
                format(r.epsilon.epsilon, "%.17g"), "\(r.epsilon.steps)", format(r.epsilon.maximumLoss, "%.17g"),
                format(r.epsilon.sharpness, "%.17g"), format(r.lossIncrease.radius, "%.17g"),
                "\(r.lossIncrease.directionCount)", "\(r.lossIncrease.seed)",
                format(r.lossIncrease.mean, "%.17g"), format(r.lossIncrease.standardDeviation, "%.17g"),
                r.topEigenvalue.map { format($0.value, "%.17g") } ?? "", r.topEigenvalue.map { "\($0.iterations)" } ?? "",
            ] + (repeated ? [subsetSeed.map { "\($0)" } ?? ""] : [])
            text += fields.joined(separator: ",") + "\n"
        }
        return text
    }
}
