import CHDF5
import TerrainTensor

/// The readers of a read-only file, answered from its snapshot (`HDF5Snapshot`) with the values
/// and the messages the library path gives for an open file.
extension HDF5File {
    /// The snapshot, when this file is read-only; throws once the file is closed.
    func openSnapshot() throws -> HDF5Snapshot? {
        guard let snapshot else { return nil }
        guard snapshotIsOpen else { throw failure("the file is closed") }
        return snapshot
    }

    private func failure(_ problem: String, _ reason: HDF5Snapshot.SnapshotReason) -> HDF5Error {
        snapshotFailure(problem, reason.text)
    }

    /// An error after a read the child saw fail, with the library's reason.
    private func snapshotFailure(_ problem: String, _ reason: String) -> HDF5Error {
        HDF5Error(source: path, problem: withReason(problem, reason.isEmpty ? nil : reason))
    }

    /// Why `path` cannot be used as a `wanted`, as `problem(with:wanted:in:)` says.
    private func snapshotProblem(_ snapshot: HDF5Snapshot, _ path: String, wanted: String) -> String? {
        let kind = snapshot.resolve(path)
        let name = display(path)
        switch (kind, wanted) {
        case (.dataset, "dataset"), (.group, "group"), (.dataset, "object"), (.group, "object"), (.other, "object"):
            return nil
        case (.missing, _): return "there is no \(wanted) \(name)"
        case (.blocked(let prefix), _): return "there is no \(wanted) \(name): \(display(prefix)) is not a group"
        case (.group, _): return "\(name) is a group, not a \(wanted)"
        case (.dataset, _): return "\(name) is a dataset, not a \(wanted)"
        default: return "\(name) is neither a dataset nor a group, or its link is broken"
        }
    }

    /// The dataset's value at `path` (normalized), or an error as `openDataset` and the type
    /// and shape checks give it.
    private func snapshotDataset(_ snapshot: HDF5Snapshot, _ path: String) throws -> HDF5Snapshot.Value {
        if let problem = snapshotProblem(snapshot, path, wanted: "dataset") { throw failure(problem) }
        switch snapshot.datasets[path] {
        case .success(let value)? where value.content.isDeferred:
            // Too large for the snapshot: read now, by a child of its own, and kept.
            let full = try HDF5FileCheck.value(of: path, in: self.path, snapshot: snapshot)
            self.snapshot?.datasets[path] = full
            return try full.mapError { failure("cannot read dataset \(display(path))", $0) }.get()
        case .success(let value)?: return value
        case .failure(let reason)?: throw snapshotFailure("cannot read dataset \(display(path))", reason.text)
        case nil: throw failure("cannot open dataset \(display(path))")
        }
    }

    /// The shape of the dataset at `path` (normalized) as the reading process recorded it: a
    /// dataset too large for the snapshot is not read for it.
    func snapshotShape(_ snapshot: HDF5Snapshot, _ path: String) throws -> [Int] {
        if let problem = snapshotProblem(snapshot, path, wanted: "dataset") { throw failure(problem) }
        switch snapshot.datasets[path] {
        case .success(let value)?:
            guard let shape = value.shape else {
                throw failure("dataset \(display(path)) has no readable shape (an empty or unsupported dataspace)")
            }
            return shape
        case .failure(let reason)?: throw snapshotFailure("cannot read dataset \(display(path))", reason.text)
        case nil: throw failure("cannot open dataset \(display(path))")
        }
    }

    func snapshotDoubles(_ snapshot: HDF5Snapshot, _ path: String) throws -> (shape: [Int], values: [Double]) {
        let value = try snapshotDataset(snapshot, path)
        let name = display(path)
        guard value.typeClass == H5T_FLOAT || value.typeClass == H5T_INTEGER else {
            throw failure("dataset \(name) holds \(describe(typeClass: value.typeClass)) values, not numbers")
        }
        guard let shape = value.shape else {
            throw failure("dataset \(name) has no readable shape (an empty or unsupported dataspace)")
        }
        guard let count = checkedElementCount(shape), count <= Int(readableByteLimit() / 8) else {
            throw failure("dataset \(name) has shape \(describe(shape: shape)), more values than fit in this machine's memory")
        }
        switch value.content {
        case .doubles(let values) where values.count == count: return (shape, values)
        case .notRead where count == 0: return (shape, [])
        case .failed(let reason): throw snapshotFailure("cannot read dataset \(name)", reason)
        default: throw failure("cannot read dataset \(name): more values than the reading process could hold")
        }
    }

    /// Throws unless `value` is one string, as `checkSingleString` and `readSingleString` do.
    private func snapshotSingleString(_ value: HDF5Snapshot.Value, what: String, readFailure: String) throws -> String {
        guard value.typeClass == H5T_STRING else {
            throw failure("\(what) holds \(describe(typeClass: value.typeClass)) values, not a string")
        }
        guard let shape = value.shape, checkedElementCount(shape) == 1 else {
            let shape = value.shape.map { describe(shape: $0) } ?? "no data"
            throw failure("\(what) holds strings of shape \(shape), not a single string")
        }
        if !value.isVariableString, value.typeSize <= 0 || value.typeSize > 1 << 30 {
            throw failure("\(what) is a fixed-length string of \(value.typeSize) bytes, which is not supported")
        }
        switch value.content {
        case .strings(let strings) where strings.count == 1: return strings[0]
        case .failed(let reason): throw snapshotFailure(readFailure, reason)
        default: throw failure(readFailure)
        }
    }

    func snapshotString(_ snapshot: HDF5Snapshot, _ path: String) throws -> String {
        let value = try snapshotDataset(snapshot, path)
        let name = display(path)
        return try snapshotSingleString(value, what: "dataset \(name)", readFailure: "cannot read dataset \(name)")
    }

    func snapshotStrings(_ snapshot: HDF5Snapshot, _ path: String) throws -> [String] {
        let value = try snapshotDataset(snapshot, path)
        let name = display(path)
        guard value.typeClass == H5T_STRING else {
            throw failure("dataset \(name) holds \(describe(typeClass: value.typeClass)) values, not strings")
        }
        guard value.isVariableString else {
            throw failure("dataset \(name) holds fixed-length strings; only variable-length string lists are supported")
        }
        guard let shape = value.shape, shape.count <= 1 else {
            let shape = value.shape.map { describe(shape: $0) } ?? "no data"
            throw failure("dataset \(name) holds strings of shape \(shape), not a list")
        }
        let count = shape.first ?? 1
        guard count <= Int(readableByteLimit() / 8) else {
            throw failure("dataset \(name) declares \(count) strings, more than fit in this machine's memory")
        }
        guard count > 0 else { return [] }
        switch value.content {
        case .strings(let strings) where strings.count == count: return strings
        case .failed(let reason): throw snapshotFailure("cannot read dataset \(name)", reason)
        default: throw failure("cannot read dataset \(name)")
        }
    }

    func snapshotAttribute(_ snapshot: HDF5Snapshot, _ name: String, on path: String) throws -> HDF5AttributeValue? {
        let what = "attribute \(jsonQuoted(name)) of \(display(path))"
        if let problem = snapshotProblem(snapshot, path, wanted: "object") { throw failure(problem) }
        guard let attribute = snapshot.attributes[path]?[name] else {
            // Not among the names listed: absent, unless the listing itself failed.
            if case .failure(let reason)? = snapshot.attributeNames[path] {
                throw snapshotFailure("cannot look up \(what)", reason.text)
            }
            return nil
        }
        switch attribute {
        case .absent: return nil
        case .lookupFailed(let reason): throw snapshotFailure("cannot look up \(what)", reason)
        case .openFailed(let reason): throw snapshotFailure("cannot open \(what)", reason)
        case .unreadable(let reason): throw snapshotFailure("cannot read \(what)", reason)
        case .value(let value):
            switch value.typeClass {
            case H5T_STRING:
                return .string(try snapshotSingleString(value, what: what, readFailure: "cannot read \(what)"))
            case H5T_FLOAT, H5T_INTEGER:
                if value.isNull { return .doubles([]) }
                guard let shape = value.shape else { throw failure("\(what) has no readable shape") }
                guard let count = checkedElementCount(shape), count <= Int(readableByteLimit() / 8) else {
                    throw failure("\(what) has shape \(describe(shape: shape)), more values than fit in this machine's memory")
                }
                switch value.content {
                case .integer(let v) where shape.isEmpty: return .int(Int(v))
                case .doubles(let values) where values.count == count: return shape.isEmpty ? .double(values[0]) : .doubles(values)
                case .notRead where count == 0: return .doubles([])
                case .failed(let reason): throw snapshotFailure("cannot read \(what)", reason)
                default: throw failure("cannot read \(what)")
                }
            default:
                throw failure("\(what) holds \(describe(typeClass: value.typeClass)) values; only strings, floating-point numbers and integers are supported")
            }
        }
    }

    func snapshotAttributeNames(_ snapshot: HDF5Snapshot, on path: String) throws -> [String] {
        if let problem = snapshotProblem(snapshot, path, wanted: "object") { throw failure(problem) }
        switch snapshot.attributeNames[path] {
        case .success(let names)?: return names.sorted(by: naturallyPrecedes)
        case .failure(let reason)?: throw snapshotFailure("cannot list the attributes of \(display(path))", reason.text)
        case nil: throw failure("cannot open \(display(path))")
        }
    }

    func snapshotChildren(_ snapshot: HDF5Snapshot, of group: String, kind: HDF5Snapshot.Kind) throws -> [String] {
        if let problem = snapshotProblem(snapshot, group, wanted: "group") { throw failure(problem) }
        if let reason = snapshot.listingFailures[group] { throw snapshotFailure("cannot list group \(display(group))", reason) }
        return snapshot.children(of: group, kind: kind).sorted(by: naturallyPrecedes)
    }
}

extension HDF5Snapshot.Content {
    var isDeferred: Bool {
        if case .deferred = self { return true }
        return false
    }
}
