import Foundation
import TerrainIO

/// A fresh empty folder under the system's temporary folder; the caller removes it.
func makeTemporaryFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory
        .appendingPathComponent("terrain-io-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

/// A safetensors file assembled byte by byte, for feeding the reader malformed input:
/// a header-size field (the header's real length unless overridden), the header text and the
/// data buffer.
func rawSafetensors(header: String, buffer: [UInt8] = [], declaredHeaderSize: UInt64? = nil) -> Data {
    rawSafetensors(headerBytes: Array(header.utf8), buffer: buffer, declaredHeaderSize: declaredHeaderSize)
}

func rawSafetensors(headerBytes: [UInt8], buffer: [UInt8] = [], declaredHeaderSize: UInt64? = nil) -> Data {
    var data = Data()
    withUnsafeBytes(of: (declaredHeaderSize ?? UInt64(headerBytes.count)).littleEndian) { data.append(contentsOf: $0) }
    data.append(contentsOf: headerBytes)
    data.append(contentsOf: buffer)
    return data
}

/// The header-size field and JSON text of a serialized file.
func headerParts(of file: Data) -> (size: Int, text: String) {
    let bytes = [UInt8](file)
    var size = 0
    for i in (0..<8).reversed() { size = size << 8 | Int(bytes[i]) }
    return (size, String(decoding: bytes[8..<8 + size], as: UTF8.self))
}

/// Little-endian bytes of integers, for building entries of a given dtype by hand.
func littleEndianBytes<I: FixedWidthInteger>(_ values: [I]) -> Data {
    var data = Data()
    for value in values { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
    return data
}

/// A small, fast, seedable generator, so that fuzz failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Runs `$TERRAIN_TEST_PYTHON` (make test sets it to a python with numpy and h5py) or else
/// `python3` from the PATH, for checking files against an independent implementation.
enum Python {
    /// Whether `python3` exists and can import `module`.
    static func canImport(_ module: String) -> Bool {
        (try? run("import \(module)")) != nil
    }

    /// Whether the checks that need `module` run: where it can be imported, and always under
    /// `make test` (`TERRAIN_REQUIRE_CROSSCHECKS=1`), which installs it, so that a missing
    /// module fails those checks instead of skipping them.
    static func checksRun(importing module: String) -> Bool {
        ProcessInfo.processInfo.environment["TERRAIN_REQUIRE_CROSSCHECKS"] == "1" || canImport(module)
    }

    /// Runs `script` with `arguments` as `sys.argv[1...]` and returns its standard output;
    /// throws with the standard error when the script fails.
    @discardableResult
    static func run(_ script: String, arguments: [String] = []) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let python = ProcessInfo.processInfo.environment["TERRAIN_TEST_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
        process.arguments = [python, "-c", script] + arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonFailure(status: process.terminationStatus, message: String(decoding: stderr, as: UTF8.self))
        }
        return String(decoding: stdout, as: UTF8.self)
    }

    struct PythonFailure: Error, CustomStringConvertible {
        var status: Int32
        var message: String
        var description: String { "python3 exited with status \(status): \(message)" }
    }
}
