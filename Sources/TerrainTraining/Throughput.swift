import Foundation
import TerrainData

/// Training speed in the data's own unit, for the progress and epoch lines. Images (and other
/// per-sample data) count samples per second; token sequences count tokens per second, N·T for N
/// sequences of T positions, the unit language-model training reports (a sequence of a context
/// of 128 is 128 predictions, not one image).
public enum Throughput {
    /// "1520 img/s", or "24320 tokens/s" for next-token targets.
    public static func label(samplesPerSecond: Double, targets: Targets) -> String {
        if case .tokens(_, let length, _) = targets {
            return String(format: "%.0f tokens/s", samplesPerSecond * Double(length))
        }
        return String(format: "%.0f img/s", samplesPerSecond)
    }
}
