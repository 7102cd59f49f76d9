import Foundation
import Testing
import TerrainTensor
import TerrainIO
import TerrainTestSupport

/// Writing then reading gives back the same tensors, bit for bit, in the same order.
@Suite struct SafetensorsRoundTripTests {
    static let floatSpecials: [Float] = [
        0, -0.0, 1.5, -2.25, .infinity, -.infinity, .nan, Float(bitPattern: 0x7FC1_2345),
        .leastNonzeroMagnitude, .greatestFiniteMagnitude, .pi,
    ]
    static let doubleSpecials: [Double] = [
        0, -0.0, 1.0 / 3.0, -1e300, .infinity, -.infinity, .nan, Double(bitPattern: 0x7FF8_0000_DEAD_BEEF),
        .leastNonzeroMagnitude, .greatestFiniteMagnitude, .ulpOfOne,
    ]

    @Test func floatAndDoubleTensorsAndMetadataSurviveExactly() throws {
        let floats = Tensor<Float>(shape: [1, 11], scalars: Self.floatSpecials)
        let doubles = Tensor<Double>(shape: [11], scalars: Self.doubleSpecials)
        let file = SafetensorsFile(
            entries: [SafetensorsEntry(name: "f", tensor: floats), SafetensorsEntry(name: "d", tensor: doubles)],
            metadata: ["format": "pt", "step": "1200", "empty": ""])

        let read = try SafetensorsFile(data: try file.serialized())
        #expect(read.metadata == file.metadata)
        #expect(read.names == ["f", "d"])
        let f = try #require(read["f"])
        let d = try #require(read["d"])
        #expect(f.dtype == .f32 && f.shape == [1, 11])
        #expect(d.dtype == .f64 && d.shape == [11])
        #expect(try f.tensor(as: Float.self).scalars.map(\.bitPattern) == Self.floatSpecials.map(\.bitPattern))
        #expect(try d.tensor(as: Double.self).scalars.map(\.bitPattern) == Self.doubleSpecials.map(\.bitPattern))
        #expect(f.data == file.entries[0].data)
    }

    @Test func scalarAndEmptyTensorsRoundTrip() throws {
        let entries = [
            SafetensorsEntry(name: "scalar", tensor: Tensor<Float>(shape: [], scalars: [3.5])),
            SafetensorsEntry(name: "empty", tensor: Tensor<Double>(zeros: [0])),
            SafetensorsEntry(name: "empty-middle", tensor: Tensor<Float>(zeros: [3, 0, 2])),
            SafetensorsEntry(name: "after", tensor: Tensor<Double>(shape: [2], scalars: [-1, 7])),
        ]
        let read = try SafetensorsFile(data: try SafetensorsFile(entries: entries).serialized())
        #expect(read.names == ["scalar", "empty", "empty-middle", "after"])

        let scalar = try #require(read["scalar"]).tensor(as: Float.self)
        #expect(scalar.shape == [] && scalar.scalars == [3.5])
        let empty = try #require(read["empty"]).tensor(as: Double.self)
        #expect(empty.shape == [0] && empty.count == 0)
        let emptyMiddle = try #require(read["empty-middle"]).tensor(as: Float.self)
        #expect(emptyMiddle.shape == [3, 0, 2] && emptyMiddle.count == 0)
        #expect(try #require(read["after"]).tensor(as: Double.self).scalars == [-1, 7])
    }

    @Test func headerIsPaddedWithSpacesToAMultipleOfEight() throws {
        for nameLength in 1...9 {
            let name = String(repeating: "w", count: nameLength)
            let file = SafetensorsFile(entries: [SafetensorsEntry(name: name, tensor: Tensor<Float>(zeros: [3]))])
            let data = try file.serialized()
            let (size, text) = headerParts(of: data)
            #expect(size % 8 == 0)
            #expect(data.count == 8 + size + 12)
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            #expect(trimmed.hasSuffix("}"))
            #expect(text.dropFirst(trimmed.count).allSatisfy { $0 == " " })
            #expect(size - trimmed.utf8.count < 8)
        }
    }

    @Test func insertionOrderIsKeptInHeaderAndData() throws {
        let names = ["zeta", "alpha", "mid", "b", "0"]
        let entries = names.enumerated().map { index, name in
            SafetensorsEntry(name: name, tensor: Tensor<Float>(repeating: Float(index), shape: [index + 1]))
        }
        let data = try SafetensorsFile(entries: entries, metadata: ["k": "v"]).serialized()
        let text = headerParts(of: data).text
        let positions = try names.map { name in try #require(text.range(of: "\"\(name)\":{")).lowerBound }
        #expect(positions == positions.sorted())

        let read = try SafetensorsFile(data: data)
        #expect(read.names == names)
        for (index, entry) in read.entries.enumerated() {
            #expect(try entry.tensor(as: Float.self).scalars == Array(repeating: Float(index), count: index + 1))
        }
    }

    @Test func namesAndMetadataWithQuotesControlCharactersAndUnicodeSurvive() throws {
        let names = ["he said \"hi\"", "weights/λ→μ 🚀", "tab\there\nnew\\line", "\u{01}ctrl\u{1F}", "e\u{301}\r\n", ""]
        let entries = names.enumerated().map { index, name in
            SafetensorsEntry(name: name, tensor: Tensor<Double>(repeating: Double(index), shape: [1]))
        }
        let metadata = ["quote\"key": "va\\lue\n", "ünïcødé": "日本語 🚀", "ctl": "\u{00}\u{07}"]
        let data = try SafetensorsFile(entries: entries, metadata: metadata).serialized()

        // An independent JSON reader agrees on the header's contents.
        let headerText = headerParts(of: data).text
        let json = try #require(try JSONSerialization.jsonObject(with: Data(headerText.utf8)) as? [String: Any])
        #expect(Set(json.keys) == Set(names + ["__metadata__"]))
        #expect(json["__metadata__"] as? [String: String] == metadata)

        let read = try SafetensorsFile(data: data)
        #expect(read.names == names)
        #expect(read.metadata == metadata)
        #expect(try #require(read["weights/λ→μ 🚀"]).tensor(as: Double.self).scalars == [1])
    }

    @Test func jsonEscapesAreDecodedOnRead() throws {
        // Names written with escapes another writer might use: \u escapes, a surrogate pair, "\/".
        let header = #"{"a\u00e9\ud83d\ude80\/\"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#
        let read = try SafetensorsFile(data: rawSafetensors(header: header, buffer: [9]))
        #expect(read.names == ["aé🚀/\""])
    }

    @Test func writesAndReadsThroughTheFileSystem() throws {
        let folder = try makeTemporaryFolder("io-tests")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("model.safetensors")
        let tensor = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        try SafetensorsFile(entries: [SafetensorsEntry(name: "w", tensor: tensor)], metadata: ["epoch": "3"]).write(to: url)

        let read = try SafetensorsFile.read(from: url)
        #expect(read.metadata == ["epoch": "3"])
        #expect(try #require(read["w"]).tensor(as: Float.self) == tensor)
        #expect(read["missing"] == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.safetensors"])
    }

    @Test func readerAcceptsSlicedData() throws {
        let data = try SafetensorsFile(entries: [SafetensorsEntry(name: "x", tensor: Tensor<Float>(shape: [2], scalars: [4, 5]))]).serialized()
        let padded = Data([1, 2, 3]) + data + Data([4])
        let slice = padded[3..<(3 + data.count)]
        let read = try SafetensorsFile(data: slice)
        #expect(try #require(read["x"]).tensor(as: Float.self).scalars == [4, 5])
        #expect(try #require(read["x"]).data.startIndex == 0)
    }

    @Test func entriesAreReturnedInDataOrderWhateverTheHeaderOrder() throws {
        let header = #"{"second":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"__metadata__":{"a":"b"},"first":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#
        let read = try SafetensorsFile(data: rawSafetensors(header: header, buffer: [10, 20]))
        #expect(read.names == ["first", "second"])
        #expect(try #require(read["second"]).tensor(as: Float.self).scalars == [20])
    }

    @Test func floatEntriesConvertBetweenPrecisions() throws {
        let doubles = Tensor<Double>(shape: [3], scalars: [0.1, -2.5, 1e40])
        let asFloat = try SafetensorsEntry(name: "d", tensor: doubles).tensor(as: Float.self)
        #expect(asFloat.scalars == [Float(0.1), -2.5, .infinity])
        let floats = Tensor<Float>(shape: [2], scalars: [0.1, -3])
        #expect(try SafetensorsEntry(name: "f", tensor: floats).tensor(as: Double.self).scalars == [Double(Float(0.1)), -3])
    }
}
