import Foundation
import TerrainLandscape

/// One grid of values the viewer draws: a whole surface file, or one checkpoint of an evolve
/// stack. Values are laid out like the surface file's, values[j·nx + i] at (x[i], y[j]); a 1D
/// frame has an empty `y`. NaN (not computed) and ±∞ (diverged) are kept as they are: the page
/// draws them as holes in 3D and grey / pale-red cells in the contour view.
public struct ViewerFrame: Sendable {
    /// What the slider shows for this frame, e.g. "epoch 3 · loss 0.41 · accuracy 87 %".
    public var label: String
    public var x: [Double]
    public var y: [Double]
    /// Named grids in display order: the surface quantities (`train_loss`, `train_acc`,
    /// `test_loss`, `test_acc`), a connecting curve's straight line (`line_train_loss`, …), a
    /// next-token loss's perplexity (`train_perplexity`,
    /// `test_perplexity`), then curvature (`max_eig`, `min_eig`, `eig_ratio`).
    public var quantities: [(name: String, values: [Double])]
    /// The optimizer's path on the plane, when the surface is a trajectory's.
    public var path: ViewerPath?
    /// What `terrain analyze` stored, by quantity name, drawn over the contour view.
    public var topology: [String: ViewerTopology] = [:]

    public init(label: String, x: [Double], y: [Double], quantities: [(name: String, values: [Double])], path: ViewerPath? = nil) {
        self.label = label; self.x = x; self.y = y; self.quantities = quantities; self.path = path
    }

    /// Everything a surface file holds that the viewer can draw. `label` defaults to
    /// `ViewerFrame.describe(file, name:)`.
    public init(file: SurfaceFile, name: String, label: String? = nil) {
        var quantities: [(name: String, values: [Double])] = []
        for q in SurfaceQuantity.allCases {
            // An accuracy where the loss diverged is diverged (+∞), as in the figures.
            if let v = file.values[q] { quantities.append((q.rawValue, SurfaceFigures.markingDiverged(v, of: q, in: file))) }
        }
        let count = file.grid.pointCount
        // A curve between two models (`terrain connect`) holds the straight line's values beside
        // its own: `line_train_loss`, ….
        for q in SurfaceQuantity.allCases {
            let name = "line_\(q.rawValue)"
            if let v = file.extraDatasets[name], v.count == count { quantities.append((name, v)) }
        }
        // A next-token loss's perplexity (`SurfacePerplexity`) follows the quantities.
        for (_, name) in SurfacePerplexity.datasets {
            if let v = file.extraDatasets[name], v.count == count { quantities.append((name, v)) }
        }
        let maxEig = file.extraDatasets["max_eig"].flatMap { $0.count == count ? $0 : nil }
        let minEig = file.extraDatasets["min_eig"].flatMap { $0.count == count ? $0 : nil }
        if let maxEig { quantities.append(("max_eig", maxEig)) }
        if let minEig { quantities.append(("min_eig", minEig)) }
        if let maxEig, let minEig {
            // λmin/λmax, the convexity ratio of the curvature maps (undefined where λmax = 0).
            quantities.append(("eig_ratio", zip(minEig, maxEig).map { mn, mx in mx != 0 && mx.isFinite && mn.isFinite ? mn / mx : .nan }))
        }
        self.init(label: label ?? Self.describe(file, name: name), x: file.grid.x, y: file.grid.y,
                  quantities: quantities, path: ViewerPath(file: file))
        for (name, _) in quantities {
            if let stored = ViewerTopology(file: file, quantity: name) { topology[name] = stored }
        }
    }

    public var isTwoDimensional: Bool { !y.isEmpty }

    /// "name · epoch 3 · loss 0.412 · accuracy 87.1 %": the epoch when the file records one
    /// (`terrain.epoch`), then the train (else test) loss, perplexity (a next-token loss's: "loss
    /// 1.9 · perplexity 6.69 · token accuracy 45.2 %") and accuracy at the grid point nearest
    /// the centre (0, 0), which is the checkpoint itself for a surface around it. Without a
    /// name (a panel's only frame, under the panel's title), the name is left out.
    public static func describe(_ file: SurfaceFile, name: String?) -> String {
        var parts = name.map { [$0] } ?? []
        if let epoch = file.numberAttributes["terrain.epoch"] ?? file.textAttributes["terrain.epoch"].flatMap(Double.init) {
            parts.append("epoch \(Int(epoch))")
        }
        let grid = file.grid
        func nearestZero(_ values: [Double]) -> Int {
            values.indices.min { abs(values[$0]) < abs(values[$1]) } ?? 0
        }
        if !grid.x.isEmpty {
            let point = nearestZero(grid.x) + (grid.isTwoDimensional ? nearestZero(grid.y) * grid.x.count : 0)
            let loss = file.values[.trainLoss] ?? file.values[.testLoss]
            let accuracy = file.values[.trainAccuracy] ?? file.values[.testAccuracy]
            // A next-token loss's surface (it holds perplexity): its perplexity, the number a
            // language model is judged by, and its accuracy is over tokens.
            let perplexity = file.values[.trainLoss] != nil ? file.extraDatasets[SurfacePerplexity.datasets[0].name]
                : file.extraDatasets[SurfacePerplexity.datasets[1].name]
            if let loss, point < loss.count, loss[point].isFinite { parts.append(String(format: "loss %.4g", loss[point])) }
            if let perplexity, point < perplexity.count, perplexity[point].isFinite {
                parts.append(String(format: "perplexity %.4g", perplexity[point]))
            }
            if let accuracy, point < accuracy.count, accuracy[point].isFinite {
                parts.append((perplexity == nil ? "accuracy " : "token accuracy ") + String(format: "%.1f %%", accuracy[point]))
            }
        }
        return parts.isEmpty ? "" : parts.joined(separator: " · ")
    }
}

/// A training path projected on a surface's plane (`path_x`, `path_y`, optional
/// `path_iteration` and `path_lr_drop` in a trajectory's surface file).
public struct ViewerPath: Sendable {
    public var x: [Double]
    public var y: [Double]
    public var iterations: [Double]?
    /// Indices of the points where the learning rate dropped.
    public var drops: [Int]

    public init(x: [Double], y: [Double], iterations: [Double]? = nil, drops: [Int] = []) {
        self.x = x; self.y = y; self.iterations = iterations; self.drops = drops
    }

    /// The path a file holds, or nil. Non-finite points are left out (JSON has no NaN).
    public init?(file: SurfaceFile) {
        guard let px = file.extraDatasets["path_x"], let py = file.extraDatasets["path_y"], px.count == py.count, !px.isEmpty else { return nil }
        let keep = px.indices.filter { px[$0].isFinite && py[$0].isFinite }
        guard !keep.isEmpty else { return nil }
        let flags = file.extraDatasets["path_lr_drop"]
        let steps = file.extraDatasets["path_iteration"].flatMap { $0.count == px.count ? $0 : nil }
        self.init(x: keep.map { px[$0] }, y: keep.map { py[$0] },
                  iterations: steps.map { s in keep.map { s[$0].isFinite ? s[$0] : 0 } },
                  drops: keep.indices.filter { k in flags.map { keep[k] < $0.count && $0[keep[k]] != 0 } ?? false })
    }
}
