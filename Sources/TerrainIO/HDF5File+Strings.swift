import CHDF5
import TerrainTensor

extension HDF5File {
    /// Writes `value` as a scalar variable-length UTF-8 string dataset at `path` (what h5py
    /// writes for `f["dir_file"] = "…"`, and reads back with `f["dir_file"][()]` as bytes or
    /// `.asstr()[()]` as str), replacing any dataset there.
    public func writeString(_ value: String, to path: String) throws {
        let path = try normalized(path)
        let name = display(path)
        guard path != "/" else { throw failure("cannot write a dataset at the root group \"/\"") }
        guard !value.utf8.contains(0) else {
            throw failure("cannot write string dataset \(name): the text contains a NUL character, which HDF5 strings cannot hold")
        }
        try modify("write dataset \(name)") { file in
            try createStringDataset(path, in: file, space: { H5Screate(H5S_SCALAR) }) { dataset, type in
                let status = withVariableString(value) { buffer in
                    H5Dwrite(dataset, type, shim_H5S_ALL(), shim_H5S_ALL(), shim_H5P_DEFAULT(), buffer)
                }
                guard status >= 0 else { throw libraryFailure("cannot write dataset \(name)") }
            }
        }
    }

    /// Reads the string dataset at `path`: variable- or fixed-length, ASCII or UTF-8, holding
    /// exactly one string (a scalar, or an array of one element). Fixed-length strings lose
    /// their padding.
    public func readString(_ path: String) throws -> String {
        let path = try normalized(path)
        if let snapshot = try openSnapshot() { return try snapshotString(snapshot, path) }
        let name = display(path)
        return try access { file in
            try withOpenDataset(path, in: file) { dataset, type, space in
                try checkSingleString(type: type, space: space, what: "dataset \(name)")
                guard let value = try readSingleString(type: type, what: "dataset \(name)", read: { memoryType, buffer in
                    H5Dread(dataset, memoryType, shim_H5S_ALL(), shim_H5S_ALL(), shim_H5P_DEFAULT(), buffer)
                }) else { throw libraryFailure("cannot read dataset \(name)") }
                return value
            }
        }
    }

    /// Creates a dataset of variable-length UTF-8 strings at `path` (normalized) over the
    /// dataspace `space` makes, replacing any dataset there, and hands it and its type to
    /// `write`: what `writeString` and `writeStrings` share.
    func createStringDataset(_ path: String, in file: hid_t, space makeSpace: () -> hid_t,
                             _ write: (_ dataset: hid_t, _ type: hid_t) throws -> Void) throws {
        let name = display(path)
        try removeDatasetForReplacement(path, in: file)
        let type = try makeVariableStringType(characterSet: H5T_CSET_UTF8, padding: H5T_STR_NULLTERM)
        defer { _ = H5Tclose(type) }
        let space = makeSpace()
        guard space >= 0 else { throw libraryFailure("cannot write dataset \(name)") }
        defer { _ = H5Sclose(space) }
        let links = try makeLinkCreationList()
        defer { _ = H5Pclose(links) }
        let dataset = H5Dcreate2(file, path, type, space, links, shim_H5P_DEFAULT(), shim_H5P_DEFAULT())
        guard dataset >= 0 else { throw libraryFailure("cannot create dataset \(name)") }
        defer { _ = H5Dclose(dataset) }
        try write(dataset, type)
    }

    // MARK: - Shared with attributes

    /// A variable-length string type; the caller closes it with `H5Tclose`.
    func makeVariableStringType(characterSet: H5T_cset_t, padding: H5T_str_t) throws -> hid_t {
        let type = H5Tcopy(shim_H5T_C_S1())
        guard type >= 0 else { throw libraryFailure("cannot create a string type") }
        guard H5Tset_size(type, shim_H5T_VARIABLE()) >= 0, H5Tset_cset(type, characterSet) >= 0,
              H5Tset_strpad(type, padding) >= 0 else {
            _ = H5Tclose(type)
            throw libraryFailure("cannot create a string type")
        }
        return type
    }

    /// Calls `body` with a buffer holding one variable-length string (a `char *`), as
    /// `H5Dwrite` and `H5Awrite` take it.
    func withVariableString<R>(_ value: String, _ body: (UnsafeRawPointer) -> R) -> R {
        value.withCString { characters in
            var pointer: UnsafePointer<CChar>? = characters
            return withUnsafePointer(to: &pointer) { body(UnsafeRawPointer($0)) }
        }
    }

    /// Throws unless `type` is a string type and `space` holds exactly one element.
    func checkSingleString(type: hid_t, space: hid_t, what: String) throws {
        let typeClass = H5Tget_class(type)
        guard typeClass == H5T_STRING else {
            throw failure("\(what) holds \(describe(typeClass: typeClass)) values, not a string")
        }
        guard let shape = dimensions(ofSpace: space), checkedElementCount(shape) == 1 else {
            let shape = dimensions(ofSpace: space).map { describe(shape: $0) } ?? "no data"
            throw failure("\(what) holds strings of shape \(shape), not a single string")
        }
    }

    /// Reads one string stored with `type` through `read(memoryType, buffer)`; nil when the
    /// read fails (the library's reason is still on the error stack).
    func readSingleString(type: hid_t, what: String, read: (hid_t, UnsafeMutableRawPointer) -> herr_t) throws -> String? {
        let characterSet = H5Tget_cset(type)
        let padding = H5Tget_strpad(type)
        if H5Tis_variable_str(type) > 0 {
            let memoryType = try makeVariableStringType(characterSet: characterSet, padding: padding)
            defer { _ = H5Tclose(memoryType) }
            var characters: UnsafeMutablePointer<CChar>? = nil
            let status = withUnsafeMutablePointer(to: &characters) { read(memoryType, UnsafeMutableRawPointer($0)) }
            guard status >= 0 else { return nil }
            guard let characters else { return "" }
            defer { _ = H5free_memory(characters) }
            return String(cString: characters)  // invalid UTF-8 becomes U+FFFD
        }

        let size = H5Tget_size(type)
        guard size > 0, size <= 1 << 30 else {
            throw failure("\(what) is a fixed-length string of \(size) bytes, which is not supported")
        }
        let memoryType = H5Tcopy(shim_H5T_C_S1())
        guard memoryType >= 0 else { return nil }
        defer { _ = H5Tclose(memoryType) }
        guard H5Tset_size(memoryType, size) >= 0, H5Tset_cset(memoryType, characterSet) >= 0,
              H5Tset_strpad(memoryType, padding) >= 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: size)
        let status = bytes.withUnsafeMutableBytes { read(memoryType, $0.baseAddress!) }
        guard status >= 0 else { return nil }
        if padding == H5T_STR_SPACEPAD {
            while bytes.last == UInt8(ascii: " ") { bytes.removeLast() }
        } else if let end = bytes.firstIndex(of: 0) {
            bytes.removeSubrange(end...)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
