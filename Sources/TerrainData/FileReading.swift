import Foundation
import TerrainIO

/// Reading dataset files from disk with errors that name the file.
enum FileReading {
    /// Whether `path` is an existing folder.
    static func isFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// Whether `path` is an existing file (not a folder).
    static func isFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    /// The file's bytes as stored.
    static func read(_ path: String) throws -> Data {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DatasetError.notFound(path: path, help: "")
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw DatasetError.unreadable(file: path, reason: error.localizedDescription)
        }
    }

    /// The file's bytes, inflated first if they start with the gzip magic.
    static func readDecompressing(_ path: String) throws -> Data {
        try Gzip.decompressIfNeeded(read(path), file: displayName(path))
    }

    /// The name used for a file in error messages about its content: its last path component.
    static func displayName(_ path: String) -> String {
        URL(fileURLWithPath: path).lastPathComponent
    }

    /// `folder/name`.
    static func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    /// The first of `names` that exists as a file in `folder`, as a full path.
    static func firstExisting(in folder: String, named names: [String]) -> String? {
        names.lazy.map { join(folder, $0) }.first(where: isFile)
    }

    /// The names of the entries of `folder`, or an empty list if it cannot be listed.
    static func contents(of folder: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    }
}
