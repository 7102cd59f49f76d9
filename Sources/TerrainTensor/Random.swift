/// A seeded generator (xoshiro256**, seeded through SplitMix64): the same seed gives the same
/// stream on every machine, which is what makes directions, initial weights and shuffles
/// reproducible bit for bit.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)
    /// A second normal sample from the last Box–Muller pair, kept for the next call.
    private var spareNormal: Double?

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func nextUniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A standard normal sample (Box–Muller, computed in Double whatever the tensor type).
    public mutating func nextNormal() -> Double {
        if let spare = spareNormal { spareNormal = nil; return spare }
        var u1 = nextUniform()
        while u1 <= 0 { u1 = nextUniform() }
        let u2 = nextUniform()
        let r = (-2 * Double.log(u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        spareNormal = r * Double.sin(theta)
        return r * Double.cos(theta)
    }

    /// An integer uniformly in `0..<bound` (Lemire's method, unbiased).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next(upperBound: UInt64(bound)))
    }

    /// Fisher–Yates shuffle of `0..<count`.
    public mutating func permutation(_ count: Int) -> [Int] {
        var p = Array(0..<count)
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) { p.swapAt(i, nextInt(below: i + 1)) }
        }
        return p
    }
}

import Numerics

extension Tensor {
    /// Independent N(mean, std²) samples.
    public static func randomNormal(shape: [Int], mean: Scalar = 0, std: Scalar = 1,
                                    generator: inout SeededGenerator) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        let p = t.mutablePointer()
        for i in 0..<t.count { p[i] = mean + std * Scalar(generator.nextNormal()) }
        return t
    }

    /// Independent uniform samples in [low, high).
    public static func randomUniform(shape: [Int], low: Scalar, high: Scalar,
                                     generator: inout SeededGenerator) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        let p = t.mutablePointer()
        for i in 0..<t.count { p[i] = low + (high - low) * Scalar(generator.nextUniform()) }
        return t
    }
}
