import Foundation
import TerrainIO

/// A folder of NPY files whose names (without `.npy`) are the array keys.
enum NPYFolder {
    /// The keys a folder of arrays is read by: samples and targets, or token sequences
    /// (`TokenSequences`).
    static let keys = ["x", "y", "x_train", "y_train", "x_test", "y_test", "tokens", "tokens_train", "tokens_test", "vocabulary"]

    /// The `.npy` files in `folder` whose names are dataset keys (case-insensitively), by key.
    static func arrayFiles(in folder: String) -> [String: String] {
        var files: [String: String] = [:]
        for name in FileReading.contents(of: folder) where name.lowercased().hasSuffix(".npy") {
            let key = String(name.dropLast(4))
            if keys.contains(key.lowercased()) { files[key] = FileReading.join(folder, name) }
        }
        return files
    }

    /// The arrays of the folder's dataset files, by key.
    static func read(_ folder: String) throws -> [String: NumpyArray] {
        var arrays: [String: NumpyArray] = [:]
        for (key, path) in arrayFiles(in: folder) {
            arrays[key] = try NPY.read(FileReading.readDecompressing(path), file: FileReading.displayName(path))
        }
        return arrays
    }
}
