import CHDF5
import TerrainTensor

extension HDF5File {
    /// Sets the string attribute `name` on the group or dataset at `path` (the root by
    /// default), stored as a variable-length UTF-8 string (h5py reads it as `str`). Replaces an
    /// attribute of that name, whatever its type.
    public func setAttribute(_ name: String, _ value: String, on path: String = "/") throws {
        guard !value.utf8.contains(0) else {
            throw failure("cannot set attribute \(jsonQuoted(name)): the text contains a NUL character, which HDF5 strings cannot hold")
        }
        try replaceAttribute(name, on: path) { object in
            let type = try makeVariableStringType(characterSet: H5T_CSET_UTF8, padding: H5T_STR_NULLTERM)
            defer { _ = H5Tclose(type) }
            return try createAttribute(name, on: object, type: type, shape: []) { attribute in
                withVariableString(value) { H5Awrite(attribute, type, $0) }
            }
        }
    }

    /// Sets the float64 scalar attribute `name` on the object at `path`.
    public func setAttribute(_ name: String, _ value: Double, on path: String = "/") throws {
        try setNumericAttribute(name, [value], shape: [], type: shim_H5T_NATIVE_DOUBLE(), on: path)
    }

    /// Sets the int64 scalar attribute `name` on the object at `path`.
    public func setAttribute(_ name: String, _ value: Int, on path: String = "/") throws {
        try setNumericAttribute(name, [Int64(value)], shape: [], type: shim_H5T_NATIVE_INT64(), on: path)
    }

    /// Sets the 1-D float64 array attribute `name` on the object at `path`.
    public func setAttribute(_ name: String, _ value: [Double], on path: String = "/") throws {
        try setNumericAttribute(name, value, shape: [value.count], type: shim_H5T_NATIVE_DOUBLE(), on: path)
    }

    /// The attribute `name` on the object at `path`, or nil when the object has no such
    /// attribute. Throws when the object is missing or the attribute's type is not a string,
    /// floating-point or integer type.
    public func attribute(_ name: String, on path: String = "/") throws -> HDF5AttributeValue? {
        let path = try normalized(path)
        try checkAttributeName(name)
        if let snapshot = try openSnapshot() { return try snapshotAttribute(snapshot, name, on: path) }
        let what = "attribute \(jsonQuoted(name)) of \(display(path))"
        return try access { file in
            let object = try openObject(path, in: file)
            defer { _ = H5Oclose(object) }
            let present = H5Aexists(object, name)
            guard present >= 0 else { throw libraryFailure("cannot look up \(what)") }
            guard present > 0 else { return nil }
            let attribute = H5Aopen(object, name, shim_H5P_DEFAULT())
            guard attribute >= 0 else { throw libraryFailure("cannot open \(what)") }
            defer { _ = H5Aclose(attribute) }
            return try withTypeAndSpace(H5Aget_type(attribute), H5Aget_space(attribute), of: what) {
                (type, space) throws -> HDF5AttributeValue in
                let typeClass = H5Tget_class(type)
                switch typeClass {
                case H5T_STRING:
                    try checkSingleString(type: type, space: space, what: what)
                    guard let value = try readSingleString(type: type, what: what, read: { H5Aread(attribute, $0, $1) }) else {
                        throw libraryFailure("cannot read \(what)")
                    }
                    return .string(value)
                case H5T_FLOAT, H5T_INTEGER:
                    let shape: [Int]
                    if H5Sget_simple_extent_type(space) == H5S_NULL {
                        return .doubles([])
                    } else if let dimensions = dimensions(ofSpace: space) {
                        shape = dimensions
                    } else {
                        throw failure("\(what) has no readable shape")
                    }
                    guard let count = checkedElementCount(shape), count <= Int(readableByteLimit() / 8) else {
                        throw failure("\(what) has shape \(describe(shape: shape)), more values than fit in this machine's memory")
                    }
                    if shape.isEmpty, typeClass == H5T_INTEGER {
                        var value: Int64 = 0
                        guard H5Aread(attribute, shim_H5T_NATIVE_INT64(), &value) >= 0 else { throw libraryFailure("cannot read \(what)") }
                        return .int(Int(value))
                    }
                    var values = [Double](repeating: 0, count: count)
                    if count > 0 {
                        let status = values.withUnsafeMutableBytes { H5Aread(attribute, shim_H5T_NATIVE_DOUBLE(), $0.baseAddress) }
                        guard status >= 0 else { throw libraryFailure("cannot read \(what)") }
                    }
                    return shape.isEmpty ? .double(values[0]) : .doubles(values)
                default:
                    throw failure("\(what) holds \(describe(typeClass: typeClass)) values; only strings, floating-point numbers and integers are supported")
                }
            }
        }
    }

    /// The names of the attributes on the object at `path`, in natural order.
    public func attributeNames(on path: String = "/") throws -> [String] {
        let path = try normalized(path)
        if let snapshot = try openSnapshot() { return try snapshotAttributeNames(snapshot, on: path) }
        return try access { file in
            let object = try openObject(path, in: file)
            defer { _ = H5Oclose(object) }
            var names: [String] = []
            var position: hsize_t = 0
            let status = withUnsafeMutablePointer(to: &names) { names in
                H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &position, { _, name, _, data in
                    guard let name, let data else { return -1 }
                    data.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
                    return 0
                }, names)
            }
            guard status >= 0 else { throw libraryFailure("cannot list the attributes of \(display(path))") }
            return names.sorted(by: naturallyPrecedes)
        }
    }

    // MARK: - Helpers

    private func checkAttributeName(_ name: String) throws {
        guard !name.isEmpty, !name.utf8.contains(0) else {
            throw failure("the attribute name \(jsonQuoted(name)) is empty or contains a NUL character")
        }
    }

    private func setNumericAttribute<T>(_ name: String, _ values: [T], shape: [Int], type: hid_t, on path: String) throws {
        try replaceAttribute(name, on: path) { object in
            try createAttribute(name, on: object, type: type, shape: shape) { attribute in
                values.withUnsafeBytes { H5Awrite(attribute, type, $0.baseAddress) }
            }
        }
    }

    /// Opens the object at `path` for writing, removes attribute `name` from it if present,
    /// and calls `create` with the object.
    private func replaceAttribute(_ name: String, on path: String, create: (hid_t) throws -> Void) throws {
        let path = try normalized(path)
        try checkAttributeName(name)
        try modify("set attribute \(jsonQuoted(name)) on \(display(path))") { file in
            let object = try openObject(path, in: file)
            defer { _ = H5Oclose(object) }
            let present = H5Aexists(object, name)
            guard present >= 0 else { throw libraryFailure("cannot look up attribute \(jsonQuoted(name)) of \(display(path))") }
            if present > 0, H5Adelete(object, name) < 0 {
                throw libraryFailure("cannot replace attribute \(jsonQuoted(name)) of \(display(path))")
            }
            try create(object)
        }
    }

    /// Creates attribute `name` of `type` and `shape` on `object` and fills it with `write`.
    private func createAttribute(_ name: String, on object: hid_t, type: hid_t, shape: [Int], write: (hid_t) -> herr_t) throws {
        let space = makeDataspace(shape: shape)
        guard space >= 0 else { throw libraryFailure("cannot create attribute \(jsonQuoted(name))") }
        defer { _ = H5Sclose(space) }
        let attribute = H5Acreate2(object, name, type, space, shim_H5P_DEFAULT(), shim_H5P_DEFAULT())
        guard attribute >= 0 else { throw libraryFailure("cannot create attribute \(jsonQuoted(name))") }
        defer { _ = H5Aclose(attribute) }
        guard write(attribute) >= 0 else { throw libraryFailure("cannot write attribute \(jsonQuoted(name))") }
    }
}
