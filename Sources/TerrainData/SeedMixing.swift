/// Derives independent seeds from one user seed, so that the train/test split, the subsets and
/// the batch order of each epoch draw from unrelated random streams while all following from
/// the single `seed` a user gives.
enum SeedMixing {
    /// Purposes that get their own stream from a user seed.
    enum Stream: UInt64 {
        case split = 1, trainSubset, testSubset, synthetic, batchOrder
    }

    /// A seed for `stream`, further distinguished by `index` (for example the epoch).
    static func seed(_ seed: UInt64, for stream: Stream, index: UInt64 = 0) -> UInt64 {
        finalize(finalize(seed ^ finalize(stream.rawValue)) ^ finalize(index &+ 0x5851_F42D_4C95_7F2D))
    }

    /// The SplitMix64 finalizer: a bijective scramble of 64 bits.
    private static func finalize(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
