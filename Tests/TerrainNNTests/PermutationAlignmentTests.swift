import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainModels

/// Permutation alignment: the assignment solver against brute force, weight matching's recovery
/// of a known permutation, and for each zoo family that the aligned network computes B's function.
@Suite("Permutation alignment")
struct PermutationAlignmentTests {
    // MARK: the linear assignment solver

    static func allPermutations(_ n: Int) -> [[Int]] {
        guard n > 0 else { return [[]] }
        return allPermutations(n - 1).flatMap { p in (0...p.count).map { k in var q = p; q.insert(n - 1, at: k); return q } }
    }

    @Test func assignmentMatchesBruteForce() {
        var g = SeededGenerator(seed: 7)
        for n in 1...7 {
            let permutations = Self.allPermutations(n)
            for trial in 0..<(n <= 5 ? 20 : 4) {
                // Integer weights in a small range make ties common; Gaussian ones make them rare.
                let weights = (0..<(n * n)).map { _ in trial % 2 == 0 ? g.nextNormal() : Double(g.nextInt(below: 4)) }
                let best = permutations.map { LinearAssignment.value(of: $0, weights, size: n) }.max()!
                let found = LinearAssignment.maximize(weights, size: n)
                #expect(Set(found) == Set(0..<n), "not a permutation: \(found)")
                #expect(abs(LinearAssignment.value(of: found, weights, size: n) - best) <= 1e-12 * max(1, abs(best)), "n = \(n)")
                // Deterministic.
                #expect(LinearAssignment.maximize(weights, size: n) == found)
            }
        }
    }

    @Test func assignmentKnownCases() {
        #expect(LinearAssignment.maximize([], size: 0) == [])
        #expect(LinearAssignment.maximize([5], size: 1) == [0])
        // The anti-diagonal is worth 3 + 3 + 3; the diagonal 1 + 1 + 1.
        #expect(LinearAssignment.maximize([1, 0, 3, 0, 3, 0, 3, 0, 1], size: 3) == [2, 1, 0])
        // A permutation matrix's own permutation: row i's 1 is in column π[i].
        let pi = [3, 0, 4, 1, 2]
        let weights = (0..<25).map { pi[$0 / 5] == $0 % 5 ? 1.0 : 0.0 }
        #expect(LinearAssignment.maximize(weights, size: 5) == pi)
        // Negative weights: the least negative total.
        #expect(LinearAssignment.maximize([-1, -9, -9, -2], size: 2) == [0, 1])
    }

    // MARK: the zoo's permutation specs

    static let families: [ModelSpec] = [
        ModelSpec(architecture: "mlp", hiddenSizes: [12, 10, 9], activation: "tanh", inputShape: [5], outputs: 3),
        ModelSpec(architecture: "mlp", width: 1, hiddenSizes: [16, 16], inputShape: [2, 3, 3], outputs: 4),
        ModelSpec(architecture: "cnn", width: 0.5, inputShape: [2, 8, 8], outputs: 3),
        ModelSpec(architecture: "vgg9", width: 0.125, inputShape: [3, 16, 16], outputs: 4),  // 2x2 maps into the classifier
        ModelSpec(architecture: "resnet20", width: 0.5, inputShape: [3, 8, 8], outputs: 3),
        ModelSpec(architecture: "resnet20-noshort", width: 0.5, inputShape: [3, 8, 8], outputs: 3),
        ModelSpec(architecture: "wrn14-2", width: 0.25, inputShape: [3, 8, 8], outputs: 3),
    ]

    /// A model's tensors after training-like changes: batch norms' running statistics from
    /// training-mode passes over random inputs (so evaluation mode is not the identity, yet the
    /// signal survives a deep network), then random batch-norm scales and shifts, and random biases.
    static func tensors(_ spec: ModelSpec, seed: UInt64) throws -> [String: Tensor<Float>] {
        var s = spec
        s.seed = seed
        let model: Module<Float> = try s.build()
        var g = SeededGenerator(seed: seed &+ 100)
        let shape = [16] + spec.inputShape
        for _ in 0..<30 {
            _ = model.forward(Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(1 + g.nextNormal()) }))
        }
        var result: [String: Tensor<Float>] = [:]
        for (name, p) in model.namedParameters() {
            var value = p.value
            if p.role == .bias || p.role == .normBias || p.role == .normWeight {
                value = Tensor(shape: value.shape, scalars: value.scalars.map { v in v + Float(0.3 * g.nextNormal()) })
            }
            result[name] = value
        }
        return result
    }

    /// The network's outputs in evaluation mode, in Double, with `tensors` as its state.
    static func outputs(_ spec: ModelSpec, _ tensors: [String: Tensor<Float>], inputs: Tensor<Double>) throws -> Tensor<Double> {
        let model: Module<Double> = try spec.build()
        for (name, p) in model.namedParameters() { p.value = Tensor(converting: tensors[name]!) }
        model.setTraining(false)
        return model.forward(inputs)
    }

    static func randomInputs(_ spec: ModelSpec) -> Tensor<Double> {
        var g = SeededGenerator(seed: 3)
        let shape = [6] + spec.inputShape
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in g.nextNormal() })
    }

    static func relativeDifference(_ x: Tensor<Double>, _ y: Tensor<Double>) -> Double {
        let largest = x.scalars.map(abs).max()!
        return zip(x.scalars, y.scalars).map { abs($0 - $1) }.max()! / largest
    }

    @Test(arguments: families)
    func alignedNetworkComputesTheSameFunction(_ spec: ModelSpec) throws {
        let a = try Self.tensors(spec, seed: 1), b = try Self.tensors(spec, seed: 2)
        let permutationSpec = try spec.permutationSpec(shapes: b.mapValues(\.shape))
        let result = WeightMatching(spec: permutationSpec, seed: 5).match(reference: a, moving: b)
        let aligned = permutationSpec.apply(result.permutations, to: b)
        // Units really moved, and the objective grew (never fell); the weights came closer.
        #expect(result.permutations.contains { $0 != Array(0..<$0.count) })
        #expect(result.objectiveAfter >= result.objectiveBefore)
        #expect(WeightMatching.distance(a, aligned) < WeightMatching.distance(a, b))
        let inputs = Self.randomInputs(spec)
        let difference = Self.relativeDifference(try Self.outputs(spec, b, inputs: inputs), try Self.outputs(spec, aligned, inputs: inputs))
        #expect(difference <= 1e-10, "\(spec.architecture): outputs differ by \(difference)")
        // Every weight and running statistic has a hidden axis (only the output layer's bias has
        // none): a spec that forgot one would break the function above, or leave it unmatched.
        #expect(permutationSpec.tensorNames.isSuperset(of: b.keys.filter { !$0.hasSuffix(".bias") }))
        // Deterministic.
        #expect(WeightMatching(spec: permutationSpec, seed: 5).match(reference: a, moving: b).permutations == result.permutations)
    }

    /// The function test has teeth: a spec that forgets one axis (here each group's last, a
    /// reader or a running statistic) no longer preserves the outputs.
    @Test(arguments: families)
    func aSpecMissingAnAxisChangesTheFunction(_ spec: ModelSpec) throws {
        let b = try Self.tensors(spec, seed: 2)
        let complete = try spec.permutationSpec(shapes: b.mapValues(\.shape))
        let inputs = Self.randomInputs(spec)
        let original = try Self.outputs(spec, b, inputs: inputs)
        var g = SeededGenerator(seed: 11)
        for index in complete.groups.indices {
            var broken = complete
            broken.groups[index].axes.removeLast()
            // A permutation that moves every unit (a cyclic shift), so the forgotten axis matters.
            let permutations = broken.groups.enumerated().map { k, group in
                k == index ? (0..<group.size).map { ($0 + 1) % group.size } : g.permutation(group.size)
            }
            let changed = try Self.outputs(spec, broken.apply(permutations, to: b), inputs: inputs)
            #expect(Self.relativeDifference(original, changed) > 1e-6, "\(spec.architecture): \(complete.groups[index].name)")
        }
    }

    /// B = a random permutation of A: weight matching finds its inverse, the distance falls to 0.
    @Test(arguments: families)
    func recoversAKnownPermutation(_ spec: ModelSpec) throws {
        let a = try Self.tensors(spec, seed: 4)
        let permutationSpec = try spec.permutationSpec(shapes: a.mapValues(\.shape))
        var g = SeededGenerator(seed: 9)
        let scrambled = permutationSpec.apply(permutationSpec.groups.map { g.permutation($0.size) }, to: a)
        #expect(WeightMatching.distance(a, scrambled) > 0)
        let result = WeightMatching(spec: permutationSpec).match(reference: a, moving: scrambled)
        let aligned = permutationSpec.apply(result.permutations, to: scrambled)
        #expect(WeightMatching.distance(a, aligned) == 0, "\(spec.architecture)")
        #expect(result.objectiveAfter >= result.objectiveBefore)
    }

    @Test func residualStreamsShareOnePermutation() throws {
        let spec = ModelSpec(architecture: "resnet20", width: 0.25, inputShape: [3, 8, 8], outputs: 2)
        let model: Module<Float> = try spec.build()
        let shapes = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.parameter.shape) })
        let groups = try spec.permutationSpec(shapes: shapes).groups
        // Three streams (the stem's, and one per projection shortcut) and one group per block.
        #expect(groups.filter { $0.name.hasPrefix("stream") }.count == 3)
        #expect(groups.count == 3 + 9)
        let first = groups.first { $0.name == "stream 1" }!
        let tensors = Set(first.axes.map(\.tensor))
        #expect(tensors.isSuperset(of: ["conv1.weight", "bn1.running_var", "layer1.0.conv2.weight", "layer1.2.bn2.bias",
                                        "layer1.1.conv1.weight", "layer2.0.conv1.weight", "layer2.0.shortcut.0.weight"]))
        let second = groups.first { $0.name == "stream 2" }!
        #expect(second.axes.contains { $0.tensor == "layer2.0.shortcut.0.weight" && $0.axis == 0 })
        #expect(second.axes.contains { $0.tensor == "layer2.0.shortcut.1.running_mean" && !$0.matched })
        let noshort = ModelSpec(architecture: "resnet20-noshort", width: 0.25, inputShape: [3, 8, 8], outputs: 2)
        let plain: Module<Float> = try noshort.build()
        let plainGroups = try noshort.permutationSpec(shapes: Dictionary(uniqueKeysWithValues: plain.namedParameters().map {
            ($0.name, $0.parameter.shape) })).groups
        #expect(plainGroups.count == 1 + 2 * 9)
    }

    @Test func unsupportedArchitecturesAndShapesAreRefused() throws {
        for name in ["gpt", "vit", "densenet", "linear"] {
            let spec = ModelSpec(architecture: name, inputShape: [3, 8, 8], outputs: 2)
            let error = #expect(throws: PermutationError.self) { try spec.permutationSpec(shapes: [:]) }
            let text = error.map { "\($0)" } ?? ""
            #expect(text.contains("\(name) cannot be aligned") && text.contains("mlp, cnn, vgg9, resnetN"), "\(text)")
        }
        let spec = ModelSpec(architecture: "cnn", width: 0.5, inputShape: [2, 8, 8], outputs: 3)
        var shapes = try Self.tensors(spec, seed: 1).mapValues(\.shape)
        shapes["bn2.running_var"] = [3]
        #expect(throws: PermutationError.self) { try spec.permutationSpec(shapes: shapes) }
        shapes.removeValue(forKey: "conv2.weight")
        #expect(throws: PermutationError.self) { try spec.permutationSpec(shapes: shapes) }
    }
}
