/// What a parameter is for. The landscape code uses roles to slice filters (weights), to skip
/// biases and batch-normalization parameters, and to tell trainable values from buffers.
public enum ParameterRole: String, Sendable, Codable, CaseIterable {
    /// A linear or convolution weight: dim 0 indexes output filters (rows).
    case weight
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
        case .weight, .bias, .normWeight, .normBias: true
        case .runningMean, .runningVariance: false
        }
    }
}
