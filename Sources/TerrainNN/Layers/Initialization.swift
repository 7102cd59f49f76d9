import TerrainTensor

/// Weight initializers, drawn from a seeded generator so that a model seed fixes every value.
public enum Initializer: Sendable {
    /// U(−1/√fanIn, 1/√fanIn): PyTorch's default for `Linear` and `Conv2d` weights and biases
    /// (Kaiming-uniform with a = √5).
    case pytorchDefault
    /// N(0, 2/fanOut): Kaiming-normal for ReLU networks, fan-out mode (torchvision's ResNets).
    case kaimingNormalFanOut

    func sample<T: TensorScalar>(shape: [Int], fanIn: Int, fanOut: Int, generator: inout SeededGenerator) -> Tensor<T> {
        switch self {
        case .pytorchDefault:
            let bound = T(1 / Double(max(fanIn, 1)).squareRoot())
            return .randomUniform(shape: shape, low: -bound, high: bound, generator: &generator)
        case .kaimingNormalFanOut:
            return .randomNormal(shape: shape, std: T((2 / Double(max(fanOut, 1))).squareRoot()), generator: &generator)
        }
    }
}
