/// The two ways to watch a landscape change through training (`terrain evolve --mode`).
public enum EvolutionMode: String, Sendable, CaseIterable, Codable {
    /// A surface around each checkpoint: the same random directions, drawn once, normalized to
    /// each checkpoint's weights, so the view rides along with the minimizer.
    case riding
    /// One plane for the whole run (its top two principal components through the final
    /// weights): the landscape stays put and the minimizer moves across it.
    case fixedPCA = "fixed-pca"
}
