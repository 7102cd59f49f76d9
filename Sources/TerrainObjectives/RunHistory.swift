import Foundation
import TerrainTensor
import TerrainTraining
import TerrainLandscape

/// The checkpoints of a training run folder (`run.json`), in training order, with the
/// iterations at which the learning rate dropped.
public struct RunHistory {
    public struct Entry: Sendable {
        public var path: String
        public var epoch: Int
        public var iteration: Int
        /// Written at the end of an epoch (`epoch-NNNN`; epoch 0 is the initialization), not
        /// every few iterations (`iter-NNNNNNNN`).
        public var isEpochCheckpoint: Bool { URL(fileURLWithPath: path).lastPathComponent.hasPrefix("epoch-") }
    }

    public var folder: String
    /// Every saved checkpoint but `final`/`swa`, by iteration (one per iteration).
    public var entries: [Entry]
    public var finalPath: String
    public var learningRateDrops: [Int]
    /// The run's model as an ONNX graph, when `run.json` names one (key `onnx`, a path relative to
    /// the folder): a run recorded from PyTorch (`terrain.Recorder`) whose checkpoints are
    /// state_dicts of a network the zoo does not have. The graph's initializers are named as the
    /// checkpoints' tensors, so each checkpoint's values load into it by name.
    public var onnx: String?

    public init(folder: String) throws {
        self.folder = folder
        let runURL = URL(fileURLWithPath: folder).appendingPathComponent("run.json")
        guard let data = FileManager.default.contents(atPath: runURL.path),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let list = json["checkpoints"] as? [[String: Any]] else {
            throw LandscapeError.incompatibleFile(runURL.path, "no readable run.json: is \(folder) a run folder written by `terrain train`?")
        }
        var byIteration: [Int: Entry] = [:]
        for item in list {
            guard let file = item["file"] as? String, let epoch = item["epoch"] as? Int, let iteration = item["iteration"] as? Int,
                  file.hasPrefix("checkpoints/") else { continue }
            let path = URL(fileURLWithPath: folder).appendingPathComponent(file).path
            if FileManager.default.fileExists(atPath: path) { byIteration[iteration] = Entry(path: path, epoch: epoch, iteration: iteration) }
        }
        entries = byIteration.values.sorted { $0.iteration < $1.iteration }
        finalPath = URL(fileURLWithPath: folder).appendingPathComponent("final.safetensors").path
        guard FileManager.default.fileExists(atPath: finalPath) else {
            throw LandscapeError.incompatibleFile(folder, "no final.safetensors: the run did not finish")
        }
        learningRateDrops = ((json["learning_rate_changes"] as? [[String: Any]]) ?? []).compactMap { $0["iteration"] as? Int }
        if let graph = json["onnx"] as? String {
            let path = graph.hasPrefix("/") ? graph : URL(fileURLWithPath: folder).appendingPathComponent(graph).path
            guard FileManager.default.fileExists(atPath: path) else {
                throw LandscapeError.incompatibleFile(runURL.path, "its model \(graph) (key onnx) does not exist")
            }
            onnx = path
        }
    }

    /// A checkpoint's values in the objective's layout, read straight from the file (whose
    /// model description, if any, is not needed: a PyTorch state_dict reads as well).
    public static func parameters(of path: String, groups: [ParameterGroup]) throws -> [Double] {
        try parameters(of: Checkpoint.readTensors(from: URL(fileURLWithPath: path)).tensors, path: path, groups: groups)
    }

    /// A checkpoint's values in the objective's layout and the metrics training logged with it
    /// (`terrain.train_loss`, `terrain.train_acc`, `terrain.test_loss`, `terrain.test_acc` in its
    /// metadata: epoch checkpoints and the final one carry them). Like `parameters(of:groups:)`,
    /// it needs no model description, so a PyTorch state_dict reads as well.
    public static func load(_ path: String, groups: [ParameterGroup]) throws -> (parameters: [Double], logged: [SurfaceQuantity: Double]) {
        let checkpoint = try Checkpoint.readTensors(from: URL(fileURLWithPath: path))
        var logged: [SurfaceQuantity: Double] = [:]
        for q in SurfaceQuantity.allCases {
            if let text = checkpoint.metadata["terrain.\(q.rawValue)"], let v = Double(text) { logged[q] = v }
        }
        return (try parameters(of: checkpoint.tensors, path: path, groups: groups), logged)
    }

    static func parameters(of tensors: [String: Tensor<Float>], path: String, groups: [ParameterGroup]) throws -> [Double] {
        var flat = [Double](repeating: 0, count: groups.scalarCount)
        for g in groups {
            guard let t = tensors[g.name], t.shape == g.shape else {
                throw LandscapeError.incompatibleFile(path, "tensor \(g.name) is missing or shaped differently from the final model's")
            }
            let p = t.pointer
            for i in 0..<g.count { flat[g.offset + i] = Double(p[i]) }
        }
        return flat
    }
}

extension RunHistory {
    /// The path datasets stored beside a surface: each checkpoint's (x, y) on the plane, its
    /// iteration and epoch, and 1 at the first checkpoint after each learning-rate drop.
    public func pathDatasets(_ coordinates: [(x: Double, y: Double)]) -> [String: [Double]] {
        precondition(coordinates.count == entries.count)
        let drops = Set(learningRateDrops.compactMap { drop in entries.firstIndex { $0.iteration >= drop } })
        return ["path_x": coordinates.map(\.x), "path_y": coordinates.map(\.y),
                "path_iteration": entries.map { Double($0.iteration) },
                "path_epoch": entries.map { Double($0.epoch) },
                "path_lr_drop": entries.indices.map { drops.contains($0) ? 1 : 0 }]
    }
}

/// Which of a run's checkpoints become the frames of a stack.
public enum FrameSelection: String, Sendable, CaseIterable, Codable {
    /// The initialization and each epoch's end (`epoch-NNNN`).
    case epochs
    /// Every checkpoint, iteration checkpoints included, in training order.
    case all
}

extension RunHistory {
    /// The checkpoints chosen as frames, in training order; at most `limit` of them (when given),
    /// evenly spread over the chosen ones and always keeping the first and the last.
    public func frames(_ selection: FrameSelection, limit: Int? = nil) -> [Entry] {
        let chosen = selection == .all ? entries : entries.filter(\.isEpochCheckpoint)
        guard let limit, limit > 0, chosen.count > limit else { return chosen }
        guard limit > 1 else { return [chosen[chosen.count - 1]] }
        let last = chosen.count - 1
        // k·last/(limit−1) rounded: strictly increasing because last > limit − 1.
        return (0..<limit).map { chosen[Int((Double($0 * last) / Double(limit - 1)).rounded())] }
    }
}
