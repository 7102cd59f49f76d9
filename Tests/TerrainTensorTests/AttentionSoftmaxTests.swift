import Testing
import TerrainTensor

/// `attentionSoftmax` (attention's scale, optional causal mask and softmax in one pass; in Float
/// the vectorized `terrain_softmax_rows_f32`, in Double Swift) against the same probabilities
/// built from the unfused operations: softmax(c·S + M) with `scale`, a broadcast add of
/// M = 0 or, when causal, −∞ above the diagonal, and `softmax` along the last axis.
///
/// Double: the same bits. Float: within one ulp (the fused kernel sums in 16 interleaved lanes
/// and uses its own vectorized exp, both in double). Masked probabilities are exactly +0.
///
/// Where the two differ by design: the fused pass never reads the masked scores, so a NaN there
/// leaves the row as it was (as PyTorch's masked_fill(−∞) before softmax does), and a row whose
/// visible scores make it NaN keeps its masked probabilities at 0, where the unfused sum
/// −∞ + NaN makes the whole row NaN.
@Suite("Attention's fused softmax")
struct AttentionSoftmaxTests {
    let backend = CPUBackend()

    static let lengths = [1, 7, 16, 17, 128, 130]
    /// 1/√24, a head width's scale that is not a power of two.
    static let scale = 1 / Double(24).squareRoot()

    /// Scores of width 6 before scaling, so rows range from flat to sharply peaked.
    func scores<T: TensorScalar>(_ shape: [Int], seed: UInt64, as _: T.Type = T.self) -> Tensor<T> {
        var g = SeededGenerator(seed: seed)
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in T(6 * g.nextNormal()) })
    }

    /// softmax(c·S + M) from the unfused operations; M is [queries, keys] and broadcasts over
    /// the leading axes.
    func unfused<T: TensorScalar>(_ s: Tensor<T>, scale c: T, causal: Bool) -> Tensor<T> {
        var scaled = s
        backend.scale(&scaled, by: c)
        let queries = s.shape[s.rank - 2], keys = s.shape[s.rank - 1]
        let mask = Tensor<T>(shape: [queries, keys],
                             scalars: (0..<queries * keys).map { causal && $0 % keys > $0 / keys ? -T.infinity : 0 })
        return backend.softmax(backend.broadcast(.add, scaled, mask), axis: s.rank - 1, logarithm: false)
    }

    /// A single matrix (rank 2), heads of a batch (rank 4) and, without the mask, fewer queries
    /// than keys (rank 3).
    static func shapes(length t: Int, causal: Bool) -> [[Int]] {
        causal ? [[t, t], [2, 3, t, t]] : [[t, t], [2, 3, t, t], [2, 5, t]]
    }

    /// Whether the key `key` is masked for the row `row` of scores of this shape.
    static func isMasked(row: Int, key: Int, shape: [Int], causal: Bool) -> Bool {
        causal && key > row % shape[shape.count - 2]
    }

    /// Masked probabilities are exactly +0 and each row's probabilities sum to 1 within 1e-6.
    func expectMaskedZerosAndUnitSums<T: TensorScalar>(_ p: Tensor<T>, causal: Bool, _ label: String) {
        let keys = p.shape[p.rank - 1], rows = p.count / keys
        let values = p.scalars
        for row in 0..<rows {
            var sum = 0.0
            for key in 0..<keys {
                let v = values[row * keys + key]
                if Self.isMasked(row: row, key: key, shape: p.shape, causal: causal) {
                    #expect(v == 0 && v.sign == .plus, "\(label): row \(row), masked key \(key) = \(v)")
                } else {
                    sum += Double(v)
                }
            }
            #expect(abs(sum - 1) <= 1e-6, "\(label): row \(row) sums to \(sum)")
        }
    }

    // Observed (x86-64, AVX-512 clone): over all lengths, shapes and both masks, every one of the
    // 477,296 Float probabilities equals the unfused one.
    @Test(arguments: lengths)
    func floatIsWithinOneULPOfTheUnfusedOperations(length: Int) {
        var tally = ULPTally()
        for causal in [false, true] {
            for shape in Self.shapes(length: length, causal: causal) {
                let s: Tensor<Float> = scores(shape, seed: UInt64(length))
                let p = backend.attentionSoftmax(s, scale: Float(Self.scale), causal: causal)
                #expect(p.shape == shape)
                tally.add(p.scalars, references: unfused(s, scale: Float(Self.scale), causal: causal).scalars)
                expectMaskedZerosAndUnitSums(p, causal: causal, "Float \(shape) causal \(causal)")
            }
        }
        #expect(tally.nanMismatches == 0)
        #expect(tally.worst <= 1, "\(tally.worst) ulps from the unfused softmax")
        #expect(tally.unequalFraction <= 1e-4, "\(tally.unequal) of \(tally.count) not equal to the unfused softmax")
    }

    @Test(arguments: lengths)
    func doubleEqualsTheUnfusedOperations(length: Int) {
        for causal in [false, true] {
            for shape in Self.shapes(length: length, causal: causal) {
                let s: Tensor<Double> = scores(shape, seed: UInt64(length))
                let p = backend.attentionSoftmax(s, scale: Self.scale, causal: causal)
                #expect(p.shape == shape)
                #expect(p.scalars.bitPatterns == unfused(s, scale: Self.scale, causal: causal).scalars.bitPatterns,
                        "Double \(shape) causal \(causal)")
                expectMaskedZerosAndUnitSums(p, causal: causal, "Double \(shape) causal \(causal)")
            }
        }
    }

    /// The NaN rule: a NaN among a row's visible scores makes the row's visible probabilities NaN
    /// (and only that row's); a +∞ score does too (∞ − ∞), as in `softmax`.
    func expectNaNRule<T: TensorScalar>(_: T.Type, causal: Bool) {
        let shape = [2, 2, 17, 17], keys = 17
        let clean: Tensor<T> = scores(shape, seed: 40)
        var s = clean
        // (row, key, value) at visible keys: row r is query r mod 17 and sees keys up to it.
        let poisoned: [(Int, Int, T)] = [(5, 0, .nan), (20, 3, .nan), (40, 6, .nan), (60, 0, .infinity)]
        for (row, key, value) in poisoned { s[flat: row * keys + key] = value }
        let p = backend.attentionSoftmax(s, scale: T(Self.scale), causal: causal)
        let cleanP = backend.attentionSoftmax(clean, scale: T(Self.scale), causal: causal)
        let rows = Set(poisoned.map(\.0))
        for row in 0..<p.count / keys {
            for key in 0..<keys {
                let v = p[flat: row * keys + key]
                if !rows.contains(row) {
                    #expect(v.hasSameBits(as: cleanP[flat: row * keys + key]), "\(T.self) row \(row) key \(key)")
                } else if Self.isMasked(row: row, key: key, shape: shape, causal: causal) {
                    #expect(v == 0, "\(T.self) row \(row): masked key \(key) = \(v)")
                } else {
                    #expect(v.isNaN, "\(T.self) row \(row): key \(key) = \(v)")
                }
            }
        }
        // Without the mask, exactly where the unfused softmax has NaN.
        if !causal {
            #expect(p.scalars.map(\.isNaN) == unfused(s, scale: T(Self.scale), causal: false).scalars.map(\.isNaN))
        }
    }

    @Test(arguments: [false, true])
    func aNaNOrInfiniteScoreMakesItsRowNaN(causal: Bool) {
        expectNaNRule(Float.self, causal: causal)
        expectNaNRule(Double.self, causal: causal)
    }

    /// Scores above the diagonal are never read: a NaN there changes nothing (PyTorch's
    /// masked_fill(−∞) gives the same; an additive −∞ mask would make the row NaN).
    func expectMaskedScoresUnread<T: TensorScalar>(_: T.Type) {
        let clean: Tensor<T> = scores([3, 17, 17], seed: 41)
        var s = clean
        for row in 0..<3 * 17 where row % 17 < 16 { s[flat: row * 17 + 16] = .nan }
        s[flat: 17 * 17 + 5 * 17 + 9] = .infinity
        let p = backend.attentionSoftmax(s, scale: T(Self.scale), causal: true)
        #expect(haveSameBits(p.scalars, backend.attentionSoftmax(clean, scale: T(Self.scale), causal: true).scalars))
    }

    @Test func maskedScoresAreNeverRead() {
        expectMaskedScoresUnread(Float.self)
        expectMaskedScoresUnread(Double.self)
    }

    /// A row of −∞ scores: without the mask, NaN everywhere as in `softmax` (−∞ − (−∞)); with
    /// it, NaN where visible and 0 where masked. A row with some −∞ scores gives them exactly 0.
    func expectMinusInfinityRows<T: TensorScalar>(_: T.Type) {
        let keys = 16
        var s: Tensor<T> = scores([4, keys, keys], seed: 42)
        for key in 0..<keys { s[flat: 3 * keys + key] = -.infinity }              // row 3: all −∞
        for key in stride(from: 0, to: keys, by: 3) { s[flat: 7 * keys + key] = -.infinity }   // row 7: some
        let p = backend.attentionSoftmax(s, scale: T(Self.scale), causal: false)
        let q = unfused(s, scale: T(Self.scale), causal: false)
        for key in 0..<keys {
            #expect(p[flat: 3 * keys + key].isNaN && q[flat: 3 * keys + key].isNaN, "\(T.self) all −∞ row, key \(key)")
            if key % 3 == 0 { #expect(p[flat: 7 * keys + key] == 0, "\(T.self) −∞ score at key \(key)") }
        }
        let rowSeven = (7 * keys..<8 * keys).map { Double(p[flat: $0]) }
        #expect(abs(rowSeven.reduce(0, +) - 1) <= 1e-6)
        let causal = backend.attentionSoftmax(s, scale: T(Self.scale), causal: true)
        for key in 0..<keys {
            let v = causal[flat: 3 * keys + key]
            #expect(key <= 3 ? v.isNaN : v == 0, "\(T.self) causal all −∞ row, key \(key) = \(v)")
        }
    }

    @Test func minusInfinityRowsBehaveAsSoftmax() {
        expectMinusInfinityRows(Float.self)
        expectMinusInfinityRows(Double.self)
    }

    /// Several chunks of rows (2080 rows of 130, about 500 per chunk): 1 and 3 threads give the
    /// same bits, in Float and Double, with and without the mask.
    @Test func resultsDoNotDependOnTheThreadCount() {
        let shape = [4, 4, 130, 130]
        let f: Tensor<Float> = scores(shape, seed: 43), d: Tensor<Double> = scores(shape, seed: 44)
        func run() -> [[UInt64]] {
            [false, true].flatMap { causal in
                [backend.attentionSoftmax(f, scale: Float(Self.scale), causal: causal).scalars.map { UInt64($0.bitPattern) },
                 backend.attentionSoftmax(d, scale: Self.scale, causal: causal).scalars.bitPatterns]
            }
        }
        let (one, three) = resultsWithOneAndThreeThreads(run)
        #expect(one == three)
    }
}
