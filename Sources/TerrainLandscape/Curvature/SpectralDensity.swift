import Foundation
import TerrainTensor

/// The eigenvalue density of a symmetric operator by stochastic Lanczos quadrature (SLQ), as
/// PyHessian computes it.
///
/// The density φ(t) = (1/n)·Σᵢ δ(t − λᵢ) is estimated from probes. For a unit vector v the
/// spectral measure μ_v = Σᵢ (qᵢᵀv)² δ(t − λᵢ) (qᵢ the eigenvectors) has total mass 1, and for
/// v = z/‖z‖ with z Rademacher E[(qᵢᵀv)²] = 1/n, so E[μ_v] = φ. After m Lanczos steps from v,
/// the Gauss quadrature rule of μ_v has nodes θₖ = the Ritz values (eigenvalues of T_m) and
/// weights τₖ = (first component of T_m's k-th unit eigenvector)², exact for polynomials of
/// degree < 2m. SLQ averages these rules over probes and draws them with each node widened into
/// a Gaussian of variance σ².
public struct SpectralDensity: Sendable, Equatable {
    /// Each probe's quadrature nodes (Ritz values), ascending.
    public var nodes: [[Double]]
    /// Each probe's weights, in the order of its nodes; each probe's weights sum to 1.
    public var weights: [[Double]]

    public init(nodes: [[Double]], weights: [[Double]]) {
        precondition(nodes.count == weights.count && zip(nodes, weights).allSatisfy { $0.count == $1.count },
                     "one weight per node")
        self.nodes = nodes
        self.weights = weights
    }

    /// Runs SLQ: `probes` Rademacher probes (PyHessian draws 1), each with `steps` Lanczos steps
    /// (PyHessian's 100) with full reorthogonalization, so that the nodes are genuine Ritz
    /// values and not the ghost copies plain Lanczos makes of converged ones.
    ///
    /// A probe whose Krylov space becomes invariant before `steps` (always so when `steps` ≥ n)
    /// stops there: its quadrature is then exact, nodes being the eigenvalues it sees. Probes
    /// come from `SeededGenerator(seed:)`; `progress` is called with the total number of
    /// products after each. Cost: probes·steps products; memory: steps·n doubles for the basis.
    ///
    /// Up to `block` probes run in lockstep: one `SymmetricOperator.apply(block:)` per Lanczos
    /// step carries every running probe's vector (a probe whose space became invariant drops
    /// out), so an operator whose products share work does it once per step. Each probe's start
    /// vector, recurrence and reorthogonalization are those of a probe run alone (starts are
    /// drawn in probe order before the group runs, and nothing else draws), so the density is
    /// that of `block` 1 whenever the block's products are those of single applies. The probes
    /// in lockstep hold one basis each: the group is narrowed so that together they stay within
    /// `KrylovBasis.maximumValues`.
    public static func estimate(of matrix: some SymmetricOperator, probes: Int = 1, steps: Int = 100, seed: UInt64,
                                block: Int = 1, progress: ((Int) -> Void)? = nil) throws -> SpectralDensity {
        try matrix.requireNonEmpty()
        guard probes >= 1 else { throw LandscapeError.invalidRequest("the spectral density needs at least 1 probe, not \(probes)") }
        guard steps >= 1 else { throw LandscapeError.invalidRequest("the spectral density needs at least 1 Lanczos step, not \(steps)") }
        try IterativeSettings.requireBlock(block)
        let n = matrix.dimension
        let length = min(steps, n)
        try KrylovBasis.checkMemory(vectors: length, dimension: n)
        let width = max(1, min(block, probes, KrylovBasis.maximumValues / (length * n)))
        var generator = SeededGenerator(seed: seed)
        var nodes: [[Double]] = [], weights: [[Double]] = []
        var products = 0
        var first = 0
        while first < probes {
            let group = min(width, probes - first)
            var processes = (0..<group).map { _ in LanczosProcess(matrix: matrix, start: ProbeVectors.rademacher(n, &generator)) }
            var running = Array(processes.indices)
            while !running.isEmpty {
                let results = try matrix.checkedApply(block: running.map { processes[$0].vectorToApply! })
                var still: [Int] = []
                for (p, product) in zip(running, results) {
                    let growing = processes[p].step(product: product)
                    products += 1
                    progress?(products)
                    if growing && processes[p].steps < length { still.append(p) }
                }
                running = still
            }
            for process in processes {
                let rule = try process.ritz(rows: [0])
                nodes.append(rule.values)
                weights.append(rule.vectors.map { $0[0] * $0[0] })
            }
            processes.removeAll()
            first += group
        }
        return SpectralDensity(nodes: nodes, weights: weights)
    }

    /// The smallest and largest node over all probes.
    public var bounds: (lower: Double, upper: Double) {
        let all = nodes.joined()
        return (all.min() ?? 0, all.max() ?? 0)
    }

    /// PyHessian's broadening: σ² = 1e-5 · (λmax − λmin), the nodes' range (1e-5·max(|λ|, 1)
    /// when all nodes coincide).
    public var defaultSigmaSquared: Double {
        let (lower, upper) = bounds
        let range = upper - lower
        return 1e-5 * (range > 0 ? range : max(abs(upper), 1))
    }

    /// The density on `gridPoints` equally spaced points (PyHessian's 10,000) from
    /// λmin − margin to λmax + margin: the probes' rules averaged, each node a Gaussian of
    /// variance `sigmaSquared` (default `defaultSigmaSquared`) and mass its weight.
    ///
    /// `margin` defaults to 5σ, so that the outermost peaks lie whole on the grid (PyHessian
    /// uses 0.01 whatever the scale, which cuts them when σ > 0.01/3). With `normalized` (the
    /// default) the result is divided by its trapezoid integral, which makes it integrate to 1
    /// on the grid; without, it is the raw mixture, whose integral is 1 up to the tails outside
    /// the grid and the grid's resolution of the peaks (grid step vs σ).
    public func density(gridPoints: Int = 10_000, sigmaSquared: Double? = nil, margin: Double? = nil,
                        normalized: Bool = true) throws -> (x: [Double], density: [Double]) {
        guard !nodes.isEmpty else { throw LandscapeError.invalidRequest("a spectral density with no probes") }
        guard gridPoints >= 2 else { throw LandscapeError.invalidRequest("the density grid needs at least 2 points, not \(gridPoints)") }
        let s2 = sigmaSquared ?? defaultSigmaSquared
        guard s2.isFinite, s2 > 0 else { throw LandscapeError.invalidRequest("σ² must be a positive number, not \(s2)") }
        let sigma = s2.squareRoot()
        let pad = margin ?? 5 * sigma
        guard pad.isFinite, pad >= 0 else { throw LandscapeError.invalidRequest("the margin must be a number ≥ 0, not \(pad)") }
        let (lower, upper) = bounds
        let start = lower - pad, end = upper + pad
        let step = (end - start) / Double(gridPoints - 1)
        let x = (0..<gridPoints).map { start + Double($0) * step }
        var density = [Double](repeating: 0, count: gridPoints)
        let peak = 1 / (2 * Double.pi * s2).squareRoot()
        // exp(−u²/2) underflows to exactly 0 beyond |u| ≈ 38.6: skipping those grid points
        // saves the time and changes no bit.
        let reach = 39 * sigma
        let probeShare = 1 / Double(nodes.count)
        for (probeNodes, probeWeights) in zip(nodes, weights) {
            for (node, weight) in zip(probeNodes, probeWeights) where weight > 0 {
                let mass = probeShare * weight * peak
                let first = step > 0 ? max(0, Int(((node - reach - start) / step).rounded(.up))) : 0
                let last = step > 0 ? min(gridPoints - 1, Int(((node + reach - start) / step).rounded(.down))) : gridPoints - 1
                guard first <= last else { continue }
                for g in first...last {
                    let u = x[g] - node
                    density[g] += mass * Foundation.exp(-u * u / (2 * s2))
                }
            }
        }
        if normalized {
            var integral = 0.0
            for g in 1..<gridPoints { integral += 0.5 * (density[g - 1] + density[g]) * step }
            if integral > 0 { for g in density.indices { density[g] /= integral } }
        }
        return (x, density)
    }
}
