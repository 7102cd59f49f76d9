import CHDF5

/// What a path in an HDF5 file leads to.
enum HDF5Object: Equatable {
    /// Nothing: no link of that name.
    case missing
    case group
    case dataset
    /// Something else: a committed datatype, or a link whose target cannot be opened.
    case other
    /// An earlier component of the path is not a group, so nothing can be below it.
    case blocked(by: String)
}

extension HDF5File {
    /// `path` as an absolute HDF5 path without empty components: `"a//b/"` → `"/a/b"`, `""` → `"/"`.
    /// Throws for NUL characters and for `"."` components (which HDF5 reads as "this group").
    func normalized(_ path: String) throws -> String {
        guard !path.utf8.contains(0) else { throw failure("the object path \(jsonQuoted(path)) contains a NUL character") }
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        guard !components.contains(".") else { throw failure("the object path \(jsonQuoted(path)) contains a \".\" component") }
        return "/" + components.joined(separator: "/")
    }

    /// A normalized path for messages: without the leading slash, or "/" for the root.
    func display(_ normalizedPath: String) -> String {
        normalizedPath == "/" ? "/" : String(normalizedPath.dropFirst())
    }

    /// What `path` (normalized) leads to, checking each component in turn, since HDF5 fails
    /// rather than answering "no" when an intermediate group is missing.
    func resolve(_ path: String, in file: hid_t) -> HDF5Object {
        if path == "/" { return .group }
        let components = path.split(separator: "/")
        var prefix = ""
        for (index, component) in components.enumerated() {
            prefix += "/" + component
            guard H5Lexists(file, prefix, shim_H5P_DEFAULT()) > 0 else {
                _ = HDF5Library.lastFailureReason()
                return .missing
            }
            let kind = objectKind(prefix, in: file)
            if index < components.count - 1, kind != .group { return .blocked(by: prefix) }
            if index == components.count - 1 { return kind }
        }
        return .missing
    }

    /// The kind of the object an existing link leads to.
    func objectKind(_ path: String, in location: hid_t) -> HDF5Object {
        let object = H5Oopen(location, path, shim_H5P_DEFAULT())
        guard object >= 0 else {
            _ = HDF5Library.lastFailureReason()
            return .other
        }
        defer { _ = H5Oclose(object) }
        switch H5Iget_type(object) {
        case H5I_GROUP: return .group
        case H5I_DATASET: return .dataset
        default: return .other
        }
    }

    /// Why `path` (normalized) cannot be used as a `wanted` ("dataset", "group", "object"),
    /// or nil when it can.
    func problem(with path: String, wanted: String, in file: hid_t) -> String? {
        let kind = resolve(path, in: file)
        let name = display(path)
        switch (kind, wanted) {
        case (.dataset, "dataset"), (.group, "group"), (.dataset, "object"), (.group, "object"), (.other, "object"):
            return nil
        case (.missing, _):
            return "there is no \(wanted) \(name)"
        case (.blocked(let prefix), _):
            return "there is no \(wanted) \(name): \(display(prefix)) is not a group"
        case (.group, _):
            return "\(name) is a group, not a \(wanted)"
        case (.dataset, _):
            return "\(name) is a dataset, not a \(wanted)"
        default:
            return "\(name) is neither a dataset nor a group, or its link is broken"
        }
    }

    /// Opens the dataset at `path` (normalized); the caller closes it with `H5Dclose`.
    func openDataset(_ path: String, in file: hid_t) throws -> hid_t {
        if let problem = problem(with: path, wanted: "dataset", in: file) { throw failure(problem) }
        let dataset = H5Dopen2(file, path, shim_H5P_DEFAULT())
        guard dataset >= 0 else { throw libraryFailure("cannot open dataset \(display(path))") }
        return dataset
    }

    /// Opens the dataset at `path` (normalized) with its datatype and dataspace, runs `body` on
    /// the three and closes them: what every reader of a dataset's values starts with.
    func withOpenDataset<T>(_ path: String, in file: hid_t,
                            _ body: (_ dataset: hid_t, _ type: hid_t, _ space: hid_t) throws -> T) throws -> T {
        let dataset = try openDataset(path, in: file)
        defer { _ = H5Dclose(dataset) }
        return try withTypeAndSpace(H5Dget_type(dataset), H5Dget_space(dataset), of: "dataset \(display(path))") {
            try body(dataset, $0, $1)
        }
    }

    /// Runs `body` on the datatype and dataspace just taken from a dataset or an attribute
    /// (negative where HDF5 failed), then closes each of the two that opened: throws "cannot
    /// read `what`" unless both did. Datasets and attributes are read behind the same pair.
    func withTypeAndSpace<T>(_ type: hid_t, _ space: hid_t, of what: @autoclosure () -> String,
                             _ body: (_ type: hid_t, _ space: hid_t) throws -> T) throws -> T {
        defer {
            if type >= 0 { _ = H5Tclose(type) }
            if space >= 0 { _ = H5Sclose(space) }
        }
        guard type >= 0, space >= 0 else { throw libraryFailure("cannot read \(what())") }
        return try body(type, space)
    }

    /// Opens the group at `path` (normalized); the caller closes it with `H5Gclose`.
    func openGroup(_ path: String, in file: hid_t) throws -> hid_t {
        if let problem = problem(with: path, wanted: "group", in: file) { throw failure(problem) }
        let group = H5Gopen2(file, path, shim_H5P_DEFAULT())
        guard group >= 0 else { throw libraryFailure("cannot open group \(display(path))") }
        return group
    }

    /// Opens the group or dataset at `path` (normalized); the caller closes it with `H5Oclose`.
    func openObject(_ path: String, in file: hid_t) throws -> hid_t {
        if let problem = problem(with: path, wanted: "object", in: file) { throw failure(problem) }
        let object = H5Oopen(file, path, shim_H5P_DEFAULT())
        guard object >= 0 else { throw libraryFailure("cannot open \(display(path))") }
        return object
    }

    /// Makes room for a new dataset at `path` (normalized): removes an existing dataset there,
    /// and refuses to replace a group.
    func removeDatasetForReplacement(_ path: String, in file: hid_t) throws {
        switch resolve(path, in: file) {
        case .missing:
            return
        case .group:
            throw failure("cannot write dataset \(display(path)): it is a group")
        case .blocked(let prefix):
            throw failure("cannot write dataset \(display(path)): \(display(prefix)) is not a group")
        case .dataset, .other:
            guard H5Ldelete(file, path, shim_H5P_DEFAULT()) >= 0 else {
                throw libraryFailure("cannot replace dataset \(display(path))")
            }
        }
    }

    /// A link-creation property list that creates missing intermediate groups; the caller
    /// closes it with `H5Pclose`.
    func makeLinkCreationList() throws -> hid_t {
        let list = H5Pcreate(shim_H5P_LINK_CREATE())
        guard list >= 0 else { throw libraryFailure("cannot create a property list") }
        guard H5Pset_create_intermediate_group(list, 1) >= 0 else {
            _ = H5Pclose(list)
            throw libraryFailure("cannot create a property list")
        }
        return list
    }

    /// Whether a group or dataset exists at `path`. False for a closed file or an invalid path.
    public func exists(_ path: String) -> Bool {
        if snapshot != nil {
            guard snapshotIsOpen, let path = try? normalized(path) else { return false }
            switch snapshot!.resolve(path) {
            case .group, .dataset: return true
            default: return false
            }
        }
        return (try? access { file in
            switch resolve(try normalized(path), in: file) {
            case .group, .dataset: return true
            default: return false
            }
        }) ?? false
    }
}
