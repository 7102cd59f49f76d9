import TerrainTensor

/// How `terrain surface` draws its random directions, as a value: direction k (x, then y) is
/// Gaussian from the seed `seed + k`, normalized against the weights θ with its own
/// `DirectionNormalization`, and y is optionally made orthogonal to x after normalization.
///
/// The Gaussian draws do not depend on θ, only the normalization does. So one recipe applied to
/// the checkpoints of a training run gives the *same* random directions re-normalized to each
/// checkpoint's weights: the landscape "rides on the shoulders" of the moving minimizer
/// (`terrain evolve`), and each of its surfaces is exactly the one `terrain surface` draws
/// around that checkpoint with the same options.
public struct DirectionRecipe: Sendable, Equatable {
    public var seed: UInt64
    public var type: TensorSet
    /// Per direction (x, y): the normalization and whether biases and BN get a zero direction
    /// (`.leftOut`) or a copy of the weights (`.included`).
    public var normalizations: [DirectionNormalization]
    public var oneDimensional: [OneDimensionalTensors]
    public var orthogonalize: Bool

    public init(seed: UInt64 = 123, type: TensorSet = .weights, normalizations: [DirectionNormalization] = [.filter, .filter],
                oneDimensional: [OneDimensionalTensors] = [.leftOut, .leftOut], orthogonalize: Bool = false) {
        self.seed = seed; self.type = type; self.normalizations = normalizations
        self.oneDimensional = oneDimensional; self.orthogonalize = orthogonalize
    }

    /// The Gaussian directions before normalization: `count` (1 or 2) of them.
    public func draws(count: Int, groups: [ParameterGroup]) -> [Direction] {
        precondition(count >= 1 && count <= 2 && normalizations.count >= count && oneDimensional.count >= count)
        return (0..<count).map { Direction.random(groups: groups, type: type, seed: seed &+ UInt64($0)) }
    }

    /// `draws` normalized against `theta` (and y orthogonalized, if asked).
    public func normalized(_ draws: [Direction], against theta: [Double], groups: [ParameterGroup]) -> [Direction] {
        var result = draws
        for k in result.indices {
            result[k].normalize(against: theta, groups: groups, type: type, normalization: normalizations[k],
                                oneDimensional: oneDimensional[k])
        }
        if orthogonalize && result.count == 2 { result[1].orthogonalize(against: result[0]) }
        return result
    }

    /// `count` directions drawn and normalized against `theta`.
    public func directions(count: Int, for theta: [Double], groups: [ParameterGroup]) -> [Direction] {
        normalized(draws(count: count, groups: groups), against: theta, groups: groups)
    }
}
