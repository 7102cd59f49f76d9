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
/// grid's), `pilot_points`, `pilot_stride` (along x; `pilot_stride_y` along y) and, for a tolerance relative to the contour
/// spacing, the pilot's levels per set (`<set>_loss_levels`, text).
///
/// **The pilot**: the points of a lattice of the grid are evaluated on the whole set before any
/// other point: along each axis of n points the lines of stride s (`DataSampling.pilotStride`,
/// by default a quarter of the axis, from 2 to 8 steps) and n − 1 (`AdaptiveRefinement.lines`;
/// stride 8 is the coarse lattice `--adaptive` computes first, at its default 3 levels).
/// Their per-sample losses are the references of the other points' regression estimates (each
/// point's reference is the per-sample losses of its lattice cell's corners interpolated
/// bilinearly to it, and the correction of a cubic interpolation through the lines around,
/// `reference(for:set:)`, a `ControlVariate`), and for a tolerance relative to
/// the contour spacing their losses give the levels (`RefinementLevels`) it refers to. The grid
/// takes the pilot points' values from the pilot (they are exact), and every run (a resumed one,
/// each MPI rank) evaluates the pilot again, deterministically, so every point sees the same
/// references and levels. On a 51×51 grid the pilot is 64 points on the whole set (2.5% of the
/// exact grid's work), in cells of 8×8 steps. A run that keeps the pilot's rows in a journal
/// (`SurfaceComputation.prepareSampling(keepingPilotIn:)`) reads them back instead: the same bits,
/// without the hour a 60,000-image pilot takes.
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
    /// The pilot points' per-sample losses per set, where all are finite.
    private(set) var references: [Int: [EvaluationSet: ControlVariate]] = [:]

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

    /// Whether the pilot ran (`adoptPilot`): points are estimated only then.
    var isPrepared: Bool { !pilotRows.isEmpty }

    /// The pilot lattice's lines along an axis of `count` points.
    func pilotLines(_ count: Int) -> [Int] {
        AdaptiveRefinement.lines(count: count, stride: settings.pilotStride(alongAxisOf: count))
    }

    /// The pilot lattice in words, for progress: "stride 4 (rows and columns 0, 4, 8, … and the
    /// last): 25 points".
    var pilotDescription: String {
        let sx = settings.pilotStride(alongAxisOf: grid.x.count)
        let count = pilotPoints.count
        let points = "\(count) point\(count == 1 ? "" : "s")"
        guard grid.isTwoDimensional else { return "stride \(sx) along x: \(points)" }
        let sy = settings.pilotStride(alongAxisOf: grid.y.count)
        if sx == sy { return "stride \(sx) (rows and columns 0, \(sx), \(2 * sx), … and the last): \(points)" }
        return "stride \(sx) along x, \(sy) along y: \(points)"
    }

    /// The pilot's points: the lattice of the type's comment (in 1D, its points along x).
    var pilotPoints: [Int] {
        let columns = pilotLines(grid.x.count)
        guard grid.isTwoDimensional else { return columns }
        return pilotLines(grid.y.count).flatMap { j in columns.map { j * grid.x.count + $0 } }
    }

    /// The length of a `pilotRow`.
    var pilotRowLength: Int { 4 * sets.count + sets.reduce(0) { $0 + orders[$1]!.count } }

    /// A pilot point's row with the whole set (`row`'s layout) followed by its per-sample losses,
    /// set after set (N of each, in the order's order): what `adoptPilot` takes apart.
    func pilotRow(of worker: Objective) throws -> [Double] {
        let sampled = try sampling(worker)
        var values: [Double] = [], sampling: [Double] = [], losses: [Double] = []
        for set in sets {
            let order = orders[set]!
            let estimate = try settings.estimate(on: sampled, set: set, order: order, keepingLosses: true, tolerance: { _ in 0 })
            values += SurfaceComputation.storedValues(loss: estimate.loss, accuracy: estimate.accuracy)
            sampling += [estimate.standardError, Double(estimate.samples)]
            // A non-finite loss ends the estimate early: such a point is no reference.
            let kept = estimate.losses ?? []
            losses += kept.count == order.count ? kept : [Double](repeating: .nan, count: order.count)
        }
        return values + sampling + losses
    }

    /// Takes in the pilot's `pilotRow`s, keeps each point's row and references, and makes each
    /// set's levels from their finite losses.
    func adoptPilot(_ pilot: [Int: [Double]]) {
        let fields = 4 * sets.count
        var rows: [Int: [Double]] = [:]
        for (point, all) in pilot {
            rows[point] = Array(all[..<fields])
            var offset = fields
            for set in sets {
                let count = orders[set]!.count
                let reference = ControlVariate(losses: Array(all[offset..<(offset + count)]))
                if reference.isUsable { references[point, default: [:]][set] = reference }
                offset += count
            }
        }
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

    /// The reference of a point on one set, a `ControlVariate` of two columns: each sample's
    /// loss followed across the pilot lattice to the point, so that only the point's departure
    /// from it is sampled.
    /// 1. The bilinear interpolation (linear in 1D) of the per-sample losses of the lattice cell
    ///    around it, rᵢ = Σ_k w_k ℓᵢ(θ_k).
    /// 2. What the (tensor-product) cubic interpolation through the lattice lines around it adds
    ///    to that: up to four lines per axis, the cell's two and one more on each side where the
    ///    lattice has it (three lines, quadratic, in an edge cell). Along a line the per-sample
    ///    losses near a minimizer are close to parabolas, which the cubic follows exactly and the
    ///    linear one misses by up to h²/8 of their curvature in a cell h wide; the regression
    ///    takes as much of the correction as the point's losses follow (none, where the losses
    ///    bend otherwise), so it never does worse than the bilinear reference alone.
    /// Interpolation weights are the Lagrange ones at the lines' coordinates (a lattice's last
    /// line can be closer). When a node's losses are not all finite, the bilinear column alone,
    /// and when a corner's are not either, the nearest pilot point's losses; nil when those are
    /// not either.
    func reference(for point: Int, set: EvaluationSet) -> ControlVariate? {
        let nx = grid.x.count
        let (i, j) = (point % nx, point / nx)
        let columns = pilotLines(nx), rows = grid.isTwoDimensional ? pilotLines(grid.y.count) : [0]
        // The weights along x, then along y (one line of weight 1 in 1D), of an interpolation's order.
        func axes(order: Int) -> [[(line: Int, weight: Double)]] {
            [Self.weights(at: i, lines: columns, coordinates: grid.x, order: order),
             grid.isTwoDimensional ? Self.weights(at: j, lines: rows, coordinates: grid.y, order: order) : [(0, 1.0)]]
        }
        let linear = axes(order: 1), cubic = axes(order: 3)
        func interpolated(_ axes: [[(line: Int, weight: Double)]]) -> [Double]? {
            var losses: [Double]?
            for (row, v) in axes[1] {
                for (column, u) in axes[0] {
                    guard let node = references[row * nx + column]?[set] else { return nil }
                    if losses == nil { losses = [Double](repeating: 0, count: node.losses.count) }
                    let weight = u * v
                    node.losses.withUnsafeBufferPointer { r in
                        for k in losses!.indices { losses![k] += weight * r[k] }
                    }
                }
            }
            return losses
        }
        guard let bilinear = interpolated(linear) else { return references[nearestPilotPoint(to: point)]?[set] }
        guard cubic[0].count > linear[0].count || cubic[1].count > linear[1].count, var correction = interpolated(cubic) else {
            return ControlVariate(columns: [bilinear])
        }
        for k in correction.indices { correction[k] -= bilinear[k] }
        return ControlVariate(columns: [bilinear, correction])
    }

    /// The Lagrange weights at grid index `index` of the interpolation of degree `order` (1 or 3)
    /// through the lattice `lines` (ascending grid indices, at `coordinates`): weight 1 on a line
    /// itself; else the two lines around it and, for order 3, the next line on each side where
    /// there is one.
    static func weights(at index: Int, lines: [Int], coordinates t: [Double], order: Int) -> [(line: Int, weight: Double)] {
        guard let upper = lines.firstIndex(where: { $0 >= index }) else { return [] }
        if lines[upper] == index || upper == 0 { return [(lines[upper], 1)] }
        let reach = order == 1 ? 0 : 1
        let nodes = Array(lines[max(upper - 1 - reach, 0)...min(upper + reach, lines.count - 1)])
        let x = t[index]
        return nodes.map { a in
            var weight = 1.0
            for b in nodes where b != a { weight *= (x - t[b]) / (t[a] - t[b]) }
            return (a, weight)
        }
    }

    /// The pilot point nearest to `point` in (α, β), the lower-numbered at equal distance.
    func nearestPilotPoint(to point: Int) -> Int {
        let (alpha, beta) = grid.coordinates(of: point)
        func distance(_ p: Int) -> Double {
            let (a, b) = grid.coordinates(of: p)
            return (a - alpha) * (a - alpha) + (b - beta) * (b - beta)
        }
        return pilotPoints.min { (distance($0), $0) < (distance($1), $1) }!
    }

    private func sampling(_ worker: Objective) throws -> SampleEvaluating {
        guard let sampled = worker as? SampleEvaluating else {
            throw LandscapeError.invalidRequest("a replica of the objective does not evaluate samples one by one")
        }
        return sampled
    }

    /// The row of the worker's current parameters, those of `point`: loss and accuracy per set
    /// (as `SurfaceComputation.row`), then standard error and sample count per set.
    func row(of worker: Objective, point: Int) throws -> [Double] {
        guard isPrepared else { throw LandscapeError.invalidRequest("a sampled surface's pilot runs first (SurfaceComputation.prepareSampling)") }
        let sampled = try sampling(worker)
        var values: [Double] = [], sampling: [Double] = []
        for set in sets {
            let estimate = try settings.estimate(on: sampled, set: set, order: orders[set]!, reference: reference(for: point, set: set),
                                                 tolerance: tolerance(for: set))
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
        file.numberAttributes[prefix + "pilot_stride"] = Double(settings.pilotStride(alongAxisOf: grid.x.count))
        if grid.isTwoDimensional {
            file.numberAttributes[prefix + "pilot_stride_y"] = Double(settings.pilotStride(alongAxisOf: grid.y.count))
        }
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
