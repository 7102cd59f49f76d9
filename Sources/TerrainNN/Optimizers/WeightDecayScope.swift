import TerrainTensor

/// Which parameters an optimizer's weight decay applies to, chosen by parameter role.
///
/// `.all` is PyTorch's behaviour with one parameter group: every trainable parameter decays.
/// `.weights` is the usual transformer recipe (GPT-2, nanoGPT, minGPT, ViT): only matrices,
/// convolution kernels and embedding tables (role `.weight`, every parameter with dim ≥ 2 in
/// the zoo, or `.transposedWeight`, an ONNX file's [in, out] copy of one) decay; biases and normalization scales and shifts (`.bias`, `.normWeight`,
/// `.normBias`, the same parameters `--xignore biasbn` skips) do not. In PyTorch it is two
/// parameter groups:
///
///     torch.optim.AdamW([{"params": weights, "weight_decay": λ},
///                        {"params": biases_and_norms, "weight_decay": 0.0}], ...)
public enum WeightDecayScope: String, Sendable, Codable, CaseIterable {
    case all
    case weights

    /// Whether a parameter of this role decays.
    public func decays(_ role: ParameterRole) -> Bool {
        switch self {
        case .all: true
        case .weights: role.isWeight
        }
    }

    /// The weight decay of a parameter of `role` under this scope: λ or 0.
    public func weightDecay(_ lambda: Double, for role: ParameterRole) -> Double {
        decays(role) ? lambda : 0
    }
}
