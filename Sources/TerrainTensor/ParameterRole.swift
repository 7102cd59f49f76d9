/// What a parameter is for. The landscape code uses roles to slice filters (weights), to skip
/// biases and batch-normalization parameters, and to tell trainable values from buffers.
public enum ParameterRole: String, Sendable, Codable, CaseIterable {
    /// A linear or convolution weight: dim 0 indexes output filters (rows).
    case weight
    /// A linear weight stored transposed, [in, out]: dim 1 indexes output filters (columns). An
    /// ONNX file holds a PyTorch `nn.Linear` this way when the exporter writes it as `MatMul(x, Wᵀ)`
    /// and folds the transpose into the initializer; its filters are then those of PyTorch's
    /// [out, in] weight, one per output unit.
    case transposedWeight
    case bias
    /// Batch normalization's scale γ.
    case normWeight
    /// Batch normalization's shift β.
    case normBias
    /// Running statistics, updated in training mode but never by gradients.
    case runningMean
    case runningVariance

    /// Whether gradients and optimizers touch this parameter.
    public var isTrainable: Bool {
        switch self {
        case .weight, .transposedWeight, .bias, .normWeight, .normBias: true
        case .runningMean, .runningVariance: false
        }
    }

    /// Whether this is a weight (a matrix, a kernel, an embedding table), stored either way.
    public var isWeight: Bool { self == .weight || self == .transposedWeight }

    /// The dimension whose index numbers the filters (output units) of a tensor of this role:
    /// 1 for a transposed weight, 0 for every other role (the reference's rule for any tensor).
    public var filterDimension: Int { self == .transposedWeight ? 1 : 0 }
}
