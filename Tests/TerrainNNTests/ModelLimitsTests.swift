import Testing
import TerrainTensor
import TerrainNN
import TerrainModels

/// Model descriptions come from options and files: every size they imply is refused beyond the
/// limits with a message, never an overflow trap or a terabyte allocation.
@Suite("Model size limits")
struct ModelLimitsTests {
    func refuses(_ spec: ModelSpec, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: ModelError.self, sourceLocation: sourceLocation) { _ = try spec.build() as Module<Float> }
        if let error { #expect("\(error)".contains(fragment), "“\(error)” lacks “\(fragment)”", sourceLocation: sourceLocation) }
    }

    @Test func hostileSizesAreRefused() {
        refuses(ModelSpec(architecture: "mlp", inputShape: [3], outputs: .max), "outputs, got \(Int.max)")
        refuses(ModelSpec(architecture: "mlp", hiddenSizes: [1 << 62], inputShape: [3], outputs: 2), "units")
        refuses(ModelSpec(architecture: "mlp", hiddenSizes: [Int.max], inputShape: [3], outputs: 2), "units")
        refuses(ModelSpec(architecture: "mlp", hiddenSizes: [-4], inputShape: [3], outputs: 2), "positive")
        refuses(ModelSpec(architecture: "mlp", inputShape: [1 << 62, 1 << 62], outputs: 2), "input shape")
        refuses(ModelSpec(architecture: "mlp", inputShape: [0], outputs: 2), "positive sizes")
        refuses(ModelSpec(architecture: "mlp", inputShape: [], outputs: 2), "positive sizes")
        for width in [1e300, 1e9, .nan, .infinity, -1, 0] {
            refuses(ModelSpec(architecture: "cnn", width: width, inputShape: [1, 8, 8], outputs: 2), "width multiplier")
        }
        refuses(ModelSpec(architecture: "resnet9999999998", inputShape: [3, 8, 8], outputs: 2), "depth")
        refuses(ModelSpec(architecture: "wrn20-4611686018427387904", inputShape: [3, 8, 8], outputs: 2), "widening factor")
        refuses(ModelSpec(architecture: "mlp", hiddenSizes: [100_000, 100_000], inputShape: [3], outputs: 2), "per tensor")
        refuses(ModelSpec(architecture: "mlp", hiddenSizes: [Array(repeating: 16_000, count: 8)].flatMap { $0 }, inputShape: [3], outputs: 2),
                "parameters")
        refuses(ModelSpec(architecture: "mlp", hiddenSizes: Array(repeating: 1, count: 1001), inputShape: [3], outputs: 2), "hidden layers")
    }

    /// The counting changes no weight: the same seed gives the same tensors as the layers' own
    /// initializers drawn in the same order.
    @Test func limitsLeaveTheWeightsAsTheyWere() throws {
        let spec = ModelSpec(architecture: "mlp", hiddenSizes: [5, 4], inputShape: [3], outputs: 2, seed: 9)
        let model: Module<Float> = try spec.build()
        var g = SeededGenerator(seed: 9)
        let first = Linear<Float>(3, 5, generator: &g), second = Linear<Float>(5, 4, generator: &g), last = Linear<Float>(4, 2, generator: &g)
        let expected = [first, second, last].flatMap { [$0.weight.value, $0.bias!.value] }
        #expect(model.namedParameters().map(\.parameter.value) == expected)
    }
}
