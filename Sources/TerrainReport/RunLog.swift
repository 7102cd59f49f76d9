import Foundation

/// What a training run logged, read from its folder as `terrain train` (`Trainer`) and the Python
/// package's `terrain.Recorder` write it:
///
///     metrics.csv      a row per epoch: epoch, iteration, lr, train_loss, train_acc, test_loss,
///                      test_acc, weight_norm, … (an empty cell: not measured)
///     iterations.csv   a row per optimizer step: iteration, epoch, lr, loss, acc, weight_norm
///                      (the Recorder writes the weight norm only at its checkpoint steps)
///     run.json         learning_rate_changes: [{epoch, iteration, from, to}]
///
/// A folder is a run when it holds metrics.csv or run.json; what a run lacks (test metrics,
/// iterations.csv, accuracy for a regression) is left out of its figures, never an error.
/// Only the logs are read, never a checkpoint, so an unfinished run draws too.
public struct RunLog: Sendable {
    /// A CSV log: its columns, and per column its values by row (NaN where a cell is empty).
    public struct Table: Sendable, Equatable {
        public var columns: [String]
        public var rows: [[Double]]

        public init(columns: [String], rows: [[Double]]) {
            self.columns = columns; self.rows = rows
        }

        /// The column's values by row; nil when the log has no such column or it holds no
        /// finite value (a column that was never measured).
        public func values(_ column: String) -> [Double]? {
            guard let k = columns.firstIndex(of: column) else { return nil }
            let values = rows.map { $0[k] }
            return values.contains(where: \.isFinite) ? values : nil
        }

        /// (x, y) pairs of two columns where both are finite: the points of a curve (a log with
        /// gaps, such as the Recorder's sparse weight norms, still draws one connected line).
        public func points(x: String, y: String) -> (x: [Double], y: [Double])? {
            guard let xs = values(x), let ys = values(y) else { return nil }
            let kept = xs.indices.filter { xs[$0].isFinite && ys[$0].isFinite }
            return kept.isEmpty ? nil : (kept.map { xs[$0] }, kept.map { ys[$0] })
        }
    }

    /// A jump down (or up) of the learning rate that the schedule made, as run.json records it:
    /// during epoch `epoch` (from 0), after `iteration` steps, from one rate to the other.
    public struct RateChange: Sendable, Equatable {
        public var epoch: Int
        public var iteration: Int
        public var from: Double
        public var to: Double

        public init(epoch: Int, iteration: Int, from: Double, to: Double) {
            self.epoch = epoch; self.iteration = iteration; self.from = from; self.to = to
        }
    }

    /// Why a folder cannot be read as a run.
    public struct ReadError: Error, CustomStringConvertible {
        public var path: String
        public var why: String
        public var description: String { "\(path): \(why)" }
    }

    /// The folder's name: what figures and legends call the run.
    public var name: String
    public var folder: String
    /// metrics.csv; nil when the run has not finished an epoch yet.
    public var epochs: Table?
    /// iterations.csv; nil when the run has none.
    public var iterations: Table?
    /// The learning-rate changes of run.json (empty when there is none or it records none).
    public var rateChanges: [RateChange]
    /// What the run was trained with, from run.json, in reading order (model, data set,
    /// optimizer, learning rate, schedule, weight decay, batch size, seed): what tells one run of
    /// a comparison from another. Only the settings run.json records.
    public var settings: [(name: String, value: String)] = []

    public init(name: String, folder: String, epochs: Table?, iterations: Table?, rateChanges: [RateChange]) {
        self.name = name; self.folder = folder; self.epochs = epochs; self.iterations = iterations; self.rateChanges = rateChanges
    }

    /// Reads a run folder.
    /// - Throws: `ReadError` when the path is not a folder, holds neither metrics.csv nor
    ///   run.json, or one of its logs is malformed (named with its line).
    public init(folder: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw ReadError(path: folder, why: "not a run folder (a folder written by `terrain train` or terrain.Recorder)")
        }
        let url = URL(fileURLWithPath: folder)
        let metrics = url.appendingPathComponent("metrics.csv").path, iterations = url.appendingPathComponent("iterations.csv").path
        let record = url.appendingPathComponent("run.json").path
        let manager = FileManager.default
        guard manager.fileExists(atPath: metrics) || manager.fileExists(atPath: record) else {
            throw ReadError(path: folder, why: "not a run folder: expected metrics.csv (a row per epoch), iterations.csv and run.json, as `terrain train` and terrain.Recorder write them")
        }
        self.folder = folder
        name = url.standardizedFileURL.lastPathComponent
        epochs = manager.fileExists(atPath: metrics) ? try Self.table(at: metrics) : nil
        self.iterations = manager.fileExists(atPath: iterations) ? try Self.table(at: iterations) : nil
        if manager.fileExists(atPath: record) {
            let json = try Self.object(at: record)
            rateChanges = Self.rateChanges(json)
            settings = Self.settings(json)
        } else {
            rateChanges = []
        }
    }

    /// The steps of one epoch, from metrics.csv (iterations done at an epoch's end over epochs
    /// done); nil without both columns.
    public var stepsPerEpoch: Double? {
        guard let row = epochs?.points(x: "epoch", y: "iteration"), let k = row.x.lastIndex(where: { $0 > 0 }) else { return nil }
        let steps = row.y[k] / row.x[k]
        return steps > 0 ? steps : nil
    }

    /// Where each learning-rate drop falls on an epoch axis (epochs done, so a drop between epochs
    /// 3 and 4 is at 3): its iteration over the steps of an epoch, or its epoch without them.
    public var rateDropEpochs: [Double] {
        drops.map { change in stepsPerEpoch.map { Double(change.iteration) / $0 } ?? Double(change.epoch) }
    }

    /// Where each learning-rate drop falls on an iteration axis (steps done before the new rate).
    public var rateDropIterations: [Double] { drops.map { Double($0.iteration) } }

    /// The changes that lower the rate (a schedule's warm-up jump, if any, is not a drop).
    private var drops: [RateChange] { rateChanges.filter { $0.to < $0.from } }

    static func table(at path: String) throws -> Table {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReadError(path: path, why: "cannot be read")
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
            .map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        guard let header = lines.first else { throw ReadError(path: path, why: "is empty: expected a header line of column names") }
        let columns = header.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var rows: [[Double]] = []
        for (k, line) in lines.dropFirst().enumerated() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cells.count == columns.count else {
                throw ReadError(path: path, why: "line \(k + 2) has \(cells.count) cells for the header's \(columns.count) columns")
            }
            rows.append(try cells.map { cell in
                let text = cell.trimmingCharacters(in: .whitespaces)
                if text.isEmpty { return .nan }
                guard let v = Double(text) else { throw ReadError(path: path, why: "line \(k + 2): '\(text)' is not a number") }
                return v
            })
        }
        return Table(columns: columns, rows: rows)
    }

    static func object(at path: String) throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: path),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ReadError(path: path, why: "is not a readable JSON object")
        }
        return json
    }

    static func rateChanges(_ json: [String: Any]) -> [RateChange] {
        let list = (json["learning_rate_changes"] as? [[String: Any]]) ?? []
        return list.compactMap { item in
            guard let epoch = (item["epoch"] as? NSNumber)?.intValue, let iteration = (item["iteration"] as? NSNumber)?.intValue,
                  let from = (item["from"] as? NSNumber)?.doubleValue, let to = (item["to"] as? NSNumber)?.doubleValue else { return nil }
            return RateChange(epoch: epoch, iteration: iteration, from: from, to: to)
        }
    }

    /// run.json's `model.architecture` and the `config` keys `Trainer` writes (a Recorder's run
    /// has its model's name and data set).
    static func settings(_ json: [String: Any]) -> [(name: String, value: String)] {
        let config = json["config"] as? [String: Any] ?? [:]
        func text(_ value: Any?) -> String? {
            switch value {
            case let s as String: return s.isEmpty ? nil : s
            case let n as NSNumber: return n.stringValue
            default: return nil
            }
        }
        var settings: [(String, String)] = []
        let model = (json["model"] as? [String: Any]).flatMap { text($0["description"]) ?? text($0["architecture"]) }
        let entries: [(String, String?)] = [
            ("model", model),
            ("data", text(config["dataset"]).map { ($0 as NSString).lastPathComponent }),
            ("optimizer", text(config["optimizer"])),
            ("learning rate", text(config["learningRate"])),
            ("schedule", text(config["schedule"]).flatMap { $0 == "constant" ? nil : $0 }),
            ("weight decay", text(config["weightDecay"]).flatMap { $0 == "0" ? nil : $0 }),
            ("batch size", text(config["batchSize"])),
            ("seed", text(config["seed"])),
        ]
        for case let (name, value?) in entries { settings.append((name, value)) }
        return settings
    }
}
