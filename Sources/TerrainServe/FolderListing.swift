import Foundation
import TerrainIO

/// What a served folder holds, folder by folder: training runs (a folder with `run.json`, its
/// `metrics.csv` and `checkpoints/`), surfaces and other HDF5 files, figures, reports, tables.
///
/// Only what the server would serve is listed: hidden names are skipped, and a symbolic link
/// is followed only when its target lies inside the folder (each real folder once, so a link
/// cycle ends). Only regular files are listed (a FIFO named `x.h5` would block whoever opens
/// it). The walk stops at `maxDepth` folders down and `maxEntries` files.
///
/// `describingHDF5: false` leaves `.h5` files undescribed (no HDF5 call at all): the server
/// fills their notes from its cache and a worker of its own, so that a damaged file can never
/// hold up the listing.
public struct FolderListing: Sendable {
    public struct Item: Sendable {
        /// Relative to the served folder, `/`-separated.
        public var path: String
        public var kind: FileKind
        public var size: Int
        /// For `.h5`: a surface the viewer opens (with `xcoordinates`), and what it holds.
        public var isSurface = false
        public var note = ""
        public var name: String { path.split(separator: "/").last.map(String.init) ?? path }
    }

    /// One line about a training run, from its `run.json`.
    public struct Run: Sendable {
        public var summary: String
        public var checkpoints: Int
        /// Whether it has finished an epoch (metrics.csv), so that it has curves to draw.
        public var hasCurves = false
    }

    public struct Folder: Sendable {
        /// "" for the served folder itself.
        public var path: String
        public var run: Run?
        public var items: [Item]
    }

    public var folders: [Folder]
    /// Whether the walk stopped early (too deep or too many files).
    public var truncated = false

    public static func scan(_ served: ServedFolder, maxDepth: Int = 8, maxEntries: Int = 5000, describingHDF5: Bool = true) -> FolderListing {
        var listing = FolderListing(folders: [])
        var visited = Set<String>()
        var entries = 0
        func walk(_ real: String, depth: Int) {
            guard visited.insert(real).inserted else { return }
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: real) else { return }
            var folder = Folder(path: served.relative(real), run: nil, items: [])
            var subfolders: [String] = []
            for name in names.sorted() where !name.hasPrefix(".") {
                guard let target = ServedFolder.realPath(real + "/" + name), served.contains(target) else { continue }
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: target, isDirectory: &isFolder) else { continue }
                if isFolder.boolValue {
                    if name == "checkpoints" { continue }
                    subfolders.append(target)
                    continue
                }
                guard let kind = FileKind(fileName: name), ServedFolder.isRegularFile(target) else { continue }
                entries += 1
                if entries > maxEntries { listing.truncated = true; break }
                let size = ((try? FileManager.default.attributesOfItem(atPath: target))?[.size] as? NSNumber)?.intValue ?? 0
                var item = Item(path: folder.path.isEmpty ? name : folder.path + "/" + name, kind: kind, size: size)
                if kind == .hdf5 && describingHDF5 { describeHDF5(&item, at: target) }
                folder.items.append(item)
            }
            if names.contains("run.json") || names.contains("metrics.csv") { folder.run = runSummary(real) }
            if folder.run != nil || !folder.items.isEmpty { listing.folders.append(folder) }
            for sub in subfolders {
                if depth >= maxDepth { listing.truncated = true; continue }
                walk(sub, depth: depth + 1)
            }
        }
        walk(served.root, depth: 0)
        listing.folders.sort { $0.path < $1.path }
        return listing
    }

    /// What a Terrain HDF5 file is, from its contents: a 2D surface, a 1D curve (an interpolation
    /// between two models when it names them), an evolve stack (a surface per checkpoint), a
    /// Hessian spectrum, with a training path, a curvature map or a topology analysis noted;
    /// direction and projection files by name.
    public static func describeHDF5(_ item: inout Item, at path: String) {
        if item.name.hasSuffix(".directions.h5") { item.note = "directions"; return }
        if item.name.hasSuffix(".projection.h5") { item.note = "trajectory projection"; return }
        guard let file = try? HDF5File(path: path, mode: .readOnly) else { item.note = "not readable as HDF5"; return }
        defer { file.close() }
        guard file.exists("xcoordinates") else {
            item.note = file.exists("eigenvalues") ? spectrumNote(file) : "HDF5, not a surface"
            return
        }
        item.isSurface = true
        let grid = (try? file.datasetShape("train_loss")) ?? []
        var notes: [String]
        // `terrain connect`'s files: a curve between two models and the line beside it, and the
        // plane through them with the curve drawn on it.
        let isConnection: Bool = if case .string("connect")? = try? file.attribute("terrain.kind") { true } else { false }
        if grid.count == 3 || file.exists("frame_epoch") {
            notes = ["evolve stack" + (grid.count == 3 ? ": \(grid[0]) surfaces of \(grid[2])x\(grid[1])" : "")]
        } else if file.exists("ycoordinates") {
            notes = ["2D surface" + (grid.count == 2 ? " \(grid[1])x\(grid[0])" : "")]
        } else {
            let between = (try? file.attribute("terrain.from")) != nil && (try? file.attribute("terrain.to")) != nil
            let what = isConnection ? "curve between two models, and the line" : between ? "interpolation" : "1D surface"
            notes = [what + (grid.count == 1 ? ", \(grid[0]) points" : "")]
        }
        if file.exists("path_x") { notes.append(isConnection ? "the curve on the plane through its ends and bend" : "training path") }
        if file.exists("max_eig") { notes.append("curvature map") }
        if file.exists("analysis") { notes.append("topology analysed") }
        item.note = notes.joined(separator: ", ")
    }

    /// "Hessian spectrum: 4 extreme eigenvalues, trace, spectral density".
    static func spectrumNote(_ file: HDF5File) -> String {
        let count = (try? file.datasetShape("eigenvalues"))?.first ?? 0
        var parts = ["\(count) extreme eigenvalue\(count == 1 ? "" : "s")"]
        if file.exists("trace") { parts.append("trace") }
        if file.exists("density") { parts.append("spectral density") }
        return "Hessian spectrum: " + parts.joined(separator: ", ")
    }

    /// "mlp on digits.csv.gz, sgd, 2 epochs · final test accuracy 91.2 %, loss 0.31 · 4 checkpoints".
    static func runSummary(_ folder: String) -> Run {
        let checkpoints = ((try? FileManager.default.contentsOfDirectory(atPath: folder + "/checkpoints")) ?? [])
            .filter { $0.hasSuffix(".safetensors") }.count
        let hasCurves = ServedFolder.isRegularFile(folder + "/metrics.csv")
        guard let data = FileManager.default.contents(atPath: folder + "/run.json"),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return Run(summary: "run.json is not readable", checkpoints: checkpoints, hasCurves: hasCurves)
        }
        var parts: [String] = []
        let config = json["config"] as? [String: Any]
        let model = (json["model"] as? [String: Any])?["architecture"] as? String
        let dataset = (config?["dataset"] as? String).map { ($0 as NSString).lastPathComponent }
        let epochs = config?["epochs"] as? Int
        var what = [model, dataset.map { "on \($0)" }].compactMap { $0 }.joined(separator: " ")
        if let optimizer = config?["optimizer"] as? String, !optimizer.isEmpty { what += (what.isEmpty ? "" : ", ") + optimizer }
        if let epochs { what += (what.isEmpty ? "" : ", ") + "\(epochs) epoch\(epochs == 1 ? "" : "s")" }
        if !what.isEmpty { parts.append(what) }
        if let test = json["final_test"] as? [String: Any] {
            var result: [String] = []
            if let a = test["accuracy"] as? Double { result.append(String(format: "accuracy %.2f %%", a)) }
            if let l = test["loss"] as? Double { result.append(String(format: "loss %.4g", l)) }
            if !result.isEmpty { parts.append("final test " + result.joined(separator: ", ")) }
        }
        parts.append("\(checkpoints) checkpoint\(checkpoints == 1 ? "" : "s")")
        return Run(summary: parts.joined(separator: " · "), checkpoints: checkpoints, hasCurves: hasCurves)
    }
}
