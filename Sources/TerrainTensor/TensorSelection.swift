/// Which of a model's tensors a vector of its parameters covers, in the reference's words: its
/// `dir_type` (`weights`, `states`), the spelling of `--dir_type`, of `terrain.dir_type` and of
/// `terrain.direction_type` in Terrain's files.
///
/// A direction, a flat parameter vector or a trajectory of type `weights` covers the trainable
/// tensors only, so buffers (batch-norm running statistics) never move; `states` covers the whole
/// state dict.
public enum TensorSet: String, Sendable, Codable, CaseIterable {
    /// Trainable tensors only.
    case weights
    /// Trainable tensors and buffers: the whole state dict.
    case states

    /// Whether a tensor is covered, from whether it is trainable (not a buffer).
    public func includes(trainable: Bool) -> Bool { self == .states || trainable }
}

/// Whether tensors of at most one dimension (biases, batch-normalization scales and shifts) are
/// left out of a choice of parameters: the reference's `xignore=biasbn` for directions and
/// `--ignore biasbn` for trajectories, and its Hessian of the weight matrices alone.
///
/// Two external spellings, both kept as they are: the raw value is the directions' and
/// trajectories' (`biasbn`, `none`: `--xignore`, `--ignore`, `terrain.xignore`, `terrain.ignore`);
/// `hessianName` is the Hessian's (`all`, `matrices`: `--parameters`, the `terrain.parameters`
/// and `terrain.hessian.parameters` attributes).
public enum OneDimensionalTensors: String, Sendable, Codable, CaseIterable {
    /// Tensors of at most one dimension are left out (zero in a direction, absent from a Hessian).
    case leftOut = "biasbn"
    /// Every tensor is included.
    case included = "none"

    /// Whether a tensor with `dimensions` axes is included.
    public func includes(dimensions: Int) -> Bool { self == .included || dimensions >= 2 }

    /// The Hessian's spelling: `all` (every trainable tensor) or `matrices` (tensors with at least
    /// 2 dimensions).
    public var hessianName: String { self == .included ? "all" : "matrices" }

    /// The Hessian's spelling read back: `all`, `matrices`, or `matrices-only` (what files and
    /// `--parameters` said before the Hessian's spelling became `matrices` everywhere).
    public init?(hessianName: String) {
        switch hessianName {
        case "all": self = .included
        case "matrices", "matrices-only": self = .leftOut
        default: return nil
        }
    }

    /// The Hessian's spelling before it became `matrices` everywhere (`all`, `matrices-only`):
    /// still what request fingerprints hash, so that a map computed before the change resumes,
    /// and what `hessian-map` prints.
    public var legacyHessianName: String { self == .included ? "all" : "matrices-only" }
}
