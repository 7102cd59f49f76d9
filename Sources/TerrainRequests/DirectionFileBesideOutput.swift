/// A request that writes its directions beside its surface file, named after it
/// (`P.h5` → `P.directions.h5`): `PlaneRequest` (B − A and C − A), `InterpolationRequest`
/// (B − A), `TrajectoryRequest` (the principal components) and `EvolveRequest` (the fixed
/// plane's components; none is written when riding).
public protocol DirectionFileBesideOutput {
    /// The surface file written (HDF5).
    var output: String { get }
}

extension DirectionFileBesideOutput {
    /// The direction file written beside the output.
    public var directionOutput: String { LandscapeJob.directionPath(for: output) }
}
