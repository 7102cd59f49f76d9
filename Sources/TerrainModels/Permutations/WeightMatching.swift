import TerrainTensor

/// Weight matching (Ainsworth, Hayase and Srinivasa, "Git Re-Basin", 2023, algorithm 1): the
/// permutations π of B's units that make B's weights closest to A's,
///
///     maximize  J(π) = Σₜ ⟨Aₜ, π(Bₜ)⟩   over the matched tensors t of `spec`,
///
/// which is minimizing ‖A − π(B)‖² (‖π(B)‖ = ‖B‖). J couples the permutations (a weight is
/// permuted on its output axis by one group and on its input axis by another), so it is
/// maximized by coordinate descent: one group at a time, the others held fixed, J is linear in
/// the group's permutation matrix P, J = Σᵢⱼ Pᵢⱼ Cᵢⱼ + const with
///
///     Cᵢⱼ = Σ over the group's matched axes of ⟨A's unit i, B's unit j with the other groups applied⟩,
///
/// a linear assignment problem solved exactly (`LinearAssignment`). Groups are visited in a
/// seeded random order, reshuffled each pass, and a group's permutation changes only when J
/// strictly grows, so J never decreases and the loop stops after the first pass without change
/// (J takes finitely many values). Deterministic: same tensors and seed, same permutations.
///
/// Model-free: it reads named tensors and a `PermutationSpec`, nothing else (the zoo's specs are
/// `ModelSpec.permutationSpec`). All sums are in Double. It lives in `TerrainModels` all the same,
/// beside the specs that are its only input: `TerrainTensor` stays tensors, kernels and the
/// vocabulary every target shares, and a Swift user with a network of their own writes a
/// `PermutationSpec` for it and calls this with the same import as the zoo's.
public struct WeightMatching {
    public var spec: PermutationSpec
    /// Seeds the order in which groups are visited.
    public var seed: UInt64
    /// A bound on the passes over all groups (the loop normally stops long before).
    public var maximumPasses: Int

    public init(spec: PermutationSpec, seed: UInt64 = 0, maximumPasses: Int = 200) {
        self.spec = spec; self.seed = seed; self.maximumPasses = maximumPasses
    }

    public struct Result: Sendable {
        /// One permutation per group of the spec, in its order: unit i of the aligned B is
        /// unit π[i] of B.
        public var permutations: [[Int]]
        /// J at the identity (B as it is) and at the permutations found.
        public var objectiveBefore: Double
        public var objectiveAfter: Double
        /// Passes over all groups, the last one (without change) included.
        public var passes: Int
    }

    /// The permutations of `b`'s units that match them to `a`'s. Both hold every tensor the spec
    /// names, with the same shapes (checked by the caller, `spec.check`).
    public func match(reference a: [String: Tensor<Float>], moving b: [String: Tensor<Float>]) -> Result {
        let groups = spec.groups
        var permutations = groups.map { Array(0..<$0.size) }
        // Each tensor's permuted axes, by group index.
        var axesOfTensor: [String: [(group: Int, axis: PermutationSpec.Axis)]] = [:]
        for (g, group) in groups.enumerated() {
            for axis in group.axes { axesOfTensor[axis.tensor, default: []].append((g, axis)) }
        }
        let matchedNames = Set(groups.flatMap { $0.axes.filter(\.matched).map(\.tensor) }).sorted()
        let tensorsA = Dictionary(uniqueKeysWithValues: matchedNames.map { ($0, Tensor<Double>(converting: a[$0]!)) })
        let tensorsB = Dictionary(uniqueKeysWithValues: matchedNames.map { ($0, Tensor<Double>(converting: b[$0]!)) })

        /// B's tensor with every group's current permutation applied but `excluded`'s.
        func movingTensor(_ name: String, except excluded: Int?) -> Tensor<Double> {
            var x = tensorsB[name]!
            for (g, axis) in axesOfTensor[name] ?? [] where g != excluded {
                x = PermutationSpec.permuted(x, axis: axis.axis, blockSize: axis.blockSize, by: permutations[g])
            }
            return x
        }
        func objective() -> Double {
            matchedNames.reduce(0) { $0 + Self.dot(tensorsA[$1]!, movingTensor($1, except: nil)) }
        }

        let before = objective()
        var generator = SeededGenerator(seed: seed)
        var passes = 0
        var changed = true
        while changed && passes < maximumPasses {
            changed = false
            passes += 1
            for g in generator.permutation(groups.count) {
                let n = groups[g].size
                var similarity = Tensor<Double>(zeros: [n, n])
                for axis in groups[g].axes where axis.matched {
                    Self.accumulateSimilarity(tensorsA[axis.tensor]!, movingTensor(axis.tensor, except: g), axis: axis,
                                              into: &similarity)
                }
                let weights = similarity.scalars
                let current = LinearAssignment.value(of: permutations[g], weights, size: n)
                let best = LinearAssignment.maximize(weights, size: n)
                let bestValue = LinearAssignment.value(of: best, weights, size: n)
                // Strictly better beyond rounding: the sum's own scale sets the margin.
                let scale = weights.reduce(0) { $0 + abs($1) } / Double(max(n, 1))
                if bestValue > current + 1e-12 * max(scale, .leastNormalMagnitude), best != permutations[g] {
                    permutations[g] = best
                    changed = true
                }
            }
        }
        return Result(permutations: permutations, objectiveBefore: before, objectiveAfter: objective(), passes: passes)
    }

    /// C[i, j] += Σ over outer and inner positions of a[o, i, r] · b[o, j, r]: one product
    /// (DGEMM) of the units' rows, C += A′·B′ᵀ with A′ = a as [units, outer · inner].
    static func accumulateSimilarity(_ a: Tensor<Double>, _ b: Tensor<Double>, axis: PermutationSpec.Axis,
                                     into similarity: inout Tensor<Double>) {
        Backends.current.matmul(unitRows(a, axis), unitRows(b, axis), transposeA: false, transposeB: true, addingTo: &similarity)
    }

    /// The tensor as one row per unit of `axis`: [units, outer · inner], row i holding every
    /// entry of unit i (a reshape when the axis is the first, a copy otherwise).
    static func unitRows(_ x: Tensor<Double>, _ axis: PermutationSpec.Axis) -> Tensor<Double> {
        let layout = AxisLayout(shape: x.shape, axis: axis.axis, blockSize: axis.blockSize)
        let (outer, units, inner) = (layout.outer, layout.units, layout.inner)
        if outer == 1 { return x.reshaped([units, inner]) }
        var rows = Tensor<Double>(uninitializedShape: [units, outer * inner])
        let target = rows.mutablePointer()
        x.withUnsafeBufferPointer { source in
            for o in 0..<outer {
                for i in 0..<units {
                    (target + (i * outer + o) * inner).update(from: source.baseAddress! + (o * units + i) * inner, count: inner)
                }
            }
        }
        return rows
    }

    static func dot(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
        let pa = a.pointer, pb = b.pointer
        var sum = 0.0
        for i in 0..<a.count { sum += pa[i] * pb[i] }
        return sum
    }

    /// ‖A − B‖ over the tensors both hold (in Double).
    public static func distance(_ a: [String: Tensor<Float>], _ b: [String: Tensor<Float>]) -> Double {
        var sum = 0.0
        for name in a.keys.sorted() {
            guard let x = a[name], let y = b[name], x.shape == y.shape else { continue }
            x.withUnsafeBufferPointer { px in
                y.withUnsafeBufferPointer { py in
                    for i in px.indices {
                        let d = Double(px[i]) - Double(py[i])
                        sum += d * d
                    }
                }
            }
        }
        return sum.squareRoot()
    }
}
