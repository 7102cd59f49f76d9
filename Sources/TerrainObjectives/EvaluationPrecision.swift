import TerrainCompiled

/// The arithmetic of a model's loss on the compiled path, as requests and the program ask for it
/// (`--precision`): the same choice as `TerrainCompiled`'s `InferencePrecision`, whose comment
/// gives the rounding, named here because the targets above this one do not import
/// `TerrainCompiled`.
public enum EvaluationPrecision: String, Sendable, Codable, CaseIterable {
    /// Float products and sums (the default).
    case fp32
    /// bfloat16 products summed in Float, where the CPU has bf16 instructions.
    case bf16

    /// The compiled programs' name for it.
    var inference: InferencePrecision {
        switch self {
        case .fp32: .fp32
        case .bf16: .bf16
        }
    }
}
