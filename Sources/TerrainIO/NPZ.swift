import Foundation
import TerrainTensor

/// The NPZ format of NumPy (`np.savez`, `np.savez_compressed`): a zip archive of NPY files, one
/// per array, each named after its key with `.npy` appended.
public enum NPZ {
    /// The arrays of an NPZ archive, by key (entry name without `.npy`). Entries that are not
    /// `.npy` files are ignored.
    ///
    /// - Parameter file: the name used in error messages.
    public static func read(_ data: Data, file: String) throws -> [String: NumpyArray] {
        var arrays: [String: NumpyArray] = [:]
        for (name, array) in try readInOrder(data, file: file) { arrays[name] = array }
        return arrays
    }

    /// The arrays of an NPZ archive with their keys, in the archive's order.
    public static func readInOrder(_ data: Data, file: String) throws -> [(name: String, array: NumpyArray)] {
        guard ZipArchive.isZip(data) else {
            throw DatasetError.wrongMagic(file: file, detail: "an NPZ file is a zip archive and starts with PK")
        }
        let archive = try ZipArchive(data, file: file)
        var arrays: [(name: String, array: NumpyArray)] = []
        for entry in archive.entries where entry.name.hasSuffix(".npy") {
            let contents = try archive.contents(of: entry)
            let array = try NPY.read(contents, file: "\(file) entry '\(entry.name)'")
            arrays.append((String(entry.name.dropLast(4)), array))
        }
        return arrays
    }

    /// An NPZ archive storing (uncompressed) the given NPY files under the given keys; `.npy`
    /// is appended to keys that lack it, so `np.load(...)[key]` finds each array.
    public static func write(_ entries: [(String, Data)]) -> Data {
        ZipArchive.write(entries.map { name, data in (name.hasSuffix(".npy") ? name : name + ".npy", data) })
    }

    /// An NPZ archive of the given arrays under the given keys.
    public static func write(arrays: [(String, NumpyArray)]) -> Data {
        write(arrays.map { name, array in (name, NPY.write(array)) })
    }
}
