import Foundation
import TerrainTensor
import TerrainNN
import TerrainModels
import CFMAPeak

// Terrain's side of `make bench`: each line is one JSON object {"name", "value", "unit"} so that
// bench/run.py can set it against PyTorch's figures measured in the same run (Measurement.swift).

/// The parts `--only` can name.
let parts = ["peak", "gemm", "forward", "train", "surface", "mlp", "resnet20", "vgg9", "hessian", "plot", "adaptive",
             "gptsurface", "gpthvp"]
let usage = """
    usage: terrain-bench [--quick] [--only PART,...] [--mnist DIR]
      Terrain's side of `make bench` (bench/run.py runs it): one JSON line per figure.
      --quick      fewer repeats and smaller grids
      --only       a subset of: \(parts.joined(separator: ", ")) (default: all but the GPT's)
      --mnist DIR  MNIST's IDX files for the MLP's surface (default: ./mnist)
    """
/// Prints `message` and the usage to standard error and exits with EX_USAGE: the bench is run by
/// hand too, and a wrong argument must not run minutes of benchmarks or end in a trap.
func refuse(_ message: String) -> Never {
    FileHandle.standardError.write(Data("terrain-bench: \(message)\n\(usage)\n".utf8))
    exit(64)
}
/// Runs a benchmark, turning an error (a missing data set, an unreadable file) into a message.
func attempt(_ part: String, _ body: () throws -> Void) {
    do { try body() } catch {
        FileHandle.standardError.write(Data("terrain-bench: \(part): \(error)\n".utf8))
        exit(1)
    }
}

if CommandLine.arguments.contains("--help") || CommandLine.arguments.contains("-h") {
    print(usage)
    exit(0)
}
do {
    var rest = CommandLine.arguments.dropFirst()
    while let argument = rest.popFirst() {
        switch argument {
        case "--quick": continue
        case "--only", "--mnist": if rest.popFirst() == nil { refuse("\(argument) needs a value") }
        default: refuse("unknown argument '\(argument)'")
        }
    }
}
let quick = CommandLine.arguments.contains("--quick")
let repeats = quick ? 3 : 7
/// The value of `--name VALUE`, if given.
func option(_ name: String) -> String? {
    CommandLine.arguments.firstIndex(of: name).flatMap { i in
        i + 1 < CommandLine.arguments.count ? CommandLine.arguments[i + 1] : nil
    }
}
/// `--only gemm,forward,train,surface,hessian,plot,adaptive` runs a subset (all by default); `surface`
/// is the three surfaces, which `mlp`, `resnet20` and `vgg9` name one by one.
let only: Set<String>? = option("--only").map { Set($0.split(separator: ",").map(String.init)) }
if let unknown = only?.subtracting(parts).sorted(), !unknown.isEmpty {
    refuse("--only: unknown part\(unknown.count == 1 ? "" : "s") \(unknown.joined(separator: ", "))")
}
func runs(_ part: String) -> Bool { only?.contains(part) ?? true }
/// The MNIST folder of the MLP's surface (`--mnist DIR`; bench/run.py passes the one PyTorch reads).
let mnistFolder = option("--mnist") ?? "mnist"

// The cores' fp32 FMA peak, measured (CFMAPeak): what bench/run.py sets GFLOP/s against; the
// best of three, since a peak is what the cores can reach.
if only == nil || !(only ?? []).isDisjoint(with: ["peak", "gemm", "surface", "mlp", "resnet20", "vgg9"]) {
    let gflops = (0..<3).map { _ in terrain_fma_peak_gflops(Int32(Parallel.threadCount)) }.max()!
    let isa = String(cString: terrain_fma_peak_isa())
    print("{\"name\": \"fma_peak_gflops\", \"value\": \(gflops), \"unit\": \"GFLOP/s\", \"isa\": \"\(isa)\"}")
    fflush(nil)
}

// GEMM: a 2048³ SGEMM through the back end (2·n³ flops).
if runs("gemm") {
    let n = 2048
    var g = SeededGenerator(seed: 1)
    let a = Tensor<Float>.randomNormal(shape: [n, n], generator: &g)
    let b = Tensor<Float>.randomNormal(shape: [n, n], generator: &g)
    let t = median(repeats: repeats) { _ = Backends.current.matmul(a, b, transposeA: false, transposeB: false) }
    report("sgemm_2048_gflops", 2 * pow(Double(n), 3) / t / 1e9, "GFLOP/s")
}

let spec = ModelSpec(architecture: "resnet20", inputShape: [3, 32, 32], outputs: 10, seed: 0)
let model: Module<Float> = try! spec.build()  // a fixed, valid spec

// ResNet-20 evaluation forward, batch 256, CIFAR-shaped input.
if runs("forward") {
    var g = SeededGenerator(seed: 2)
    let x = Tensor<Float>.randomNormal(shape: [256, 3, 32, 32], generator: &g)
    model.setTraining(false)
    model.setRecording(false)
    let t = median(repeats: repeats) { _ = model.forward(x) }
    report("resnet20_eval_forward_b256_images_per_s", 256 / t, "images/s")
}

// ResNet-20 training step, batch 128: forward, cross-entropy, backward, SGD update.
if runs("train") {
    var g = SeededGenerator(seed: 3)
    let x = Tensor<Float>.randomNormal(shape: [128, 3, 32, 32], generator: &g)
    let labels = (0..<128).map { Int32($0 % 10) }
    model.setTraining(true)
    model.setRecording(true)
    let params = model.trainableParameters
    let t = median(repeats: repeats) {
        model.zeroGradients()
        let logits = model.forward(x)
        let loss = Loss.crossEntropy(logits: logits, labels: labels)
        _ = model.backward(loss.gradient)
        for p in params { Backends.current.axpy(-0.01, p.gradient!, into: &p.value) }
    }
    report("resnet20_train_step_b128_images_per_s", 128 / t, "images/s")
}

// 2D loss surfaces: an MLP on MNIST's test images, ResNet-20 and VGG-9 on 1,000 CIFAR-shaped
// images (SurfaceBenchmark.swift, SurfaceCase.swift).
let side = quick ? 3 : 5
if runs("surface") || runs("mlp") { attempt("mlp") { try surfaceBenchmark(try .mlp(mnist: mnistFolder), side: quick ? 5 : 11) } }
if runs("surface") || runs("resnet20") {
    attempt("resnet20") { try surfaceBenchmark(try .cifarShaped("resnet20", threadSharings: [true, false]), side: side) }
}
if runs("surface") || runs("vgg9") { attempt("vgg9") { try surfaceBenchmark(try .cifarShaped("vgg9", threadSharings: [true]), side: 3) } }

// Hessian-vector products of ResNet-20 on 1,000 CIFAR-shaped images (HessianBenchmark.swift).
if runs("hessian") { attempt("hessian") { try hessianBenchmark(repeats: quick ? 1 : 3) } }

// The GPT's surface and Hessian-vector products (GPTBenchmark.swift): named only (`--only
// gptsurface`, `--only gpthvp`), since bench/run.py runs each in a process of its own so that
// the peak RSS it reports is that benchmark's alone.
if only?.contains("gptsurface") ?? false { attempt("gptsurface") { try gptSurfaceBenchmark(side: 3) } }
if only?.contains("gpthvp") ?? false { attempt("gpthvp") { try gptHessianBenchmark(repeats: 1) } }

// Every figure of a 251x251 surface (PlotBenchmark.swift).
if runs("plot") { attempt("plot") { try plotBenchmark() } }

// Adaptive refinement replayed on the demo's committed surface and a 129x129 bowl
// (AdaptiveBenchmark.swift): exact points saved and largest difference to the full grid.
if runs("adaptive") { attempt("adaptive") { try adaptiveSummary() } }
