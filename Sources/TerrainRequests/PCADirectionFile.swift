import TerrainTensor
import TerrainIO
import TerrainLandscape

/// The direction file of a PCA plane (`trajectory`, `evolve --mode fixed-pca`): the two
/// components as the reference's direction file, then the PCA's numbers as sklearn names them
/// (`explained_variance_ratio_`, `singular_values_`, `explained_variance_`).
enum PCADirectionFile {
    /// `counters`: the batch-norm counters of the final checkpoint; they are no parameters, do
    /// not enter the PCA, and their entries (present so that the reference's `set_states`
    /// accepts the file) are 0.
    static func write(_ pca: TrajectoryPCA, groups: [ParameterGroup], type: TensorSet, counters: [String: Double],
                      run: String, ignore: OneDimensionalTensors, to path: String) throws {
        var metadata = DirectionMetadata()
        metadata.run = run
        metadata.ignore = ignore
        try DirectionFile.write(pca.axes, groups: groups, type: type, counters: counters.mapValues { _ in [0.0, 0.0] },
                                attributes: try metadata.attributes, to: path)
        let file = try HDF5File(path: path, mode: .readWrite)
        try file.write(pca.explainedVarianceRatio, shape: [2], to: "explained_variance_ratio_")
        try file.write(pca.singularValues, shape: [2], to: "singular_values_")
        try file.write(pca.explainedVariance, shape: [2], to: "explained_variance_")
        file.close()
    }
}
