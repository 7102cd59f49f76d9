import TerrainTensor

/// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019), with the
/// semantics and defaults of `torch.optim.AdamW`: η = 10⁻³, (β₁, β₂) = (0.9, 0.999), ε = 10⁻⁸,
/// λ = 0.01.
///
/// It is Adam (Adam.swift, one kernel for both) with decoupled weight decay: before each Adam
/// step the parameter shrinks by the learning rate times λ,
///
///     p ← p − η·λ·p   (computed as p·(1 − η·λ), as PyTorch does)
///
/// and the gradient is not changed, so the decay does not pass through the moment estimates.
/// The decay follows the scheduled η. `decayScope: .weights` exempts biases and normalization
/// parameters from the decay (`WeightDecayScope`), as GPT-style training does.
extension Adam {
    public static func adamW(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
                             epsilon: Double = 1e-8, weightDecay: Double = 1e-2,
                             decayScope: WeightDecayScope = .all) -> Adam {
        Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
             weightDecay: weightDecay, decoupled: true, decayScope: decayScope)
    }
}
