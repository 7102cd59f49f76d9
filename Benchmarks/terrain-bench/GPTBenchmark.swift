import Foundation
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainModels
import TerrainTraining
import TerrainLandscape
import TerrainObjectives

/// The GPT of the transformer benchmarks, as bench/pytorch_bench.py builds its twin: 4 causal
/// pre-LayerNorm blocks, 4 heads, embedding E = 128, context T = 128, vocabulary V = 256, on 256
/// sequences of seeded random token ids (targets: the next token of the same random stream),
/// evaluated in batches of 32 sequences.
enum GPTCase {
    static let layers = 4, heads = 4, embed = 128, context = 128, vocabulary = 256, sequences = 256
    static let batchSize = 32

    static var spec: ModelSpec {
        ModelSpec(architecture: "gpt", inputShape: [context], outputs: vocabulary, seed: 0,
                  layers: layers, heads: heads, embed: embed)
    }

    static var data: Dataset {
        var g = SeededGenerator(seed: 6)
        let stream = (0..<(sequences * context + 1)).map { _ in Int32(g.next() % UInt64(vocabulary)) }
        let inputs = Tensor<Float>(shape: [sequences, context], scalars: stream.dropLast().map(Float.init))
        let targets = Targets.tokens(Array(stream.dropFirst()), length: context, vocabulary: vocabulary)
        return Dataset(name: "synthetic-tokens", inputs: inputs, targets: targets)
    }

    /// 2 × the multiply-adds of one token's forward pass, the formula pytorch_bench.py uses too:
    /// per block the projections (3E² in, E² out) and the MLP (8E²), the scores Q·Kᵀ and P·V over the
    /// whole T × T square (both sides compute the masked half too), then the head (E·V).
    static var flopsPerToken: Double {
        let e = Double(embed), t = Double(context)
        return 2 * (Double(layers) * (12 * e * e + 2 * t * e) + e * Double(vocabulary))
    }

    /// The scores [N, H, T, T] of one layer over the whole set, in bytes: what attention must not keep.
    static var wholeSetScoresBytes: Double { Double(sequences * heads * context * context * 4) }
}

/// The process's resident-set high-water mark in MiB (getrusage; Linux reports KiB).
func peakResidentMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

/// Tokens per second of a 2D loss surface of the GPT: the reference's loop, as surfaceBenchmark
/// runs it for the CNNs (every point set from the centre along two filter-normalized directions,
/// biases and LayerNorm ignored, then the whole set evaluated in batches), on a side × side grid
/// over [-1, 1]² with the centre first as the warm-up. Run by bench/run.py in a process of its own,
/// so that the peak RSS it reports is this benchmark's; it checks that the surface grew the RSS by
/// less than one layer's scores over the whole set per concurrent point (attention keeps one batch's [B, H, T, T]).
func gptSurfaceBenchmark(side: Int) throws {
    let spec = GPTCase.spec
    let model: Module<Float> = try spec.build()
    model.setTraining(false)
    model.setRecording(false)
    let set = GPTCase.data
    let objective = ModelObjective(model: model, data: DatasetPair(train: set, test: set), batchSize: GPTCase.batchSize) {
        try spec.build() as Module<Float>
    }
    let plane = benchmarkPlane(objective)
    let unmoved = Evaluation.evaluate(model, on: set, batchSize: GPTCase.batchSize)
    let before = peakResidentMiB()
    let (computation, t) = try timedSurface(objective, plane: plane, side: side, spreadPoints: true,
                                            unmovedLoss: unmoved.loss, name: "gpt")
    let peak = peakResidentMiB()
    let growth = (peak - before) * 1024 * 1024
    // Points run concurrently, each on its own copy of the model: had each kept one layer's scores
    // for the whole set, the RSS would have grown by at least that much per point.
    if growth >= GPTCase.wholeSetScoresBytes * Double(computation.concurrentPoints) {
        warn("the gpt surface grew the RSS by \(Int(growth / 1048576)) MiB, no less than one layer's scores over the whole set per concurrent point")
    }
    let tokensPerSecond = Double(side * side * set.count * GPTCase.context) / t
    report("gpt_surface_tokens_per_s", tokensPerSecond, "tokens/s")
    report("gpt_surface_gflops", tokensPerSecond * GPTCase.flopsPerToken / 1e9, "GFLOP/s")
    report("gpt_surface_peak_rss_mib", peak, "MiB (peak RSS)")
}

/// Hessian-vector products of the GPT per second: H·v of the mean loss over every trainable
/// parameter on the 256 sequences, by the R-operator (bench/pytorch_bench.py: double backward).
/// Its own process too; GFLOP/s count 8 forward passes per product (per linear map three
/// products forward, three backward-data and two weight-gradient ones, as for ResNet-20).
func gptHessianBenchmark(repeats: Int) throws {
    let model: Module<Float> = try GPTCase.spec.build()
    let set = GPTCase.data
    let objective = ModelObjective(model: model, data: DatasetPair(train: set, test: set), batchSize: GPTCase.batchSize)
    var g = SeededGenerator(seed: 7)
    let t = try medianHessianVectorProductSeconds(objective, repeats: repeats, generator: &g)
    let tokens = Double(set.count * GPTCase.context)
    report("gpt_hvp_per_s", 1 / t, "HVPs/s (256 x 128 tokens)")
    report("gpt_hvp_gflops", 8 * tokens * GPTCase.flopsPerToken / t / 1e9, "GFLOP/s")
    report("gpt_hvp_peak_rss_mib", peakResidentMiB(), "MiB (peak RSS)")
}
