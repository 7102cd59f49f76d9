import CHDF5
import Foundation

extension HDF5File {
    /// Writes `values` as a 1-D dataset of variable-length UTF-8 strings at `path` (what h5py
    /// writes for `f.create_dataset(name, data=[…], dtype=h5py.string_dtype())`, and reads back
    /// with `f[name].asstr()[:]`), replacing any dataset there. An empty list is a dataset of
    /// shape (0,).
    public func writeStrings(_ values: [String], to path: String) throws {
        let path = try normalized(path)
        let name = display(path)
        guard path != "/" else { throw failure("cannot write a dataset at the root group \"/\"") }
        if let bad = values.firstIndex(where: { $0.utf8.contains(0) }) {
            throw failure("cannot write string dataset \(name): element \(bad) contains a NUL character, which HDF5 strings cannot hold")
        }
        try modify("write dataset \(name)") { file in
            try createStringDataset(path, in: file, space: { makeDataspace(shape: [values.count]) }) { dataset, type in
                guard !values.isEmpty else { return }
                // HDF5 takes an array of `char *`: copies that live until the write returns.
                let copies = values.map { strdup($0) }
                defer { for c in copies { free(c) } }
                let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
                guard !pointers.contains(where: { $0 == nil }) else { throw failure("cannot write dataset \(name): out of memory") }
                let status = pointers.withUnsafeBufferPointer { buffer in
                    H5Dwrite(dataset, type, shim_H5S_ALL(), shim_H5S_ALL(), shim_H5P_DEFAULT(), UnsafeRawPointer(buffer.baseAddress!))
                }
                guard status >= 0 else { throw libraryFailure("cannot write dataset \(name)") }
            }
        }
    }

    /// Reads a 1-D dataset of variable-length strings (ASCII or UTF-8) at `path`, as
    /// `writeStrings` writes it; a scalar string dataset reads as a list of one.
    public func readStrings(_ path: String) throws -> [String] {
        let path = try normalized(path)
        if let snapshot = try openSnapshot() { return try snapshotStrings(snapshot, path) }
        let name = display(path)
        return try access { file in
            try withOpenDataset(path, in: file) { dataset, type, space in
                let typeClass = H5Tget_class(type)
                guard typeClass == H5T_STRING else {
                    throw failure("dataset \(name) holds \(describe(typeClass: typeClass)) values, not strings")
                }
                guard H5Tis_variable_str(type) > 0 else {
                    throw failure("dataset \(name) holds fixed-length strings; only variable-length string lists are supported")
                }
                guard let shape = dimensions(ofSpace: space), shape.count <= 1 else {
                    let shape = dimensions(ofSpace: space).map { describe(shape: $0) } ?? "no data"
                    throw failure("dataset \(name) holds strings of shape \(shape), not a list")
                }
                let count = shape.first ?? 1
                guard count <= Int(readableByteLimit() / 8) else {
                    throw failure("dataset \(name) declares \(count) strings, more than fit in this machine's memory")
                }
                guard count > 0 else { return [] }
                let memoryType = try makeVariableStringType(characterSet: H5Tget_cset(type), padding: H5Tget_strpad(type))
                defer { _ = H5Tclose(memoryType) }
                var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
                let status = pointers.withUnsafeMutableBufferPointer { buffer in
                    H5Dread(dataset, memoryType, shim_H5S_ALL(), shim_H5S_ALL(), shim_H5P_DEFAULT(), UnsafeMutableRawPointer(buffer.baseAddress!))
                }
                defer { for p in pointers where p != nil { _ = H5free_memory(p) } }
                guard status >= 0 else { throw libraryFailure("cannot read dataset \(name)") }
                return pointers.map { $0.map { String(cString: $0) } ?? "" }  // invalid UTF-8 becomes U+FFFD
            }
        }
    }
}
