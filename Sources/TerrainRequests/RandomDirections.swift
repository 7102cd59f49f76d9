import TerrainLandscape
import TerrainTensor

/// The random directions of `terrain surface` and `terrain evolve`: seeded Gaussian directions,
/// each normalized against the weights it perturbs (`DirectionRecipe`; x draws from `seed`,
/// y from `seed + 1`).
public struct RandomDirections: Equatable, Sendable, Codable {
    public var xNormalization: DirectionNormalization
    public var yNormalization: DirectionNormalization
    public var xIgnore: OneDimensionalTensors
    public var yIgnore: OneDimensionalTensors
    /// weights (trainable tensors) or states (also BN running statistics).
    public var type: TensorSet
    public var seed: UInt64
    /// Make the y direction orthogonal to the x direction.
    public var orthogonalize: Bool

    public init(xNormalization: DirectionNormalization = .filter, yNormalization: DirectionNormalization = .filter,
                xIgnore: OneDimensionalTensors = .leftOut, yIgnore: OneDimensionalTensors = .leftOut, type: TensorSet = .weights,
                seed: UInt64 = 123, orthogonalize: Bool = false) {
        self.xNormalization = xNormalization
        self.yNormalization = yNormalization
        self.xIgnore = xIgnore
        self.yIgnore = yIgnore
        self.type = type
        self.seed = seed
        self.orthogonalize = orthogonalize
    }

    public var recipe: DirectionRecipe {
        DirectionRecipe(seed: seed, type: type, normalizations: [xNormalization, yNormalization],
                        oneDimensional: [xIgnore, yIgnore], orthogonalize: orthogonalize)
    }

    /// What a surface file and its direction file record about `count` (1 or 2) such directions.
    func record(count: Int, in metadata: inout SurfaceMetadata) {
        metadata.seed = seed
        metadata.xnorm = xNormalization
        metadata.xignore = xIgnore
        if count > 1 {
            metadata.ynorm = yNormalization
            metadata.yignore = yIgnore
        }
        if orthogonalize { metadata.orthogonalize = true }
    }
}
