import CHDF5

extension HDF5File {
    /// The shape of the dataset at `path` (`[]` for a scalar), read from its dataspace alone:
    /// no value is read. Callers that must bound their work (the server, before it loads a
    /// surface) ask this first, so that a file declaring a huge grid costs nothing to refuse.
    /// Throws when `path` is not a dataset or has no simple shape (a null dataspace).
    public func datasetShape(_ path: String) throws -> [Int] {
        let path = try normalized(path)
        // A read-only file answers from its snapshot (the library never parses it here).
        if let snapshot = try openSnapshot() { return try snapshotShape(snapshot, path) }
        return try access { file in
            let dataset = try openDataset(path, in: file)
            defer { _ = H5Dclose(dataset) }
            let space = H5Dget_space(dataset)
            guard space >= 0 else { throw libraryFailure("cannot read the shape of dataset \(display(path))") }
            defer { _ = H5Sclose(space) }
            guard let shape = dimensions(ofSpace: space) else {
                throw failure("dataset \(display(path)) has no readable shape (an empty or unsupported dataspace)")
            }
            return shape
        }
    }
}
