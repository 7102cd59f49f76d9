import Foundation
import ArgumentParser
import TerrainModels
import TerrainRequests

struct Align: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Permute B's hidden units to match A's (weight matching, Git Re-Basin): the same function, closer weights.",
        discussion: """
        Writes B-aligned, a checkpoint with B's metadata that computes exactly B's function (its \
        outputs are checked against B's on test data in double precision) but whose units are \
        reordered to be as close as possible to A's (Ainsworth et al. 2023, weight matching). \
        `terrain interpolate A B-aligned` then shows the loss barrier left once the permutation \
        symmetry is taken out. Supported: \(ModelSpec.alignableArchitectures).
        """)

    @Argument(help: "Checkpoint A, the reference (its units stay in place).") var a: String
    @Argument(help: "Checkpoint B, whose units are permuted.") var b: String
    @Option(help: "Output checkpoint (.safetensors).") var out: String
    @Option(help: "Seed of the order in which weight matching visits the permutations.") var seed: UInt64 = 0
    @Option(help: "Dataset of the check (default: the one B was trained on).") var dataset: String?
    @Option(help: "Test samples the check evaluates.") var checkSamples: Int = 1000
    @Flag(help: "Do not evaluate B and B-aligned to check that they compute the same function.") var noCheck = false
    @Flag(help: "Replace an existing output file.") var overwrite = false
    @OptionGroup var progress: ProgressOptions

    func validate() throws {
        guard checkSamples > 0 else { throw ValidationError("--check-samples must be positive") }
        try OptionCheck.outputs(files: [out])
    }

    func run() throws {
        try failing {
            var data = EvaluationData()
            data.dataset = dataset
            let request = AlignRequest(a: .init(path: a), b: .init(path: b), output: out, overwrite: overwrite, seed: seed,
                                       check: !noCheck, data: data, checkSamples: checkSamples)
            let summary = try request.run(progress: progress.progress)
            var table = TextTable(header: ["permutation", "units", "moved"])
            table.rows = summary.groups.map { [$0.name, "\($0.size)", "\($0.moved)"] }
            print("align: \(summary.architecture), \(summary.groups.count) permutation\(summary.groups.count == 1 ? "" : "s"), "
                  + "\(summary.passes) pass\(summary.passes == 1 ? "" : "es") of weight matching")
            table.lines.forEach { print("  " + $0) }
            print(String(format: "weight matching objective Σ⟨A, π(B)⟩: %.6g -> %.6g", summary.objectiveBefore, summary.objectiveAfter))
            print(String(format: "‖A − B‖ = %.6g, ‖A − B-aligned‖ = %.6g", summary.distanceBefore, summary.distanceAfter))
            if let samples = summary.checkedSamples, let difference = summary.relativeOutputDifference {
                print(String(format: "check: B-aligned's outputs equal B's on %d test samples (max relative difference %.2g)", samples, difference))
            }
            print("wrote \(out)")
        }
    }
}
