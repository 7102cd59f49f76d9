import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainModels
import TerrainObjectives

/// Hessian-vector products per second: ResNet-20 (fresh, evaluation mode) on 1,000 CIFAR-shaped
/// images in batches of 500, H·v of the mean loss over all trainable parameters by the
/// R-operator, through the compiled curvature program (`CompiledCurvature`), the default. bench/pytorch_bench.py does the same with double backward
/// (torch.autograd.grad with create_graph=True), PyHessian's way.
func hessianBenchmark(repeats: Int) throws {
    let images = 1000
    let spec = ModelSpec(architecture: "resnet20", inputShape: [3, 32, 32], outputs: 10, seed: 0)
    let model: Module<Float> = try spec.build()
    var g = SeededGenerator(seed: 5)
    let inputs = Tensor<Float>.randomNormal(shape: [images, 3, 32, 32], generator: &g)
    let set = Dataset(name: "synthetic-cifar", inputs: inputs, targets: .classes((0..<images).map { Int32($0 % 10) }, count: 10))
    let objective = ModelObjective(model: model, data: DatasetPair(train: set, test: set), batchSize: 500)
    let t = try medianHessianVectorProductSeconds(objective, repeats: repeats, generator: &g)
    report("resnet20_hvp_per_s", 1 / t, "HVPs/s (1,000 images)")
    // Blocks of probes (`HessianOperator.apply(block:)`): the θ-only passes once per block, and
    // with the state kept (`curvatureStateBudget`) once for all blocks at this θ.
    for (block, kept) in [(1, false), (4, false), (8, false), (1, true), (8, true)] {
        objective.curvatureStateBudget = kept ? 1 << 40 : 0
        let seconds = try medianHessianVectorProductSeconds(objective, block: block, repeats: repeats, generator: &g)
        report("resnet20_hvp_block\(block)\(kept ? "_kept" : "")_per_s", Double(block) / seconds,
               "HVPs/s (1,000 images, blocks of \(block)\(kept ? ", θ-only passes kept" : ""))", against: "resnet20_hvp_per_s")
    }
    objective.curvatureStateBudget = 0
}
