/// A curve θ(t), t ∈ [0, 1], from θA (t = 0) to θB (t = 1) through one trainable bend θ_b, as
/// Garipov et al. connect two modes ("Loss Surfaces, Mode Connectivity, and Fast Ensembling of
/// DNNs", NeurIPS 2018, §3):
///
///     Bézier (quadratic):  θ(t) = (1 − t)²·θA + 2t(1 − t)·θ_b + t²·θB
///     polygonal chain:     θ(t) = θA + 2t·(θ_b − θA)                t ≤ ½
///                          θ(t) = θ_b + (2t − 1)·(θB − θ_b)         t > ½
///
/// Every point is a combination wA·θA + w_b·θ_b + wB·θB (`weights(at:)`) whose weights sum to 1,
/// so it lies in the plane through θA, θB and θ_b: θ = θA + α·(θB − θA) + β·(θ_b − θA) with
/// α = wB and β = w_b (`planeCoordinates(at:)`): α = t², β = 2t(1 − t) on the Bézier curve, and
/// the segments (0, 2t) then (2t − 1, 2 − 2t) on the chain. The straight line is α = t, β = 0.
///
/// Since θ(t) is linear in θ_b, the gradient of the loss at θ(t) with respect to the bend is the
/// gradient at θ(t) times w_b(t) (`bendGradientCoefficient(at:)`): 2t(1 − t) on the Bézier
/// curve, 2t then 2(1 − t) on the chain. Training the bend to minimize E_{t∼U(0,1)} L(θ(t)) draws
/// one t per batch and steps on that gradient (`CurveTrainer`).
public enum ConnectingCurve: String, Codable, Sendable, CaseIterable {
    case bezier
    case polychain

    /// (wA, w_b, wB): θ(t) = wA·θA + w_b·θ_b + wB·θB.
    public func weights(at t: Double) -> (a: Double, bend: Double, b: Double) {
        switch self {
        case .bezier:
            return ((1 - t) * (1 - t), 2 * t * (1 - t), t * t)
        case .polychain:
            if t <= 0.5 { return (1 - 2 * t, 2 * t, 0) }
            return (0, 2 - 2 * t, 2 * t - 1)
        }
    }

    /// ∂θ(t)/∂θ_b, the factor from the gradient at θ(t) to the gradient with respect to the bend.
    public func bendGradientCoefficient(at t: Double) -> Double { weights(at: t).bend }

    /// (α, β) of θ(t) in the plane θA + α·(θB − θA) + β·(θ_b − θA).
    public func planeCoordinates(at t: Double) -> (alpha: Double, beta: Double) {
        let w = weights(at: t)
        return (w.b, w.bend)
    }

    /// The bend's starting value: the midpoint (θA + θB)/2, where Garipov et al. start both curves
    /// (the curve then starts as the straight line, in either parametrization).
    public static func initialBend(a: Double, b: Double) -> Double { 0.5 * (a + b) }

    /// How the curve is named in messages and figures.
    public var title: String {
        switch self {
        case .bezier: "quadratic Bézier curve"
        case .polychain: "polygonal chain"
        }
    }
}
