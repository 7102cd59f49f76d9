/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny, fast, seedable generator, so that the
/// tests' random inputs (fuzzing loops, GIF noise) are the same on every run and a failure
/// reproduces from its seed. Each call adds the golden-ratio increment 0x9E3779B97F4A7C15 to the
/// state and returns it scrambled by two xor-shift-multiply rounds and a final xor-shift.
///
/// Kept apart from `TerrainTensor.SeededGenerator` (xoshiro256**) so that test targets of the
/// layers below the tensors (`TerrainPlotTests`) need no tensor code.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
