import Foundation

/// The sampled form of a surface (`SurfaceComputation` with a `DataSampling`): each point's
/// loss and accuracy per set are a `DataSampling` estimate on a prefix of one seeded order of the
/// set, and the file holds, beside each loss,
///
///     train_loss_stderr   float64 (ny, nx): the estimate's standard error (0 where the whole set was used)
///     train_loss_samples  float64 (ny, nx): the samples it used (N where the whole set was used)
///     test_loss_stderr, test_loss_samples     likewise for the test set
///
/// NaN where a point is not computed yet; with `--adaptive`, 0 samples and NaN where a point was
/// interpolated. Attributes (`attributePrefix`): `tolerance` and `tolerance_unit` ("loss" or
/// "contour spacing"), `seed` (text: the order's seed), `minimum_samples`, `block_samples`,
/// `<set>_samples_total` (N), `samples_evaluated` (every per-sample loss computed for the file,
/// the pilot's included) and `samples_exact` (points × N summed over the sets: the exact full
/// grid's), `pilot_points` and, for a tolerance relative to the contour spacing, the pilot's
/// levels per set (`<set>_loss_levels`, text).
///
/// **The pilot** (relative tolerances only): the points of the 3×3 lattice of the grid's first,
/// middle and last columns and rows (first, middle, last point in 1D) are evaluated on the whole
/// set before any other point, and their losses give the contour levels (`RefinementLevels`) the
/// tolerance refers to. The grid takes those points' values from the pilot (they are exact), and
/// every run (a resumed one, each MPI rank) evaluates the pilot again, deterministically, so
/// every point sees the same levels.
final class SurfaceSampler {
    let settings: DataSampling
    let grid: SurfaceGrid
    let sets: [EvaluationSet]
    /// The order of each set's samples.
    let orders: [EvaluationSet: SampleOrder]
    /// The pilot's contour levels per set (relative tolerances, once `pilot` ran).
    private(set) var levelSets: [EvaluationSet: LevelSet] = [:]
    /// The pilot points' rows, in `SurfaceComputation`'s layout.
    private(set) var pilotRows: [Int: [Double]] = [:]

    static let attributePrefix = "terrain.sampling."

    init(settings: DataSampling, objective: Objective, sets: [EvaluationSet], grid: SurfaceGrid) throws {
        try settings.validate()
        guard let sampled = objective as? SampleEvaluating else {
            throw LandscapeError.invalidRequest("data sampling needs an objective that evaluates samples one by one (SampleEvaluating)")
        }
        self.settings = settings
        self.grid = grid
        self.sets = sets
        orders = Dictionary(uniqueKeysWithValues: sets.map { ($0, SampleOrder(count: sampled.sampleCount($0), seed: settings.seed)) })
        for set in sets where orders[set]!.count == 0 {
            throw LandscapeError.invalidRequest("the \(set.rawValue) set is empty")
        }
    }

    /// The names of the per-point datasets, in the order of a row's sampling fields: per set its
    /// standard error, then its sample count.
    static func datasetNames(for sets: [EvaluationSet]) -> [String] {
        sets.flatMap { ["\($0.rawValue)_loss_stderr", "\($0.rawValue)_loss_samples"] }
    }

    var datasetNames: [String] { Self.datasetNames(for: sets) }

    /// Whether the tolerance needs the pilot's levels.
    var needsPilot: Bool {
        if case .contourSpacing = settings.tolerance { return true }
        return false
    }

    /// The pilot's points: the 3×3 lattice of first, middle and last columns and rows (1D: three points).
    var pilotPoints: [Int] {
        func lines(_ count: Int) -> [Int] { Array(Set([0, (count - 1) / 2, count - 1])).sorted() }
        let columns = lines(grid.x.count)
        guard grid.isTwoDimensional else { return columns }
        return lines(grid.y.count).flatMap { j in columns.map { j * grid.x.count + $0 } }
    }

    /// Takes in the pilot's rows (each point's row with the whole set, `exactRow`) and makes each
    /// set's levels from their finite losses.
    func adoptPilot(_ rows: [Int: [Double]]) {
        pilotRows = rows
        guard case .contourSpacing(_, let rule) = settings.tolerance else { return }
        for (s, set) in sets.enumerated() {
            let finite = rows.values.map { $0[2 * s] }.filter(\.isFinite)
            let range = (finite.max() ?? 0) - (finite.min() ?? 0)
            levelSets[set] = LevelSet(levels: rule.levels(for: finite), range: range)
        }
    }

    /// The bound on the SE of an estimate of value m on `set`.
    func tolerance(for set: EvaluationSet) -> (Double) -> Double {
        switch settings.tolerance {
        case .absolute(let t):
            return { _ in t }
        case .contourSpacing(let fraction, _):
            guard let levels = levelSets[set] else { preconditionFailure("the pilot's levels are made before any point") }
            return { fraction * levels.localSpacing(at: $0) }
        }
    }

    /// The row of the worker's current parameters: loss and accuracy per set (as
    /// `SurfaceComputation.row`), then standard error and sample count per set. `exact`: the
    /// whole set (the pilot).
    func row(of worker: Objective, exact: Bool = false) throws -> [Double] {
        guard let sampled = worker as? SampleEvaluating else {
            throw LandscapeError.invalidRequest("a replica of the objective does not evaluate samples one by one")
        }
        var values: [Double] = [], sampling: [Double] = []
        for set in sets {
            let estimate = try settings.estimate(on: sampled, set: set, order: orders[set]!,
                                                 tolerance: exact ? { _ in 0 } : tolerance(for: set))
            values += SurfaceComputation.storedValues(loss: estimate.loss, accuracy: estimate.accuracy)
            sampling += [estimate.standardError, Double(estimate.samples)]
        }
        return values + sampling
    }

    /// The datasets and attributes of the file. `samplingValues` per dataset name (NaN where not
    /// computed); `interpolated`: points filled in by an adaptive plan, stored as 0 samples, NaN SE.
    func store(_ samplingValues: [String: [Double]], interpolated: [Bool]?, into file: inout SurfaceFile) {
        var evaluated = 0.0
        for (s, set) in sets.enumerated() {
            let stderrName = datasetNames[2 * s], samplesName = datasetNames[2 * s + 1]
            var errors = samplingValues[stderrName]!, samples = samplingValues[samplesName]!
            if let interpolated {
                for p in samples.indices where interpolated[p] { errors[p] = .nan; samples[p] = 0 }
            }
            file.extraDatasets[stderrName] = errors
            file.extraDatasets[samplesName] = samples
            evaluated += samples.filter(\.isFinite).reduce(0, +)
            // Pilot points the grid did not take (not computed yet, or interpolated) were evaluated all the same.
            for (point, row) in pilotRows where !(samples[point] > 0) { evaluated += row[2 * sets.count + 2 * s + 1] }
            file.numberAttributes[Self.attributePrefix + "\(set.rawValue)_samples_total"] = Double(orders[set]!.count)
            if let levels = levelSets[set] {
                file.textAttributes[Self.attributePrefix + "\(set.rawValue)_loss_levels"] = levels.levels.map { "\($0)" }.joined(separator: ",")
            }
        }
        let prefix = Self.attributePrefix
        switch settings.tolerance {
        case .absolute(let t):
            file.numberAttributes[prefix + "tolerance"] = t
            file.textAttributes[prefix + "tolerance_unit"] = "loss"
        case .contourSpacing(let fraction, _):
            file.numberAttributes[prefix + "tolerance"] = fraction
            file.textAttributes[prefix + "tolerance_unit"] = "contour spacing"
        }
        file.textAttributes[prefix + "seed"] = String(settings.seed)
        file.numberAttributes[prefix + "minimum_samples"] = Double(settings.minimumSamples)
        file.numberAttributes[prefix + "block_samples"] = Double(settings.blockSize)
        file.numberAttributes[prefix + "pilot_points"] = Double(pilotRows.count)
        file.numberAttributes[prefix + "samples_evaluated"] = evaluated
        file.numberAttributes[prefix + "samples_exact"] = Double(grid.pointCount) * sets.reduce(0) { $0 + Double(orders[$1]!.count) }
    }
}

extension DataSampling {
    /// What a sampled file's figures say: "sampled: SE ≤ 0.001", "sampled: SE ≤ 1% of the
    /// contour spacing"; nil for a file computed on the whole set.
    public static func caption(of file: SurfaceFile) -> String? {
        let prefix = SurfaceSampler.attributePrefix
        guard let t = file.numberAttributes[prefix + "tolerance"], let unit = file.textAttributes[prefix + "tolerance_unit"] else { return nil }
        return unit == "loss" ? "sampled: SE ≤ \(number(t))" : "sampled: SE ≤ \(number(100 * t))% of the \(unit)"
    }

    /// "sampled 1234567 of 156060000 per-sample losses (the exact grid's 2601 points × 60000), 99.2% saved".
    public static func summary(of file: SurfaceFile) -> String? {
        let prefix = SurfaceSampler.attributePrefix
        guard let evaluated = file.numberAttributes[prefix + "samples_evaluated"],
              let exact = file.numberAttributes[prefix + "samples_exact"], exact > 0 else { return nil }
        let perPoint = exact / Double(max(file.grid.pointCount, 1))
        return String(format: "sampled %.0f of %.0f per-sample losses (the exact grid's %d points × %.0f), %.1f%% saved",
                      evaluated, exact, file.grid.pointCount, perPoint, 100 * (1 - evaluated / exact))
    }
}
