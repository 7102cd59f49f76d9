import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainModels
import TerrainCompiled

/// One model on one dataset for the surface benchmark; bench/pytorch_bench.py builds the same
/// three: an MLP 784-512-512-10 on the 10,000 MNIST test images, ResNet-20 and VGG-9 on 1,000
/// CIFAR-shaped images (standard normal, seeded).
struct SurfaceCase {
    let name: String
    let spec: ModelSpec
    let model: Module<Float>
    let data: Dataset
    /// Ways to share the threads that are measured: points spread over threads (true) and, for
    /// one case, one point at a time (false).
    let threadSharings: [Bool]

    /// 2 × the multiply-adds of one image's forward pass through the convolutions and linear layers.
    var flopsPerImage: Double {
        let lowered = LoweredNetwork<Float>.lower(model, sampleShape: spec.inputShape)
        return 2 * Double(lowered?.graph.multiplyAddsPerSample ?? 0)
    }

    static func mlp(mnist folder: String) throws -> SurfaceCase {
        let spec = ModelSpec(architecture: "mlp", hiddenSizes: [512, 512], inputShape: [1, 28, 28], outputs: 10, seed: 0)
        let test = try DatasetCatalog.read(folder).test
        return SurfaceCase(name: "mlp", spec: spec, model: try spec.build(), data: test, threadSharings: [true])
    }

    static func cifarShaped(_ architecture: String, images: Int = 1000, threadSharings: [Bool]) throws -> SurfaceCase {
        let spec = ModelSpec(architecture: architecture, inputShape: [3, 32, 32], outputs: 10, seed: 0)
        var g = SeededGenerator(seed: 4)
        let inputs = Tensor<Float>.randomNormal(shape: [images, 3, 32, 32], generator: &g)
        let labels = (0..<images).map { Int32($0 % 10) }
        let set = Dataset(name: "synthetic-cifar", inputs: inputs, targets: .classes(labels, count: 10))
        return SurfaceCase(name: architecture, spec: spec, model: try spec.build(), data: set, threadSharings: threadSharings)
    }
}
