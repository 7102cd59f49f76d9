import TerrainTensor

/// The plane that best fits an optimization path: PCA of the checkpoints around the final one.
///
/// Rows are θᵢ − θ_final over the covered parameters (optionally with one-dimensional tensors
/// zeroed, as the reference allows), centred by their mean as PCA does. The top components come
/// exactly from the small n×n Gram matrix of the rows (n checkpoints ≪ parameters): if G = XXᵀ
/// has eigenpairs (λ, u), then Xᵀu/√λ are the principal axes and λ/Σλ their explained variance
/// ratios. Each checkpoint projects onto the (orthonormal) axes by dot products, which is the
/// least-squares position of θᵢ − θ_final on the plane.
public struct TrajectoryPCA {
    /// The two principal directions, unit length, in the objective's layout.
    public var axes: [Direction]
    public var explainedVarianceRatio: [Double]
    /// sklearn's `explained_variance_`: λ / (n − 1).
    public var explainedVariance: [Double]
    public var singularValues: [Double]
    /// Each checkpoint's coordinates (α, β) on the plane, θ_final at the origin.
    public var path: [(x: Double, y: Double)]

    public init(checkpoints: [[Double]], final: [Double], groups: [ParameterGroup], type: TensorSet,
                oneDimensional: OneDimensionalTensors, components: Int = 2) throws {
        let n = checkpoints.count
        guard n >= components + 1 else {
            throw LandscapeError.invalidRequest("PCA of a trajectory needs at least \(components + 1) checkpoints, the run has \(n)")
        }
        let mask: [Bool] = {
            var m = [Bool](repeating: false, count: final.count)
            for g in groups where type.covers(g) && oneDimensional.includes(dimensions: g.shape.count) {
                for i in g.range { m[i] = true }
            }
            return m
        }()
        let rows: [Direction] = checkpoints.map { theta in
            Direction(values: (0..<final.count).map { mask[$0] ? theta[$0] - final[$0] : 0 })
        }
        var mean = Direction(zeros: final.count)
        for r in rows { for i in r.values.indices { mean.values[i] += r.values[i] / Double(n) } }
        let centred = rows.map { r in Direction(values: zip(r.values, mean.values).map { $0 - $1 }) }
        var gram = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in i..<n { let g = dot(centred[i], centred[j]); gram[i * n + j] = g; gram[j * n + i] = g } }
        let (values, vectors) = SymmetricEigen.decompose(gram, size: n)
        let total = values.filter { $0 > 0 }.reduce(0, +)
        guard total > 0, values[components - 1] > 0 else {
            throw LandscapeError.invalidRequest("the checkpoints do not span \(components) dimensions (did the weights change during training?)")
        }
        axes = (0..<components).map { k in
            var axis = Direction(zeros: final.count)
            for i in 0..<n { for p in axis.values.indices { axis.values[p] += vectors[k][i] * centred[i].values[p] } }
            let norm = axis.norm
            for p in axis.values.indices { axis.values[p] /= norm }
            return axis
        }
        explainedVarianceRatio = (0..<components).map { values[$0] / total }
        explainedVariance = (0..<components).map { values[$0] / Double(max(n - 1, 1)) }
        singularValues = (0..<components).map { values[$0].squareRoot() }
        let axes = self.axes
        path = rows.map { r in (dot(r, axes[0]), components > 1 ? dot(r, axes[1]) : 0) }
    }

    /// The widest margin `coveringAxes` takes: 100 times the path's extent on each side.
    public static let maximumMargin = 100.0

    /// A range per axis that covers the whole path with a margin (and the origin). The margin is
    /// a fraction of the path's extent, finite and in [0, `maximumMargin`]; `points` per axis
    /// as `Axis.parse` allows (2 to `Axis.maximumCount`).
    public func coveringAxes(points: Int, margin: Double = 0.15) throws -> (x: Axis, y: Axis) {
        try Self.checkCovering(points: points, margin: margin)
        func axis(_ values: [Double]) -> Axis {
            let lo = min(values.min()!, 0), hi = max(values.max()!, 0)
            let pad = max(hi - lo, 1e-12) * margin
            return Axis(minimum: lo - pad, maximum: hi + pad, count: points)
        }
        return (axis(path.map(\.x)), axis(path.map(\.y)))
    }

    /// The checks of `coveringAxes`' arguments, for commands that refuse them before any work.
    public static func checkCovering(points: Int, margin: Double) throws {
        guard margin.isFinite, margin >= 0, margin <= Self.maximumMargin else {
            throw LandscapeError.invalidRequest("--margin must be a number in [0, \(Self.maximumMargin)] (a fraction of the path's extent), got \(margin)")
        }
        guard points >= 2, points <= Axis.maximumCount else {
            throw LandscapeError.invalidRequest("--steps must be between 2 and \(Axis.maximumCount), got \(points)")
        }
    }
}
