import TerrainTensor
import TerrainLandscape
import TerrainObjectives

/// What a surface file and its direction file both say about where the directions come from:
/// the model (or models) they are taken around or between, the grid's spacing, the named axes
/// and how random or PCA directions were drawn. `SurfaceMetadata` and `DirectionMetadata` each
/// hold one; its attributes are written flat beside theirs (`FileAttributes` has no nesting), so
/// the names are the ones Terrain has always written.
public struct DirectionOrigin: Codable, Equatable, Sendable {
    // The model.
    /// The checkpoint at the centre (`terrain surface --checkpoint`); `hessian-map` reads it back.
    public var checkpoint: String?
    /// The ONNX model at the centre.
    public var onnx: String?
    /// `interpolate`: the checkpoints at α = 0 and α = 1.
    public var from: String?
    public var to: String?
    /// `plane`: the three checkpoints (A the origin, B at α = 1, C at β = 1).
    public var a: String?
    public var b: String?
    public var c: String?
    /// `trajectory`, `evolve`: the run folder.
    public var run: String?

    // The grid and the directions.
    public var spacing: Axis.Spacing?
    /// Named-parameter axes (`--x-axis`, `--y-axis`), joined by a comma.
    public var axes: String?
    /// Random directions: the seed, and per axis its normalization and ignore rule.
    public var seed: UInt64?
    public var xnorm: DirectionNormalization?
    public var xignore: OneDimensionalTensors?
    public var ynorm: DirectionNormalization?
    public var yignore: OneDimensionalTensors?
    /// Present (as "1") when the y direction was made orthogonal to the x direction.
    public var orthogonalize: Bool?
    /// PCA planes: whether biases and BN parameters were left out of the PCA.
    public var ignore: OneDimensionalTensors?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case checkpoint = "terrain.checkpoint", onnx = "terrain.onnx", from = "terrain.from", to = "terrain.to"
        case a = "terrain.a", b = "terrain.b", c = "terrain.c", run = "terrain.run"
        case spacing = "terrain.spacing", axes = "terrain.axes", seed = "terrain.seed"
        case xnorm = "terrain.xnorm", xignore = "terrain.xignore", ynorm = "terrain.ynorm", yignore = "terrain.yignore"
        case orthogonalize = "terrain.orthogonalize", ignore = "terrain.ignore"
    }

    /// Records `source` under its attribute (nothing for an objective given in Swift).
    mutating func name(_ source: ModelSource) {
        switch source {
        case .checkpoint(let path), .stateDict(let path, _): checkpoint = path
        case .onnx(let path): onnx = path
        case .objective: break
        }
    }
}

/// Metadata holding a `DirectionOrigin` (a surface's, a direction file's): the origin's fields
/// read and write as the metadata's own (`metadata.seed`).
@dynamicMemberLookup
public protocol OriginRecording {
    var origin: DirectionOrigin { get set }
}

extension OriginRecording {
    public subscript<Value>(dynamicMember field: WritableKeyPath<DirectionOrigin, Value>) -> Value {
        get { origin[keyPath: field] }
        set { origin[keyPath: field] = newValue }
    }

    /// Records `source` under its attribute (nothing for an objective given in Swift).
    mutating func name(_ source: ModelSource) { origin.name(source) }
}

/// What a surface file says about its request, beside its grid and values: the attributes
/// `terrain surface`, `plane`, `interpolate`, `trajectory` and `evolve` write (each sets the ones
/// that belong to it; the others stay nil and are not written). `SurfaceRunner` adds the
/// request's fingerprint (`terrain.request`), `terrain.seconds` and `terrain.resumed_points`;
/// adaptive surfaces their `terrain.adaptive.*`. The origin's fields read and write as the
/// metadata's own (`metadata.seed`).
public struct SurfaceMetadata: OriginRecording, Codable, Equatable, Sendable {
    /// The models and how the directions were made, as the direction file records them too.
    public var origin = DirectionOrigin()
    /// `pca-trajectory` or `evolve`.
    public var kind: String?
    /// `evolve`: which checkpoints are frames.
    public var frameSelection: FrameSelection?

    // The request.
    /// The data each point is evaluated on (as `ModelSource.load` describes them).
    public var data: String?
    /// "bf16" for a run whose products were bf16 (`EvaluationData.precision`); absent: fp32.
    public var precision: EvaluationPrecision?
    public var version: String?
    public var directionType: TensorSet?
    /// The digest of the directions (`DirectionFile.digest`), checked by `hessian-map`.
    public var directionsDigest: String?

    // Numbers.
    /// The cosine between the x and y directions (1 for a 1D surface).
    public var directionCosine: Double?
    /// `interpolate`: ‖θB − θA‖.
    public var distance: Double?
    /// PCA planes: the share of the variance along each component.
    public var pc1Explained: Double?
    public var pc2Explained: Double?
    /// `evolve`: the number of frames.
    public var frames: Double?
    /// `connect`: the curve (`ConnectingCurve`: bezier, polychain) and how batch norm's running
    /// statistics were had at each point.
    public var curve: String?
    public var batchNorm: String?

    public init(origin: DirectionOrigin = DirectionOrigin()) { self.origin = origin }

    enum CodingKeys: String, CodingKey {
        /// Not an attribute: the origin's own names are written flat.
        case origin = "terrain.origin"
        case kind = "terrain.kind", frameSelection = "terrain.frame_selection"
        case data = "terrain.data", precision = "terrain.precision", version = "terrain.version", directionType = "terrain.dir_type"
        case directionsDigest = "terrain.directions_digest"
        case directionCosine = "terrain.direction_cosine", distance = "terrain.distance"
        case pc1Explained = "terrain.pc1_explained", pc2Explained = "terrain.pc2_explained", frames = "terrain.frames"
        case curve = "terrain.curve", batchNorm = "terrain.batch_norm"
    }

    /// The metadata of a surface file read back (attributes it does not name are ignored).
    public init(of file: SurfaceFile) throws {
        self = try FileAttributes(text: file.textAttributes, numbers: file.numberAttributes).decode(SurfaceMetadata.self)
    }

    /// The model the file names (`terrain.onnx` or `terrain.checkpoint`), if any.
    public var model: ModelSource? {
        if let onnx = origin.onnx { return .onnx(onnx) }
        return origin.checkpoint.map { .checkpoint($0) }
    }
}

/// What a direction file says about how its directions were made, beside the directions
/// (`DirectionFile.write` adds `terrain.direction_type` and `terrain.directions_digest`). The
/// origin's fields read and write as the metadata's own.
public struct DirectionMetadata: OriginRecording, Codable, Equatable, Sendable {
    /// The models and how the directions were made, as the surface records them too.
    public var origin = DirectionOrigin()
    /// `hessian --eigenvectors`: the data, the eigenvalues (comma-separated) and the parameters.
    public var data: String?
    public var hessianEigenvalues: String?
    public var parameters: HessianTensors?
    public var version: String?

    public init(origin: DirectionOrigin = DirectionOrigin()) { self.origin = origin }

    enum CodingKeys: String, CodingKey {
        /// Not an attribute: the origin's own names are written flat.
        case origin = "terrain.origin"
        case data = "terrain.data", hessianEigenvalues = "terrain.hessian_eigenvalues", parameters = "terrain.parameters"
        case version = "terrain.version"
    }

    /// The attributes as text (a direction file holds only text attributes of its own).
    var attributes: [String: String] {
        get throws { try FileAttributes(encoding: self).text }
    }
}
