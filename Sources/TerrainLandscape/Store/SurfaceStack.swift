import Foundation

/// A stack of surfaces over one grid, one per frame (`terrain evolve`), read one way by every
/// consumer (the animation, the viewer): `frames[k]` describes frame k (its `label` is the
/// caption) and `surface(at: k)` is its surface as an ordinary `SurfaceFile`.
///
/// The HDF5 layout (h5py reads it as it is):
///
///     xcoordinates, ycoordinates           float64 [nx], [ny]   shared by every frame
///     train_loss, train_acc, test_loss, test_acc
///                                          float64 (F, ny, nx)  frame k's surface is [k]
///                                          ((F, nx) for a 1D stack); NaN: not computed, +∞: diverged
///     train_perplexity, test_perplexity    float64 (F, ny, nx)  a next-token loss's exp(loss)
///                                                       (`SurfacePerplexity`); token data only
///     frame_checkpoint                     string [F]   each frame's checkpoint path
///     frame_epoch, frame_iteration         float64 [F]
///     frame_x, frame_y                     float64 [F]  the checkpoint's position on its frame's
///                                                       plane: 0 when riding, its projection on a fixed plane
///     frame_train_loss, frame_train_acc, frame_test_loss, frame_test_acc
///                                          float64 [F]  the checkpoint itself on the surface's data
///     frame_logged_train_loss, …           float64 [F]  what training logged with the checkpoint
///                                                       (epoch checkpoints), NaN where nothing was
///     path_x, path_y, path_iteration, path_epoch, path_lr_drop
///                                          float64 [N]  fixed plane only: every checkpoint of the run projected
///     dir_file                             string       fixed plane: its two axes; riding: empty
///                                                       (the directions are re-drawn from terrain.seed)
///     attributes  terrain.evolve.mode = riding | fixed-pca, terrain.kind = evolve, terrain.run,
///                 terrain.frames, the direction options (terrain.seed, terrain.xnorm, …) or the
///                 plane's explained variance (terrain.pc1_explained, terrain.pc2_explained),
///                 terrain.request (the fingerprint that makes the file resumable)
///
/// In `riding` mode frame k is the surface `terrain surface --checkpoint <frame_checkpoint[k]>`
/// computes with the same options; in `fixed-pca` mode every frame holds the same surface (the
/// run's PCA plane through the final weights, as `terrain trajectory` computes it) and frames
/// differ by the checkpoint's position on it.
public struct SurfaceStack {
    /// The attribute naming the mode.
    public static let modeAttribute = "terrain.evolve.mode"

    /// The file as read, with every frame's values.
    public var file: SurfaceFile
    public var frames: [StackFrame]
    /// "riding" or "fixed-pca".
    public var mode: String

    public var grid: SurfaceGrid { file.grid }
    public var count: Int { frames.count }
    /// The quantities the stack holds.
    public var quantities: [SurfaceQuantity] { SurfaceQuantity.allCases.filter { file.values[$0] != nil } }

    public static func read(from path: String) throws -> SurfaceStack {
        let file = try SurfaceFile.read(from: path, allowingStacks: true)
        return try SurfaceStack(file: file, path: path)
    }

    /// A stack from a file already read; `path` names it in errors.
    public init(file: SurfaceFile, path: String) throws {
        guard let count = file.frameCount else {
            throw LandscapeError.incompatibleFile(path, "holds one surface, not a stack of them: draw it with `terrain plot`")
        }
        func list(_ name: String) throws -> [Double]? {
            guard let v = file.extraDatasets[name] else { return nil }
            guard v.count == count else { throw LandscapeError.incompatibleFile(path, "\(name) has \(v.count) entries for \(count) frames") }
            return v
        }
        let names = file.textDatasets["frame_checkpoint"] ?? (0..<count).map { "frame \($0)" }
        guard names.count == count else {
            throw LandscapeError.incompatibleFile(path, "frame_checkpoint has \(names.count) entries for \(count) frames")
        }
        let epochs = try list("frame_epoch"), iterations = try list("frame_iteration")
        let xs = try list("frame_x"), ys = try list("frame_y")
        var own: [SurfaceQuantity: [Double]] = [:], logged: [SurfaceQuantity: [Double]] = [:]
        for q in SurfaceQuantity.allCases {
            own[q] = try list("frame_\(q.rawValue)")
            logged[q] = try list("frame_logged_\(q.rawValue)")
        }
        func whole(_ v: Double?) -> Int { v.flatMap { $0.isFinite ? Int(exactly: $0.rounded()) : nil } ?? 0 }
        let perplexity = SurfacePerplexity.isStored(in: file)
        frames = (0..<count).map { k in
            StackFrame(checkpoint: names[k], epoch: whole(epochs?[k]), iteration: whole(iterations?[k]),
                       x: xs?[k] ?? 0, y: ys?[k] ?? 0,
                       values: own.compactMapValues { $0[k] }, logged: logged.compactMapValues { $0[k] }.filter { !$0.value.isNaN },
                       showsPerplexity: perplexity)
        }
        self.file = file
        mode = file.textAttributes[Self.modeAttribute] ?? "riding"
    }

    /// Frame k's values of one quantity (grid order: values[j·nx + i] at (x[i], y[j])).
    public func values(_ quantity: SurfaceQuantity, frame k: Int) -> [Double]? {
        precondition(k >= 0 && k < count, "frame \(k) of \(count)")
        guard let all = file.values[quantity] else { return nil }
        let p = grid.pointCount
        return Array(all[(k * p)..<((k + 1) * p)])
    }

    /// Frame k as one surface: its values, its slice of datasets shaped like them (perplexity),
    /// the stack's attributes, direction file and path (`path_*`), without the `frame_*` datasets.
    public func surface(at k: Int) -> SurfaceFile {
        var values: [SurfaceQuantity: [Double]] = [:]
        for q in quantities { values[q] = self.values(q, frame: k) }
        var surface = SurfaceFile(grid: grid, values: values, directionFile: file.directionFile,
                                  textAttributes: file.textAttributes, numberAttributes: file.numberAttributes)
        let p = grid.pointCount
        for (name, v) in file.extraDatasets where !name.hasPrefix("frame_") {
            surface.extraDatasets[name] = file.isStackShaped(name, count: v.count) ? Array(v[(k * p)..<((k + 1) * p)]) : v
        }
        return surface
    }

    /// The finite values of a quantity over every frame: what one colour scale for all frames spans.
    public func finiteValues(_ quantity: SurfaceQuantity) -> [Double] {
        (file.values[quantity] ?? []).filter(\.isFinite)
    }

    /// The `frame_*` number datasets of some frames.
    static func frameDatasets(_ frames: [StackFrame]) -> [String: [Double]] {
        var result = ["frame_epoch": frames.map { Double($0.epoch) }, "frame_iteration": frames.map { Double($0.iteration) },
                      "frame_x": frames.map(\.x), "frame_y": frames.map(\.y)]
        for q in SurfaceQuantity.allCases {
            if frames.contains(where: { $0.values[q] != nil }) { result["frame_\(q.rawValue)"] = frames.map { $0.values[q] ?? .nan } }
            result["frame_logged_\(q.rawValue)"] = frames.map { $0.logged[q] ?? .nan }
        }
        return result
    }
}
