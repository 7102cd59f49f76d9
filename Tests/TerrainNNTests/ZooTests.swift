import Testing
import Foundation
import TerrainTensor
import TerrainNN
import TerrainModels
import TerrainTestSupport

@Suite("Model zoo")
struct ZooTests {
    @Test(arguments: ["linear", "mlp", "cnn", "vgg9", "resnet20", "resnet20-noshort", "wrn20-2", "densenet"])
    func buildsAndRunsOnImages(architecture: String) throws {
        let spec = ModelSpec(architecture: architecture, width: 0.5, inputShape: [1, 28, 28], outputs: 10, seed: 3)
        let model: Module<Float> = try spec.build()
        var g = SeededGenerator(seed: 1)
        let y = model.forward(.randomNormal(shape: [2, 1, 28, 28], generator: &g))
        #expect(y.shape == [2, 10])
        #expect(y.scalars.allSatisfy { $0.isFinite })
    }

    @Test func singleNeuronHasTwoParameters() throws {
        let model: Module<Double> = try ModelSpec(architecture: "linear", inputShape: [1], outputs: 1).build()
        #expect(model.trainableScalarCount == 2)
        #expect(model.namedParameters().map(\.name) == ["fc.weight", "fc.bias"])
    }

    @Test func classicRegressionMLP() throws {
        let spec = ModelSpec(architecture: "mlp", hiddenSizes: [64, 64, 64], activation: "tanh", inputShape: [1], outputs: 1)
        let model: Module<Double> = try spec.build()
        #expect(model.trainableScalarCount == (64 + 64) + (64 * 64 + 64) * 2 + (64 + 1))
    }

    @Test func resNetDepthsAndParameterCounts() throws {
        // (depth − 2) / 6 basic blocks per stage; ResNet-20 with projection shortcuts and 10
        // classes has 272,474 trainable parameters, as the same network built in PyTorch 2.13.
        for (depth, blocks) in [(20, 3), (32, 5), (44, 7), (56, 9), (110, 18)] {
            let model: Module<Float> = try ModelSpec(architecture: "resnet\(depth)", inputShape: [3, 32, 32], outputs: 10).build()
            let convs = model.namedParameters().filter { $0.name.hasSuffix("conv1.weight") || $0.name.hasSuffix("conv2.weight") }
            #expect(convs.count == 1 + 2 * 3 * blocks, "resnet\(depth)")
        }
        let r20: Module<Float> = try ModelSpec(architecture: "resnet20", inputShape: [3, 32, 32], outputs: 10).build()
        #expect(r20.trainableScalarCount == 272_474)
        let noshort: Module<Float> = try ModelSpec(architecture: "resnet20-noshort", inputShape: [3, 32, 32], outputs: 10).build()
        #expect(!noshort.namedParameters().contains { $0.name.contains("shortcut") })
        let wide: Module<Float> = try ModelSpec(architecture: "wrn20-4", inputShape: [3, 32, 32], outputs: 10).build()
        #expect(wide.namedParameters().first { $0.name == "conv1.weight" }?.parameter.shape == [64, 3, 3, 3])
    }

    @Test func pyTorchStyleNames() throws {
        let model: Module<Float> = try ModelSpec(architecture: "resnet20", inputShape: [3, 32, 32], outputs: 10).build()
        let names = model.namedParameters().map(\.name)
        for expected in ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                         "layer1.0.conv1.weight", "layer1.0.bn2.running_var", "layer2.0.shortcut.0.weight",
                         "layer2.0.shortcut.1.weight", "layer3.2.conv2.weight", "linear.weight", "linear.bias"] {
            #expect(names.contains(expected), "\(expected)")
        }
        let roles = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.parameter.role) })
        #expect(roles["layer1.0.conv1.weight"] == .weight)
        #expect(roles["bn1.weight"] == .normWeight)
        #expect(roles["bn1.running_var"] == .runningVariance)
        #expect(roles["linear.bias"] == .bias)
    }

    @Test func sameSeedSameWeights() throws {
        let spec = ModelSpec(architecture: "resnet20", inputShape: [3, 32, 32], outputs: 10, seed: 9)
        let a: Module<Float> = try spec.build(), b: Module<Float> = try spec.build()
        #expect(a.flatParameters(.states) == b.flatParameters(.states))
        var other = spec; other.seed = 10
        let c: Module<Float> = try other.build()
        #expect(a.flatParameters() != c.flatParameters())
    }

    @Test func flatVectorRoundTrip() throws {
        let model: Module<Double> = try ModelSpec(architecture: "cnn", width: 0.25, inputShape: [1, 8, 8], outputs: 3).build()
        let flat = model.flatParameters(.states)
        var changed = flat
        Backends.current.scale(&changed, by: 2)
        model.setFlatParameters(changed, .states)
        #expect(model.flatParameters(.states) == changed)
        model.setFlatParameters(flat, .states)
        #expect(model.flatParameters(.states) == flat)
        #expect(model.flatParameters(.weights).count == model.trainableScalarCount)
    }

    @Test func unknownArchitectureIsAClearError() {
        #expect(throws: ModelError.self) { let _: Module<Float> = try ModelSpec(architecture: "resnet7", inputShape: [1, 28, 28], outputs: 10).build() }
        #expect(throws: ModelError.self) { let _: Module<Float> = try ModelSpec(architecture: "resnet20", inputShape: [784], outputs: 10).build() }
        #expect(throws: ModelError.self) { let _: Module<Float> = try ModelSpec(architecture: "mlp", activation: "swish", inputShape: [4], outputs: 2).build() }
    }

    @Test(arguments: [("resnet8", 0.25), ("resnet8-noshort", 0.25), ("cnn", 0.25), ("vgg9", 0.0625), ("densenet", 0.25), ("mlp", 0.25)])
    func wholeModelGradients(architecture: String, width: Double) throws {
        let spec = ModelSpec(architecture: architecture, width: width, inputShape: [2, 8, 8], outputs: 3, seed: 5)
        let model: Module<Double> = try spec.build()
        let report = GradientCheck(maxCoordinates: 40).run(model, input: randomInput([4, 2, 8, 8]))
        #expect(report.input < 1e-6, "input error \(report.input)")
        for (name, error) in report.parameters { #expect(error < 1e-6, "\(name): \(error)") }
    }

    /// A linear layer whose backward is off by 1%: the checker must notice.
    @Test func gradientCheckDetectsAWrongBackward() {
        var g = SeededGenerator(seed: 1)
        let report = GradientCheck().run(SkewedModule(Linear(4, 3, generator: &g), skewing: .inputGradient), input: randomInput([2, 4]))
        #expect(report.input > 1e-3)
    }
}

/// Terrain's ResNets against the same networks built in PyTorch (bench/pytorch_bench.py): every
/// state-dict entry has the same name and shape (PyTorch's BN batch counters aside).
@Suite("PyTorch parity of the zoo")
struct PyTorchParityTests {
    @Test(.enabled(if: Python.torchChecksRun), arguments: [20, 56])
    func resNetStateDictMatches(depth: Int) throws {
        let script = """
        import sys; sys.path.insert(0, '\(packageRoot.appendingPathComponent("bench").path)')
        from pytorch_bench import ResNet
        for k, v in ResNet(\(depth)).state_dict().items():
            if not k.endswith('num_batches_tracked'): print(k, list(v.shape))
        """
        // Throws (the test fails) when the script exits with a non-zero status.
        let output = try Python.run(script, interpreter: Python.torchInterpreter)
        let model: Module<Float> = try ModelSpec(architecture: "resnet\(depth)", inputShape: [3, 32, 32], outputs: 10).build()
        let ours = model.namedParameters().map { "\($0.name) \($0.parameter.shape)" }
        #expect(ours == output.split(separator: "\n").map(String.init))
    }
}
