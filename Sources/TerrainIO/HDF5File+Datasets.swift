import CHDF5
import TerrainTensor

extension HDF5File {
    /// Writes `values` (row-major) as a float64 dataset of `shape` at `path`, creating missing
    /// groups on the way. `shape` `[]` writes a scalar.
    ///
    /// An existing float64 dataset of the same shape is overwritten in place (keeping its
    /// attributes); any other dataset there is replaced. A group there is not replaced.
    public func write(_ values: [Double], shape: [Int], to path: String) throws {
        try writeDataset(values, shape: shape, to: path, memoryType: shim_H5T_NATIVE_DOUBLE())
    }

    /// Writes `values` (row-major) as a float32 dataset of `shape` at `path`; see the `Double`
    /// version. (Disfavored so that an array literal of integers, `write([1, 2], …)`, means
    /// `Double`s rather than being ambiguous.)
    @_disfavoredOverload
    public func write(_ values: [Float], shape: [Int], to path: String) throws {
        try writeDataset(values, shape: shape, to: path, memoryType: shim_H5T_NATIVE_FLOAT())
    }

    /// Reads the numeric dataset at `path`, converted to `Double`, with its shape (`[]` for a
    /// scalar). Any floating-point or integer type is accepted.
    public func readDoubles(_ path: String) throws -> (shape: [Int], values: [Double]) {
        let path = try normalized(path)
        if let snapshot = try openSnapshot() { return try snapshotDoubles(snapshot, path) }
        return try access { file in
            let dataset = try openDataset(path, in: file)
            defer { _ = H5Dclose(dataset) }
            let (shape, count) = try numericLayout(of: dataset, path: path)
            let memoryType = shim_H5T_NATIVE_DOUBLE()
            var failed = false
            let values = [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
                if count > 0 {
                    failed = H5Dread(dataset, memoryType, shim_H5S_ALL(), shim_H5S_ALL(), shim_H5P_DEFAULT(), buffer.baseAddress) < 0
                }
                if failed { buffer.initialize(repeating: 0) }
                initialized = count
            }
            guard !failed else { throw libraryFailure("cannot read dataset \(display(path))") }
            return (shape, values)
        }
    }

    /// Overwrites a block of the existing numeric dataset at `path` in place (an HDF5
    /// hyperslab): the block starts at `offset` and has `shape`, one entry per dimension of the
    /// dataset (1-D and 2-D datasets, or any other rank >= 1), and `values` are row-major.
    ///
    /// For a surface `train_loss` of shape `[ny, nx]`, `writeBlock([z], shape: [1, 1],
    /// offset: [j, i], in: "train_loss")` stores the point `(x[i], y[j])`. The values are
    /// converted to the dataset's type.
    public func writeBlock(_ values: [Double], shape: [Int], offset: [Int], in path: String) throws {
        let path = try normalized(path)
        try modify("write to dataset \(display(path))") { file in
            let dataset = try openDataset(path, in: file)
            defer { _ = H5Dclose(dataset) }
            let (dimensions, _) = try numericLayout(of: dataset, path: path)
            let name = display(path)
            guard !dimensions.isEmpty else {
                throw failure("cannot write a block of dataset \(name): it is a scalar")
            }
            guard shape.count == dimensions.count, offset.count == dimensions.count else {
                throw failure("cannot write a block of dataset \(name) of shape \(describe(shape: dimensions)): the block needs \(dimensions.count) sizes and offsets, got shape \(describe(shape: shape)) at offset \(describe(shape: offset))")
            }
            for axis in dimensions.indices {
                let (end, overflow) = offset[axis].addingReportingOverflow(shape[axis])
                guard offset[axis] >= 0, shape[axis] >= 0, !overflow, end <= dimensions[axis] else {
                    throw failure("cannot write a block of shape \(describe(shape: shape)) at offset \(describe(shape: offset)) into dataset \(name) of shape \(describe(shape: dimensions)): it does not fit in dimension \(axis)")
                }
            }
            let count = checkedElementCount(shape) ?? 0
            guard values.count == count else {
                throw failure("cannot write a block to dataset \(name): block shape \(describe(shape: shape)) holds \(countOfValues(count)), but \(values.count) were given")
            }
            guard count > 0 else { return }

            let fileSpace = H5Dget_space(dataset)
            guard fileSpace >= 0 else { throw libraryFailure("cannot write a block to dataset \(name)") }
            defer { _ = H5Sclose(fileSpace) }
            let start = offset.map { hsize_t($0) }, size = shape.map { hsize_t($0) }
            guard H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, size, nil) >= 0 else {
                throw libraryFailure("cannot select the block of dataset \(name)")
            }
            let memorySpace = makeDataspace(shape: shape)
            guard memorySpace >= 0 else { throw libraryFailure("cannot write a block to dataset \(name)") }
            defer { _ = H5Sclose(memorySpace) }
            let status = values.withUnsafeBytes { bytes in
                H5Dwrite(dataset, shim_H5T_NATIVE_DOUBLE(), memorySpace, fileSpace, shim_H5P_DEFAULT(), bytes.baseAddress)
            }
            guard status >= 0 else { throw libraryFailure("cannot write a block to dataset \(name)") }
        }
    }

    // MARK: - Helpers

    /// Writes a dataset of `T`, stored as `memoryType` (a native type of `T`'s size).
    private func writeDataset<T>(_ values: [T], shape: [Int], to path: String, memoryType: hid_t) throws {
        let path = try normalized(path)
        let name = display(path)
        guard path != "/" else { throw failure("cannot write a dataset at the root group \"/\"") }
        try modify("write dataset \(name)") { file in
            guard shape.count <= 32, !shape.contains(where: { $0 < 0 }), let count = checkedElementCount(shape) else {
                throw failure("cannot write dataset \(name): shape \(describe(shape: shape)) is not a valid HDF5 shape (at most 32 non-negative dimensions)")
            }
            guard values.count == count else {
                throw failure("cannot write dataset \(name): shape \(describe(shape: shape)) holds \(countOfValues(count)), but \(values.count) were given")
            }

            var dataset = try existingDataset(path, shape: shape, elementSize: MemoryLayout<T>.size, in: file)
            if dataset < 0 {
                try removeDatasetForReplacement(path, in: file)
                let space = makeDataspace(shape: shape)
                guard space >= 0 else { throw libraryFailure("cannot write dataset \(name)") }
                defer { _ = H5Sclose(space) }
                let links = try makeLinkCreationList()
                defer { _ = H5Pclose(links) }
                dataset = H5Dcreate2(file, path, memoryType, space, links, shim_H5P_DEFAULT(), shim_H5P_DEFAULT())
                guard dataset >= 0 else { throw libraryFailure("cannot create dataset \(name)") }
            }
            defer { _ = H5Dclose(dataset) }
            guard count > 0 else { return }
            let status = values.withUnsafeBytes { bytes in
                H5Dwrite(dataset, memoryType, shim_H5S_ALL(), shim_H5S_ALL(), shim_H5P_DEFAULT(), bytes.baseAddress)
            }
            guard status >= 0 else { throw libraryFailure("cannot write dataset \(name)") }
        }
    }

    /// The open dataset at `path` when it is floating-point with `elementSize`-byte elements and
    /// exactly `shape`, so it can be overwritten in place; otherwise -1.
    private func existingDataset(_ path: String, shape: [Int], elementSize: Int, in file: hid_t) throws -> hid_t {
        guard resolve(path, in: file) == .dataset else { return -1 }
        let dataset = H5Dopen2(file, path, shim_H5P_DEFAULT())
        guard dataset >= 0 else {
            _ = HDF5Library.lastFailureReason()
            return -1
        }
        let type = H5Dget_type(dataset), space = H5Dget_space(dataset)
        defer {
            if type >= 0 { _ = H5Tclose(type) }
            if space >= 0 { _ = H5Sclose(space) }
        }
        if type >= 0, space >= 0, H5Tget_class(type) == H5T_FLOAT, H5Tget_size(type) == elementSize,
           dimensions(ofSpace: space) == shape {
            return dataset
        }
        _ = H5Dclose(dataset)
        return -1
    }

    /// The shape and element count of a numeric dataset, checked to be readable into memory.
    func numericLayout(of dataset: hid_t, path: String) throws -> (shape: [Int], count: Int) {
        let name = display(path)
        let type = H5Dget_type(dataset)
        guard type >= 0 else { throw libraryFailure("cannot read the type of dataset \(name)") }
        defer { _ = H5Tclose(type) }
        let typeClass = H5Tget_class(type)
        guard typeClass == H5T_FLOAT || typeClass == H5T_INTEGER else {
            throw failure("dataset \(name) holds \(describe(typeClass: typeClass)) values, not numbers")
        }
        let space = H5Dget_space(dataset)
        guard space >= 0 else { throw libraryFailure("cannot read the shape of dataset \(name)") }
        defer { _ = H5Sclose(space) }
        guard let shape = dimensions(ofSpace: space) else {
            throw failure("dataset \(name) has no readable shape (an empty or unsupported dataspace)")
        }
        guard let count = checkedElementCount(shape), count <= Int(readableByteLimit() / 8) else {
            throw failure("dataset \(name) has shape \(describe(shape: shape)), more values than fit in this machine's memory")
        }
        return (shape, count)
    }
}

/// "1 value", "15 values".
private func countOfValues(_ count: Int) -> String {
    count == 1 ? "1 value" : "\(count) values"
}
