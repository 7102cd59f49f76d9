import Foundation
import Testing
import TerrainTensor
import TerrainIO
import TerrainTestSupport

/// Damaged files either parse or throw a `SafetensorsError`; they never crash the reader.
@Suite struct SafetensorsFuzzTests {
    /// A valid file using several dtypes, a scalar, an empty tensor and metadata.
    static func sampleFile() throws -> Data {
        try SafetensorsFile(
            entries: [
                SafetensorsEntry(name: "w", tensor: Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])),
                SafetensorsEntry(name: "half", dtype: .f16, shape: [2], data: littleEndianBytes([UInt16(0x3C00), 0xC000])),
                SafetensorsEntry(name: "step", dtype: .i64, shape: [], data: littleEndianBytes([Int64(1200)])),
                SafetensorsEntry(name: "none", tensor: Tensor<Double>(zeros: [0, 4])),
                SafetensorsEntry(name: "mask", dtype: .bool, shape: [3], data: Data([1, 0, 1])),
                SafetensorsEntry(name: "b", tensor: Tensor<Double>(shape: [2], scalars: [0.5, -0.25])),
            ],
            metadata: ["format": "pt", "note": "fuzz \"target\""]
        ).serialized()
    }

    @Test func randomTruncationsAndByteFlipsNeverCrash() throws {
        let original = [UInt8](try Self.sampleFile())
        let headerEnd = 8 + headerParts(of: Data(original)).size
        // Bytes that steer mutations into the JSON parser's interesting paths.
        let jsonBytes = Array("{}[]\",:\\-0123456789.eE+tfnu \u{7F}".utf8) + [0x00, 0x0A, 0xC3, 0xFF]
        var generator = SplitMix64(seed: 0x5AFE_7E45)
        var parsed = 0, rejected = 0

        for iteration in 0..<2_000 {
            var bytes = original
            switch iteration % 4 {
            case 0:
                bytes.removeLast(Int.random(in: 1...bytes.count, using: &generator))
            case 1:
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
            case 2:
                for _ in 0..<Int.random(in: 1...3, using: &generator) {
                    bytes[Int.random(in: 8..<headerEnd, using: &generator)] = jsonBytes.randomElement(using: &generator) ?? 0
                }
            default:
                // Cut or duplicate a span of the header, keeping the size field consistent or not.
                let start = Int.random(in: 8..<headerEnd, using: &generator)
                let end = Int.random(in: start...headerEnd, using: &generator)
                if Bool.random(using: &generator) {
                    bytes.removeSubrange(start..<end)
                } else {
                    bytes.insert(contentsOf: bytes[start..<end], at: start)
                }
                if Bool.random(using: &generator) {
                    let newSize = UInt64(headerEnd - 8 + bytes.count - original.count)
                    withUnsafeBytes(of: newSize.littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
                }
            }

            do {
                let file = try SafetensorsFile(data: Data(bytes), source: "fuzz-\(iteration)")
                parsed += 1
                // Whatever parsed must also convert and re-serialize without crashing.
                for entry in file.entries { _ = try entry.tensor(as: Float.self) }
                _ = try SafetensorsFile(data: try file.serialized())
            } catch let error as SafetensorsError {
                rejected += 1
                #expect(error.source.hasPrefix("fuzz-") || error.source == "<memory>" || error.source.hasPrefix("tensor "))
            } catch {
                Issue.record("iteration \(iteration) threw a non-safetensors error: \(error)")
            }
        }
        #expect(parsed + rejected == 2_000)
        #expect(parsed > 0 && rejected > 0)
    }
}
