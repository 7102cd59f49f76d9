import Foundation
import TerrainTensor

/// A stack of loss surfaces over one grid, one per frame (a checkpoint of a training run),
/// computed as one resumable `GridComputation`: what `terrain evolve` runs with `SurfaceRunner`.
///
/// A *layer* is one surface θₗ + α·dxₗ + β·dyₗ over the grid, computed exactly as a
/// `SurfaceComputation` computes it (each point from the layer's centre). A *frame* shows a
/// checkpoint over one layer:
///
/// - riding (`terrain evolve --mode riding`): one layer per frame, centred on the frame's
///   checkpoint, with the same random directions normalized to its weights (`DirectionRecipe`);
/// - fixed plane (`--mode fixed-pca`): one layer, the run's PCA plane through the final weights,
///   shared by every frame; each frame marks where its checkpoint projects onto it.
///
/// Besides the grid points, each frame's checkpoint is evaluated on the same data (its own loss
/// and accuracy, for captions; on a fixed plane a checkpoint is generally not on the plane, so
/// this is not a grid value). The runner numbers the points
///
///     0 ..< F                      frame k's checkpoint itself
///     F + l·P ..< F + (l + 1)·P    layer l's grid points (P = grid.pointCount), in grid order
///
/// so a killed run resumes with every finished point, as for one surface, and the points are
/// spread over threads (one objective replica per thread) with the same bits for any count.
/// The stored file (`store(into:)`, see `SurfaceStack`) holds each quantity shaped
/// (F, len(y), len(x)): frame k's layer, copied for frames that share one.
public final class SurfaceStackComputation: GridComputation {
    /// One surface of the stack.
    public struct Layer {
        public var center: [Double]
        public var xDirection: Direction
        public var yDirection: Direction?
        public init(center: [Double], xDirection: Direction, yDirection: Direction?) {
            self.center = center; self.xDirection = xDirection; self.yDirection = yDirection
        }
    }

    /// A frame to compute: its description, its checkpoint's weights and the layer it shows.
    public struct FrameSource {
        public var frame: StackFrame
        public var weights: [Double]
        public var layer: Int
        public init(frame: StackFrame, weights: [Double], layer: Int) {
            self.frame = frame; self.weights = weights; self.layer = layer
        }
    }

    /// "riding" or "fixed-pca": stored as `terrain.evolve.mode`.
    public let mode: String
    public let grid: SurfaceGrid
    public let sets: [EvaluationSet]
    public let objective: Objective
    public let layers: [SurfaceComputation]
    public private(set) var frames: [StackFrame]
    private let weights: [[Double]]
    private let layerOfFrame: [Int]
    /// The objective and its replicas: `compute(points:)` evaluates one point on each at once.
    private var pool: ReplicaPool<Objective>

    public init(mode: String, objective: Objective, layers: [Layer], frames: [FrameSource], grid: SurfaceGrid,
                sets: [EvaluationSet]) throws {
        guard !frames.isEmpty else { throw LandscapeError.invalidRequest("a stack needs at least one frame") }
        guard !layers.isEmpty, frames.allSatisfy({ $0.layer >= 0 && $0.layer < layers.count }),
              Set(frames.map(\.layer)).count == layers.count else {
            throw LandscapeError.invalidRequest("every frame must show one of the layers, and every layer must be shown")
        }
        let n = objective.groups.scalarCount
        guard frames.allSatisfy({ $0.weights.count == n }) else {
            throw LandscapeError.invalidRequest("a frame's weights do not have the objective's \(n) parameters")
        }
        try grid.checkSize(fields: SurfaceQuantity.quantities(for: sets).count, copies: layers.count)
        self.mode = mode
        self.objective = objective
        self.grid = grid
        self.sets = sets
        self.layers = try layers.map {
            try SurfaceComputation(objective: objective, center: $0.center, xDirection: $0.xDirection,
                                   yDirection: $0.yDirection, grid: grid, sets: sets)
        }
        let quantities = SurfaceQuantity.quantities(for: sets)
        self.frames = frames.map { source in
            var frame = source.frame
            frame.values = Dictionary(uniqueKeysWithValues: quantities.map { ($0, Double.nan) })
            return frame
        }
        weights = frames.map(\.weights)
        layerOfFrame = frames.map(\.layer)
        pool = ReplicaPool(objective)
    }

    public var quantities: [SurfaceQuantity] { SurfaceQuantity.quantities(for: sets) }
    public var fieldCount: Int { quantities.count }
    public var pointCount: Int { frames.count + layers.count * grid.pointCount }
    public var concurrentPoints: Int { pool.count }

    public var pendingPoints: [Int] {
        let first = quantities[0]
        let own = frames.indices.filter { SurfaceValue.isNotComputed(frames[$0].values[first]!) }
        let surfaces = layers.enumerated().flatMap { l, layer in
            layer.pendingPoints.map { frames.count + l * grid.pointCount + $0 }
        }
        return own + surfaces
    }

    /// Works on up to `threads` points at once from now on, one per thread, on replicas of the
    /// objective; false (nothing changes) when it cannot be replicated or there is one thread.
    @discardableResult
    public func spreadPointsOverThreads(_ threads: Int = Parallel.threadCount) throws -> Bool {
        try pool.spread(over: threads) { try objective.replica() }
    }

    public func compute(points: [Int]) throws -> [[Double]] {
        let rows = try pool.rows(of: points) { try evaluate(point: $0, on: $1) }
        for (point, row) in zip(points, rows) { record(point: point, row) }
        return rows
    }

    /// One point's row on one worker: a checkpoint's own values or a layer's grid point.
    private func evaluate(point: Int, on worker: Objective) throws -> [Double] {
        if point < frames.count {
            worker.setParameters(weights[point])
            return try SurfaceComputation.row(of: worker, sets: sets)
        }
        let (layer, local) = (point - frames.count).quotientAndRemainder(dividingBy: grid.pointCount)
        return try layers[layer].evaluate(point: local, on: worker)
    }

    public func record(point: Int, _ row: [Double]) {
        if point < frames.count {
            for (q, v) in zip(quantities, row) { frames[point].values[q] = v }
        } else {
            let (layer, local) = (point - frames.count).quotientAndRemainder(dividingBy: grid.pointCount)
            layers[layer].record(point: local, row)
        }
    }

    /// Adopts the frames' values and each layer's surface (from the first frame that shows it)
    /// from a stack file of the same request.
    public func restore(from file: SurfaceFile) {
        guard file.frameCount == frames.count, file.grid == grid else { return }
        let p = grid.pointCount
        for (l, layer) in layers.enumerated() {
            guard let k = layerOfFrame.firstIndex(of: l) else { continue }
            for q in quantities {
                if let v = file.values[q], v.count == frames.count * p { layer.restore(q, Array(v[(k * p)..<((k + 1) * p)])) }
            }
        }
        for q in quantities {
            guard let v = file.extraDatasets["frame_\(q.rawValue)"], v.count == frames.count else { continue }
            for k in frames.indices { frames[k].values[q] = v[k] }
        }
    }

    /// The stack layout (see `SurfaceStack`): the frames' surfaces shaped (F, len(y), len(x))
    /// and the `frame_*` datasets.
    public func store(into file: inout SurfaceFile) {
        file.frameCount = frames.count
        for q in quantities {
            file.values[q] = layerOfFrame.flatMap { layers[$0].values[q]! }
        }
        for (name, value) in SurfaceStack.frameDatasets(frames) { file.extraDatasets[name] = value }
        file.textDatasets["frame_checkpoint"] = frames.map(\.checkpoint)
        file.textAttributes[SurfaceStack.modeAttribute] = mode
    }

    /// Leaves the objective at the last frame's weights.
    public func restoreCenter() { objective.setParameters(weights[weights.count - 1]) }

    /// A fingerprint of every number the stack depends on: mode, grid, sets, data, each layer's
    /// centre and directions, each frame's weights and layer.
    public func fingerprint(data: String) -> String {
        var h = FingerprintHasher()
        h.mix("terrain.evolve 1")
        h.mix(mode)
        for layer in layers {
            h.mix(SurfaceRunner.fingerprint(center: layer.center, directions: [layer.xDirection] + (layer.yDirection.map { [$0] } ?? []),
                                            grid: grid, sets: sets, data: data))
        }
        for (w, l) in zip(weights, layerOfFrame) {
            h.mix(UInt64(l))
            for v in w { h.mix(v.bitPattern) }
        }
        return h.hex
    }
}
