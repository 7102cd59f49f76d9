import CHDF5
import Foundation

/// Access to the HDF5 C library, which Debian builds without thread safety: its identifiers,
/// caches and error stack are process-wide state that concurrent calls would corrupt.
///
/// Every sequence of `H5*` calls in Terrain runs inside `HDF5Library.locked`, one lock for the
/// whole process, so two `HDF5File`s used from two threads take turns instead. (Each file
/// object itself still belongs to one thread at a time; see `HDF5File`.)
enum HDF5Library {
    private static let lock = NSLock()

    /// Keeps the library from closing files at process exit (`H5dont_atexit`, which must come
    /// before any other call). A file whose close failed (a full disk: the final flush fails)
    /// stays registered half torn down, and the library's exit handler closing it again crashed
    /// the process after its error had been printed. Every file Terrain opens is closed by
    /// `close()` or when released; at exit there is nothing left to flush.
    private static let configured: Void = { _ = H5dont_atexit() }()

    /// Runs `body` holding the library lock, with HDF5's automatic error printing turned off so
    /// that failures reach the caller as thrown errors and nothing is written to standard error.
    static func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        _ = configured
        // Cheap, and keeps printing off even if other code in the process turned it on.
        _ = H5Eset_auto2(shim_H5E_DEFAULT(), nil, nil)
        return try body()
    }

    /// The library's most specific reason for the failure of the last call, such as
    /// "truncated file: eof = 1024, sblock->base_addr = 0, stored_eof = 4096", or nil when it
    /// recorded none. Clears the error stack. Call with the lock held, right after the failure.
    static func lastFailureReason() -> String? {
        var reasons: [String] = []
        _ = withUnsafeMutablePointer(to: &reasons) { pointer in
            // Upward: from the function where the error arose out to the API call.
            H5Ewalk2(shim_H5E_DEFAULT(), H5E_WALK_UPWARD, { _, error, data in
                if let text = error?.pointee.desc, let data {
                    data.assumingMemoryBound(to: [String].self).pointee.append(String(cString: text))
                }
                return 0
            }, pointer)
        }
        _ = H5Eclear2(shim_H5E_DEFAULT())
        return reasons.first { !$0.isEmpty }.map(condensed)
    }

    /// A failed system call's reason as one line: HDF5's "file write failed: time = …,
    /// filename = …, errno = 28, error message = 'No space left on device', buf = …" becomes
    /// "file write failed: No space left on device".
    static func condensed(_ reason: String) -> String {
        guard let start = reason.range(of: "error message = '"),
              let end = reason[start.upperBound...].firstIndex(of: "'") else {
            return reason.split(whereSeparator: \.isNewline).joined(separator: " ")
        }
        let head = reason[..<start.lowerBound].split(separator: ":").first.map(String.init) ?? "the system call failed"
        return "\(head): \(reason[start.upperBound..<end])"
    }
}

/// The HDF5 file signature, which starts the superblock.
let hdf5Signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

/// Whether the file at `path` carries the HDF5 signature where the format allows it: at byte 0,
/// or after a user block, at 512, 1024, 2048, … bytes.
func hasHDF5Signature(atPath path: String) -> Bool {
    guard let handle = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? handle.close() }
    guard let size = try? handle.seekToEnd() else { return false }
    var offset: UInt64 = 0
    while offset + 8 <= size {
        guard (try? handle.seek(toOffset: offset)) != nil,
              let bytes = try? handle.read(upToCount: 8) else { return false }
        if [UInt8](bytes) == hdf5Signature { return true }
        offset = offset == 0 ? 512 : offset * 2
    }
    return false
}

/// What an HDF5 datatype class holds, as a phrase for error messages: "string", "compound".
func describe(typeClass: H5T_class_t) -> String {
    switch typeClass {
    case H5T_INTEGER: return "integer"
    case H5T_FLOAT: return "floating-point"
    case H5T_STRING: return "string"
    case H5T_TIME: return "time"
    case H5T_BITFIELD: return "bit-field"
    case H5T_OPAQUE: return "opaque"
    case H5T_COMPOUND: return "compound"
    case H5T_REFERENCE: return "reference"
    case H5T_ENUM: return "enum"
    case H5T_VLEN: return "variable-length sequence"
    case H5T_ARRAY: return "array"
    default: return "unknown"
    }
}

/// The dimensions of a dataspace: `[]` for a scalar, nil for a null dataspace (no data at all)
/// or when the library cannot say, or when a dimension does not fit `Int`.
func dimensions(ofSpace space: hid_t) -> [Int]? {
    switch H5Sget_simple_extent_type(space) {
    case H5S_SCALAR:
        return []
    case H5S_SIMPLE:
        let rank = H5Sget_simple_extent_ndims(space)
        guard rank >= 0 else { return nil }
        var dimensions = [hsize_t](repeating: 0, count: Int(rank))
        guard H5Sget_simple_extent_dims(space, &dimensions, nil) == rank else { return nil }
        guard dimensions.allSatisfy({ $0 <= hsize_t(Int.max) }) else { return nil }
        return dimensions.map { Int($0) }
    default:
        return nil
    }
}

/// A new dataspace for `shape` (`[]` is a scalar), or a negative identifier on failure.
func makeDataspace(shape: [Int]) -> hid_t {
    if shape.isEmpty { return H5Screate(H5S_SCALAR) }
    let dimensions = shape.map { hsize_t($0) }
    return H5Screate_simple(Int32(shape.count), dimensions, nil)
}

/// The largest number of bytes a read may allocate: the machine's memory. A damaged or hostile
/// file can declare a dataset of any size; refusing it here turns what would be a failed
/// allocation (a crash) into an error.
func readableByteLimit() -> UInt64 {
    ProcessInfo.processInfo.physicalMemory
}
