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

    /// A layer's weight of `shape` drawn by this initializer, then, when `bias`, its bias of
    /// shape[0] values drawn from PyTorch's default U(−1/√fanIn, 1/√fanIn) whichever initializer
    /// drew the weight (PyTorch resets biases so): how `Linear` and `Conv2d` make their
    /// parameters, in this order from one generator.
    func weightAndBias<T: TensorScalar>(shape: [Int], fanIn: Int, fanOut: Int, bias: Bool,
                                        generator: inout SeededGenerator) -> (weight: Parameter<T>, bias: Parameter<T>?) {
        let weight = Parameter<T>("weight", role: .weight,
                                  value: sample(shape: shape, fanIn: fanIn, fanOut: fanOut, generator: &generator))
        guard bias else { return (weight, nil) }
        return (weight, Parameter<T>("bias", role: .bias,
                                     value: Initializer.pytorchDefault.sample(shape: [shape[0]], fanIn: fanIn, fanOut: fanOut,
                                                                              generator: &generator)))
    }
}
