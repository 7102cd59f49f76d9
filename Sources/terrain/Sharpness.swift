import ArgumentParser
import Foundation
import TerrainLandscape
import TerrainRequests

/// `terrain sharpness`: ε-sharpness, the average loss increase at a radius and optionally λmax
/// of one or more checkpoints, as one table (and a CSV), so sharp and flat minima can be compared.
struct SharpnessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sharpness",
        abstract: "Sharpness numbers of checkpoints: ε-sharpness, mean loss increase at a radius, λmax.",
        discussion: """
        ε-sharpness (Keskar et al. 2017): 100·(max L(θ+δ) − L(θ))/(1 + L(θ)) over the box \
        |δᵢ| ≤ ε(|θᵢ|+1), maximized by projected gradient ascent (a lower bound of the true maximum). \
        Loss increase: mean ± sd of L(θ + r·d) − L(θ) over random filter-normalized directions d \
        (biases and BN left out, the seeds of `terrain surface`). λmax: the largest Hessian eigenvalue \
        by Lanczos (--eigenvalue; one Hessian-vector product per step).

        The loss increase is itself a spread over random directions (--direction-count); \
        ε-sharpness has no random direction. --subset-repeats K measures every number on K random \
        subsets of --subset N samples (subset k from --subset-seed + 2k, subset 0 the plain run's) \
        and adds each number's mean ± standard deviation (ddof = 1) over them.
        """)

    @Argument(help: "Checkpoints (.safetensors) written by terrain, or .onnx models.") var checkpoints: [String]
    @Option(help: "ε-sharpness: the box's relative size ε.") var epsilon: Double = 1e-3
    @Option(help: "ε-sharpness: projected gradient ascent steps.") var ascentSteps: Int = 20
    @Option(help: "Loss increase: the radius r along filter-normalized directions.") var radius: Double = 0.5
    @Option(help: "Loss increase: the number of random directions.") var directionCount: Int?
    @Option(name: .customLong("directions"), help: .hidden) var oldDirections: Int?
    @Option(help: "Seed of the random directions (direction k uses seed + k) and of Lanczos.") var seed: UInt64 = 123
    @Flag(help: "Also compute the largest Hessian eigenvalue (Lanczos on Hessian-vector products).") var eigenvalue = false
    @Option(help: "Lanczos: the most iterations (with --eigenvalue).") var maxIterations: Int?
    @Option(name: .customLong("lanczos-iterations"), help: .hidden) var oldLanczosIterations: Int?
    @OptionGroup var evaluation: EvaluationOptions
    @Option(help: ArgumentHelp("Measure on K random subsets of --subset samples (seeds --subset-seed + 2k) and give each number's mean ± std over them.",
                               valueName: "K"))
    var subsetRepeats: Int?
    @Option(help: "Also write the numbers to this CSV file.") var csv: String?
    @OptionGroup var progress: ProgressOptions
    @OptionGroup var compute: ComputeOptions

    /// `--direction-count`, once `--directions` (which elsewhere names a direction file).
    var directionCountOption: RenamedOption<Int> {
        RenamedOption(old: oldDirections, oldName: "--directions", new: directionCount, newName: "--direction-count", defaultValue: 10)
    }

    /// `--max-iterations`, once `--lanczos-iterations`.
    var maxIterationsOption: RenamedOption<Int> {
        RenamedOption(old: oldLanczosIterations, oldName: "--lanczos-iterations", new: maxIterations, newName: "--max-iterations",
                      defaultValue: 100)
    }

    var directions: Int { directionCountOption.value }
    var lanczosIterations: Int { maxIterationsOption.value }

    func validate() throws {
        try directionCountOption.check()
        try maxIterationsOption.check()
        guard !checkpoints.isEmpty else { throw ValidationError("name at least one checkpoint") }
        guard epsilon.isFinite, epsilon > 0 else { throw ValidationError("--epsilon must be a positive number") }
        guard ascentSteps >= 1 else { throw ValidationError("--ascent-steps must be at least 1") }
        guard radius.isFinite, radius > 0 else { throw ValidationError("--radius must be a positive number") }
        guard directions >= 1 else { throw ValidationError("--direction-count (the number of random directions) must be at least 1") }
        guard lanczosIterations >= 1 else { throw ValidationError("--max-iterations must be at least 1") }
        try OptionCheck.count(ascentSteps, "--ascent-steps", in: 1...OptionCheck.maximumIterations)
        try OptionCheck.count(directions, "--direction-count", in: 1...OptionCheck.maximumIterations)
        try OptionCheck.count(lanczosIterations, "--max-iterations", in: 1...OptionCheck.maximumIterations)
        try OptionCheck.number(epsilon, "--epsilon", in: 0...1e6, positive: true)
        try OptionCheck.number(radius, "--radius", in: 0...1e6, positive: true)
        guard evaluation.sets().count == 1 else {
            throw ValidationError("sharpness is measured on one set: --data train or --data test")
        }
        if let csv, csv.isEmpty { throw ValidationError("--csv needs a file name") }
        if let csv { try OptionCheck.outputs(files: [csv]) }
        if let subsetRepeats {
            try OptionCheck.count(subsetRepeats, "--subset-repeats", in: 1...SurfaceRequest.Repeats.maximumMembers)
            guard try evaluation.evaluationData().subset != nil else {
                throw ValidationError("--subset-repeats \(subsetRepeats) draws \(subsetRepeats) subsets of --subset N samples each: give --subset too")
            }
        }
    }

    func run() throws {
        try compute.apply()
        try failing {
            var settings = SharpnessSettings()
            settings.epsilon = epsilon
            settings.ascentSteps = ascentSteps
            settings.radius = radius
            settings.directions = directions
            settings.seed = seed
            settings.eigenvalue = eigenvalue
            settings.lanczosIterations = lanczosIterations
            let request = SharpnessRequest(models: checkpoints.map(evaluation.source), data: try evaluation.evaluationData(),
                                           settings: settings, csv: csv, subsetRepeats: subsetRepeats)
            let rows = try request.run(progress: progress.progress)
            printTable(rows, set: request.data.sets[0])
        }
    }

    private static func number(_ x: Double, _ format: String = "%.6g") -> String { SharpnessRequest.format(x, format) }

    /// One aligned row per checkpoint: names left, numbers right.
    private func printTable(_ rows: [SharpnessRequest.Row], set: EvaluationSet) {
        var header = ["checkpoint", "\(set.rawValue) loss", "acc %", "ε-sharpness",
                      "Δloss@r mean", "± sd"]
        if eigenvalue { header.append("λmax") }
        let body: [[String]] = rows.map { row in
            let (name, r) = (row.name, row.report)
            var cells = [name, Self.number(r.loss), r.accuracy.map { Self.number($0, "%.2f") } ?? "-",
                         Self.number(r.epsilon.sharpness), Self.number(r.lossIncrease.mean),
                         "± " + Self.number(r.lossIncrease.standardDeviation)]
            if eigenvalue { cells.append(r.topEigenvalue.map { Self.number($0.value) + ($0.converged ? "" : "*") } ?? "-") }
            return cells
        }
        print("ε = \(Self.number(epsilon)) (\(ascentSteps) ascent steps), r = \(Self.number(radius)) over \(directions) filter-normalized directions (seed \(seed))")
        for line in TextTable(header: header, rows: body).lines { print(line) }
        if eigenvalue, rows.contains(where: { $0.report.topEigenvalue?.converged == false }) {
            print("* Lanczos did not reach its tolerance in \(lanczosIterations) iterations")
        }
        if let first = rows.first, !first.subsets.isEmpty { printSpread(rows, set: set) }
    }

    /// One row per checkpoint: each number's mean ± standard deviation over the subsets.
    private func printSpread(_ rows: [SharpnessRequest.Row], set: EvaluationSet) {
        var header = ["checkpoint", "\(set.rawValue) loss", "acc %", "ε-sharpness", "Δloss@r mean"]
        if eigenvalue { header.append("λmax") }
        let body: [[String]] = rows.map { row in
            func cell(_ number: (SharpnessReport) -> Double?) -> String {
                let s = row.spread(number)
                return Self.number(s.mean) + " ± " + Self.number(s.standardDeviation)
            }
            var cells = [row.name, cell { $0.loss }, cell { $0.accuracy }, cell { $0.epsilon.sharpness }, cell { $0.lossIncrease.mean }]
            if eigenvalue { cells.append(cell { $0.topEigenvalue?.value }) }
            return cells
        }
        print("")
        print("across \(rows[0].subsets.count) subsets (--subset-seed \(rows[0].subsets.map { String($0.seed) }.joined(separator: ", "))): mean ± std (ddof 1)")
        for line in TextTable(header: header, rows: body).lines { print(line) }
    }
}
