import Foundation

/// One frame of a stack of surfaces (`terrain evolve`): the checkpoint it shows and what it
/// measured, as stored in the stack's `frame_*` datasets.
public struct StackFrame: Sendable, Equatable {
    /// The checkpoint's path, as the run folder lists it.
    public var checkpoint: String
    public var epoch: Int
    public var iteration: Int
    /// Where the checkpoint lies on its frame's plane: (0, 0) when the surface rides on it; its
    /// least-squares projection on a fixed plane.
    public var x: Double
    public var y: Double
    /// The checkpoint's own loss and accuracy on the stack's evaluation data, computed with the
    /// stack (NaN until then): the number a caption shows, consistent with the surface.
    public var values: [SurfaceQuantity: Double]
    /// What training logged with the checkpoint (`terrain.train_loss`, … in its metadata: epoch
    /// checkpoints carry the epoch's running training average and the full test set's numbers);
    /// empty for the initialization and for iteration checkpoints.
    public var logged: [SurfaceQuantity: Double]
    /// Whether the caption gives each loss's perplexity, exp(loss): the loss is a next-token
    /// loss (the stack holds `train_perplexity`/`test_perplexity`, `SurfacePerplexity`).
    public var showsPerplexity: Bool

    public init(checkpoint: String, epoch: Int, iteration: Int, x: Double = 0, y: Double = 0,
                values: [SurfaceQuantity: Double] = [:], logged: [SurfaceQuantity: Double] = [:], showsPerplexity: Bool = false) {
        self.checkpoint = checkpoint; self.epoch = epoch; self.iteration = iteration
        self.x = x; self.y = y; self.values = values; self.logged = logged; self.showsPerplexity = showsPerplexity
    }

    /// "epoch 2 · iteration 938 · train loss 0.4123, accuracy 85.30 % · test loss …": the
    /// frame's caption (`headline` and `metrics`).
    public var label: String { metrics.isEmpty ? headline : headline + " · " + metrics }

    /// "epoch 2 · iteration 938".
    public var headline: String { "epoch \(epoch) · iteration \(iteration)" }

    /// "train loss 0.4123, accuracy 85.30 % · test loss …" (for a next-token loss "train loss
    /// 1.234, accuracy 61.20 %, perplexity 3.435 · …"), from `values` (the stack's own
    /// evaluation), falling back on `logged`; empty when neither has a number.
    public var metrics: String {
        var parts: [String] = []
        for (loss, accuracy, name) in [(SurfaceQuantity.trainLoss, SurfaceQuantity.trainAccuracy, "train"),
                                       (.testLoss, .testAccuracy, "test")] {
            let source = values[loss].map { !$0.isNaN } ?? false ? values : logged
            guard let l = source[loss], !l.isNaN else { continue }
            var text = "\(name) loss \(Self.format(l))"
            if let a = source[accuracy], a.isFinite { text += String(format: ", accuracy %.2f %%", a) }
            if showsPerplexity { text += ", perplexity \(Self.format(SurfacePerplexity.value(ofLoss: l)))" }
            parts.append(text)
        }
        return parts.joined(separator: " · ")
    }

    /// Four significant digits; "diverged" for +∞.
    static func format(_ v: Double) -> String {
        v == .infinity ? "diverged" : String(format: "%.4g", v)
    }
}
