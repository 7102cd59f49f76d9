import Foundation

/// Perplexity beside a surface of next-token losses: exp(loss) at every point, stored as the
/// grid-shaped datasets `train_perplexity` and `test_perplexity` next to `train_loss` and
/// `test_loss` (`SurfaceRunner.Options.storesPerplexity`).
///
/// It is derived from the stored loss whenever the file is written, never computed or journalled
/// on its own, so a resumed surface and an uninterrupted one agree and the point checksums
/// (`PointChecksums`, which cover grid-shaped datasets) hold it too. A NaN loss stays the same NaN
/// (not computed, or computed and NaN: `SurfaceValue`), +∞ stays +∞. Surfaces of other losses
/// (classes, regression) hold no perplexity, and their files are unchanged. A stack of surfaces
/// (`terrain evolve`, `SurfaceStack`) holds its perplexity shaped like its losses, frames first.
public enum SurfacePerplexity {
    /// Each loss quantity and the name of its perplexity dataset.
    public static let datasets: [(loss: SurfaceQuantity, name: String)] = [(.trainLoss, "train_perplexity"), (.testLoss, "test_perplexity")]

    /// exp(loss), NaN kept bit for bit.
    public static func value(ofLoss loss: Double) -> Double {
        loss.isNaN ? loss : Foundation.exp(loss)
    }

    /// exp of each loss, NaN kept bit for bit.
    public static func values(ofLosses losses: [Double]) -> [Double] {
        losses.map(value(ofLoss:))
    }

    /// Whether a file holds a perplexity (its loss is a next-token loss).
    public static func isStored(in file: SurfaceFile) -> Bool {
        datasets.contains { file.extraDatasets[$0.name] != nil }
    }

    /// Sets the file's perplexity datasets from its losses.
    public static func add(to file: inout SurfaceFile) {
        for (loss, name) in datasets {
            if let losses = file.values[loss] { file.extraDatasets[name] = values(ofLosses: losses) }
        }
    }
}
