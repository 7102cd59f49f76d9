import CHDF5

extension HDF5File {
    /// The names of the datasets directly inside `group`, in natural order
    /// (`"0", "1", …, "9", "10"`). Throws when `group` is not a group.
    public func datasetNames(in group: String = "/") throws -> [String] {
        try children(of: group, kind: .dataset)
    }

    /// The names of the groups directly inside `group`, in natural order.
    public func groupNames(in group: String = "/") throws -> [String] {
        try children(of: group, kind: .group)
    }

    private func children(of group: String, kind: HDF5Object) throws -> [String] {
        let path = try normalized(group)
        if let snapshot = try openSnapshot() {
            return try snapshotChildren(snapshot, of: path, kind: kind == .group ? .group : .dataset)
        }
        return try access { file in
            let group = try openGroup(path, in: file)
            defer { _ = H5Gclose(group) }
            var info = H5G_info_t()
            guard H5Gget_info(group, &info) >= 0 else { throw libraryFailure("cannot list group \(display(path))") }
            var names: [String] = []
            for index in 0..<info.nlinks {
                let length = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, shim_H5P_DEFAULT())
                guard length >= 0 else { throw libraryFailure("cannot list group \(display(path))") }
                var buffer = [CChar](repeating: 0, count: Int(length) + 1)
                guard H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, shim_H5P_DEFAULT()) >= 0 else {
                    throw libraryFailure("cannot list group \(display(path))")
                }
                let name = String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if objectKind(name, in: group) == kind { names.append(name) }
            }
            return names.sorted(by: naturallyPrecedes)
        }
    }
}
