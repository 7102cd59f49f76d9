import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The contents of a safetensors file: named tensors in order, plus string metadata.
///
/// safetensors is the checkpoint format of Hugging Face and current PyTorch: an 8-byte
/// little-endian header size, a JSON header describing each tensor's dtype, shape and byte
/// range, then the tensors' bytes back to back. It holds no code, so it is safe to load from
/// anywhere, and the whole file is validated before anything is returned.
public struct SafetensorsFile: Sendable {
    /// The tensors, in file order: by position in the data buffer when read, and in the order
    /// given when written.
    public var entries: [SafetensorsEntry]
    /// Free-form string pairs stored under the header's `__metadata__` key.
    public var metadata: [String: String]

    public init(entries: [SafetensorsEntry], metadata: [String: String] = [:]) {
        self.entries = entries
        self.metadata = metadata
    }

    /// The entry with this name, or nil if there is none.
    public subscript(name: String) -> SafetensorsEntry? {
        entries.first { $0.name == name }
    }

    /// The names of the entries, in order.
    public var names: [String] { entries.map(\.name) }

    /// Reads and validates the safetensors file at `url`.
    ///
    /// Throws a `SafetensorsError` naming the file when it cannot be read or is malformed.
    public static func read(from url: URL) throws -> SafetensorsFile {
        let path = url.path(percentEncoded: false)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw SafetensorsError(source: path, problem: "cannot read the file: \(describeReadFailure(error, path: path))")
        }
        return try SafetensorsFile(data: data, source: path)
    }

    /// Writes the file to `url` atomically (see `AtomicFile.write`): afterwards the path holds
    /// either the complete new file or whatever it held before, never a mixture.
    ///
    /// Throws a `SafetensorsError` when the entries cannot be serialized, and an
    /// `AtomicFileError` naming the path when the file system refuses the write.
    public func write(to url: URL) throws {
        let data = try serialized(source: url.path(percentEncoded: false))
        try AtomicFile.write(data, to: url)
    }
}

/// A short reason for a failed file read, preferring the operating system's wording
/// ("No such file or directory") over Foundation's generic one.
private func describeReadFailure(_ error: any Error, path: String) -> String {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
        return "it is a folder, not a file"
    }
    let nsError = error as NSError
    if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
       underlying.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(underlying.code)))
    }
    if nsError.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(nsError.code)))
    }
    switch CocoaError.Code(rawValue: nsError.code) {
    case .fileReadNoSuchFile, .fileNoSuchFile: return "no such file"
    case .fileReadNoPermission: return "permission denied"
    default: return nsError.localizedDescription
    }
}
