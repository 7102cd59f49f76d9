import Foundation
import Testing
import TerrainTensor
import TerrainIO

/// One malformed file and a phrase the error must contain, showing that the intended check
/// (not some other) rejected it.
struct MalformedFile: Sendable, CustomStringConvertible {
    var description: String
    var data: Data
    var expectedPhrase: String

    init(_ description: String, _ data: Data, expecting phrase: String) {
        self.description = description
        self.data = data
        self.expectedPhrase = phrase
    }

    /// A file whose header holds one tensor `t` with the given description fields and a buffer.
    init(_ description: String, tensor fields: String, buffer: Int, expecting phrase: String) {
        self.init(description, rawSafetensors(header: "{\"t\":{\(fields)}}", buffer: Array(repeating: 0, count: buffer)),
                  expecting: phrase)
    }
}

/// Describes an F32 tensor of `count` elements at `[begin, end)`.
private func f32(_ name: String, count: Int, _ begin: Int, _ end: Int) -> String {
    "\"\(name)\":{\"dtype\":\"F32\",\"shape\":[\(count)],\"data_offsets\":[\(begin),\(end)]}"
}

private let malformedFiles: [MalformedFile] = [
    // Size field and header framing.
    MalformedFile("empty file", Data(), expecting: "too short"),
    MalformedFile("seven bytes", Data([2, 0, 0, 0, 0, 0, 0]), expecting: "too short"),
    MalformedFile("header size past the end", rawSafetensors(header: "{}", declaredHeaderSize: 100), expecting: "only 2 follow"),
    MalformedFile("header size UInt64.max", rawSafetensors(header: "{}", declaredHeaderSize: .max), expecting: "limit"),
    MalformedFile("header size 200 MB", rawSafetensors(header: "{}", declaredHeaderSize: 200_000_000), expecting: "limit"),
    MalformedFile("empty header", rawSafetensors(header: ""), expecting: "not valid JSON"),
    MalformedFile("header not UTF-8", rawSafetensors(headerBytes: [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D]), expecting: "UTF-8"),
    MalformedFile("overlong UTF-8", rawSafetensors(headerBytes: Array("{\"".utf8) + [0xC0, 0xAF] + Array("\":{}}".utf8)), expecting: "UTF-8"),
    MalformedFile("truncated JSON", rawSafetensors(header: #"{"t":"#), expecting: "not valid JSON"),
    MalformedFile("trailing garbage", rawSafetensors(header: "{} x"), expecting: "after the end"),
    MalformedFile("trailing NUL padding", rawSafetensors(headerBytes: Array("{}".utf8) + [0, 0]), expecting: "after the end"),
    MalformedFile("single quotes", rawSafetensors(header: "{'t':1}"), expecting: "not valid JSON"),
    MalformedFile("trailing comma", rawSafetensors(header: #"{"a":{},}"#), expecting: "not valid JSON"),
    MalformedFile("bad escape", rawSafetensors(header: #"{"a\q":{}}"#), expecting: "escape"),
    MalformedFile("lone high surrogate", rawSafetensors(header: #"{"\ud800":{}}"#), expecting: "surrogate"),
    MalformedFile("lone low surrogate", rawSafetensors(header: #"{"\udc00":{}}"#), expecting: "surrogate"),
    MalformedFile("raw newline in a name", rawSafetensors(header: "{\"a\nb\":{}}"), expecting: "control character"),
    MalformedFile("number with leading zero", rawSafetensors(header: #"{"t":{"dtype":"U8","shape":[01],"data_offsets":[0,1]}}"#, buffer: [0]), expecting: "not valid JSON"),
    MalformedFile("deep nesting", rawSafetensors(header: "{\"t\":" + String(repeating: "[", count: 100_000)), expecting: "nested"),
    MalformedFile("header is an array", rawSafetensors(header: "[1, 2]"), expecting: "an array, not a JSON object"),
    MalformedFile("header is a string", rawSafetensors(header: #""hello""#), expecting: "a string, not a JSON object"),
    MalformedFile("header is null", rawSafetensors(header: "null"), expecting: "null, not a JSON object"),

    // Entry descriptions.
    MalformedFile("entry is a number", rawSafetensors(header: #"{"t":5}"#), expecting: "not an object"),
    MalformedFile("missing dtype", tensor: #""shape":[1],"data_offsets":[0,4]"#, buffer: 4, expecting: "no \"dtype\""),
    MalformedFile("missing shape", tensor: #""dtype":"F32","data_offsets":[0,4]"#, buffer: 4, expecting: "no \"shape\""),
    MalformedFile("missing data_offsets", tensor: #""dtype":"F32","shape":[1]"#, buffer: 4, expecting: "no \"data_offsets\""),
    MalformedFile("repeated field", tensor: #""dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]"#, buffer: 4, expecting: "more than once"),
    MalformedFile("dtype is a number", tensor: #""dtype":32,"shape":[1],"data_offsets":[0,4]"#, buffer: 4, expecting: "not a string"),
    MalformedFile("unknown dtype", tensor: #""dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]"#, buffer: 1, expecting: "not supported"),
    MalformedFile("lowercase dtype", tensor: #""dtype":"f32","shape":[1],"data_offsets":[0,4]"#, buffer: 4, expecting: "not supported"),
    MalformedFile("shape is a string", tensor: #""dtype":"F32","shape":"1","data_offsets":[0,4]"#, buffer: 4, expecting: "not an array"),
    MalformedFile("fractional dimension", tensor: #""dtype":"F32","shape":[1.5],"data_offsets":[0,4]"#, buffer: 4, expecting: "not an integer"),
    MalformedFile("dimension as string", tensor: #""dtype":"F32","shape":["1"],"data_offsets":[0,4]"#, buffer: 4, expecting: "not an integer"),
    MalformedFile("dimension as boolean", tensor: #""dtype":"F32","shape":[true],"data_offsets":[0,4]"#, buffer: 4, expecting: "not an integer"),
    MalformedFile("dimension beyond Int", tensor: #""dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]"#, buffer: 4, expecting: "not an integer"),
    MalformedFile("negative dimension", tensor: #""dtype":"F32","shape":[-1,2],"data_offsets":[0,4]"#, buffer: 4, expecting: "negative dimension"),
    MalformedFile("shape product overflows", tensor: #""dtype":"F32","shape":[4611686018427387904,4,0],"data_offsets":[0,0]"#, buffer: 0, expecting: "too many elements"),
    MalformedFile("data_offsets with one number", tensor: #""dtype":"F32","shape":[1],"data_offsets":[4]"#, buffer: 4, expecting: "data_offsets"),
    MalformedFile("data_offsets with three numbers", tensor: #""dtype":"F32","shape":[1],"data_offsets":[0,4,8]"#, buffer: 4, expecting: "data_offsets"),
    MalformedFile("data_offsets as strings", tensor: #""dtype":"F32","shape":[1],"data_offsets":["0","4"]"#, buffer: 4, expecting: "data_offsets"),
    MalformedFile("negative offset", tensor: #""dtype":"F32","shape":[1],"data_offsets":[-4,0]"#, buffer: 4, expecting: "data_offsets"),
    MalformedFile("offset beyond Int", tensor: #""dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551616]"#, buffer: 4, expecting: "data_offsets"),

    // Byte ranges.
    MalformedFile("offsets past the buffer", tensor: #""dtype":"F32","shape":[2],"data_offsets":[0,8]"#, buffer: 4, expecting: "past the end"),
    MalformedFile("begin after end", tensor: #""dtype":"F32","shape":[1],"data_offsets":[4,0]"#, buffer: 4, expecting: "begin after they end"),
    MalformedFile("byte length too short for shape", tensor: #""dtype":"F32","shape":[2],"data_offsets":[0,4]"#, buffer: 4, expecting: "needs 8"),
    MalformedFile("byte length too long for shape", tensor: #""dtype":"F64","shape":[1],"data_offsets":[0,12]"#, buffer: 12, expecting: "needs 8"),
    MalformedFile("overlapping tensors", rawSafetensors(header: "{\(f32("a", count: 2, 0, 8)),\(f32("b", count: 2, 4, 12))}", buffer: Array(repeating: 0, count: 12)), expecting: "overlaps"),
    MalformedFile("same range twice", rawSafetensors(header: "{\(f32("a", count: 1, 0, 4)),\(f32("b", count: 1, 0, 4))}", buffer: Array(repeating: 0, count: 4)), expecting: "overlaps"),
    MalformedFile("hole between tensors", rawSafetensors(header: "{\(f32("a", count: 1, 0, 4)),\(f32("b", count: 1, 8, 12))}", buffer: Array(repeating: 0, count: 12)), expecting: "belong to no tensor"),
    MalformedFile("data not starting at zero", rawSafetensors(header: "{\(f32("a", count: 1, 4, 8))}", buffer: Array(repeating: 0, count: 8)), expecting: "bytes 0..<4"),
    MalformedFile("trailing bytes", rawSafetensors(header: "{\(f32("a", count: 1, 0, 4))}", buffer: Array(repeating: 0, count: 8)), expecting: "at the end"),
    MalformedFile("buffer without tensors", rawSafetensors(header: "{}", buffer: [1]), expecting: "at the end"),

    // Names and metadata.
    MalformedFile("duplicate names", rawSafetensors(header: "{\(f32("a", count: 1, 0, 4)),\(f32("a", count: 1, 4, 8))}", buffer: Array(repeating: 0, count: 8)), expecting: "more than once"),
    MalformedFile("duplicate metadata", rawSafetensors(header: #"{"__metadata__":{},"__metadata__":{}}"#), expecting: "more than once"),
    MalformedFile("metadata is an array", rawSafetensors(header: #"{"__metadata__":["a"]}"#), expecting: "not an object"),
    MalformedFile("metadata value is a number", rawSafetensors(header: #"{"__metadata__":{"step":12}}"#), expecting: "not a string"),
    MalformedFile("metadata key repeated", rawSafetensors(header: #"{"__metadata__":{"k":"a","k":"b"}}"#), expecting: "more than once"),
]

@Suite struct SafetensorsMalformedFileTests {
    @Test(arguments: malformedFiles)
    func malformedFileIsRejectedWithAClearError(_ file: MalformedFile) throws {
        let error = try #require(throws: SafetensorsError.self) {
            try SafetensorsFile(data: file.data, source: "broken.safetensors")
        }
        #expect(error.source == "broken.safetensors")
        #expect(error.description.hasPrefix("broken.safetensors: "))
        #expect(error.problem.contains(file.expectedPhrase), "\(error)")
    }

    @Test func theSmallestValidFilesAreAccepted() throws {
        #expect(try SafetensorsFile(data: rawSafetensors(header: "{}")).entries.isEmpty)
        #expect(try SafetensorsFile(data: rawSafetensors(header: "  \n{ }\t \r\n")).entries.isEmpty)
        #expect(try SafetensorsFile(data: rawSafetensors(header: #"{"__metadata__":null}"#)).metadata.isEmpty)
        let extraField = #"{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"note":[1,{"x":null}]}}"#
        #expect(try SafetensorsFile(data: rawSafetensors(header: extraField, buffer: [1])).names == ["t"])
        let zeroLengthTensors = "{\(f32("z", count: 0, 4, 4)),\(f32("a", count: 1, 0, 4)),\(f32("e", count: 0, 0, 0))}"
        #expect(try SafetensorsFile(data: rawSafetensors(header: zeroLengthTensors, buffer: [0, 0, 0, 0])).names == ["e", "a", "z"])
    }

    @Test func missingFileNamesThePath() throws {
        let url = URL(fileURLWithPath: "/nonexistent-terrain-folder/model.safetensors")
        let error = try #require(throws: SafetensorsError.self) { try SafetensorsFile.read(from: url) }
        #expect(error.source == "/nonexistent-terrain-folder/model.safetensors")
        #expect(error.problem.contains("cannot read"))
        #expect(error.problem.lowercased().contains("no such file"), "\(error)")
    }

    @Test func entriesThatBreakTheFormatAreNotWritten() throws {
        let four = Data(count: 4)
        let cases: [(String, [SafetensorsEntry])] = [
            ("two tensors are named", [SafetensorsEntry(name: "a", dtype: .f32, shape: [1], data: four),
                                       SafetensorsEntry(name: "a", dtype: .f32, shape: [1], data: four)]),
            ("reserved", [SafetensorsEntry(name: "__metadata__", dtype: .f32, shape: [1], data: four)]),
            ("needs 8", [SafetensorsEntry(name: "a", dtype: .f64, shape: [1], data: four)]),
            ("negative dimension", [SafetensorsEntry(name: "a", dtype: .u8, shape: [-4], data: four)]),
            ("too many elements", [SafetensorsEntry(name: "a", dtype: .u8, shape: [Int.max, 2, 0], data: Data())]),
        ]
        for (phrase, entries) in cases {
            let error = try #require(throws: SafetensorsError.self) { try SafetensorsFile(entries: entries).serialized() }
            #expect(error.problem.contains(phrase), "\(error)")
        }
    }

    @Test func entriesThatDoNotMatchTheirShapeAreNotConverted() throws {
        let short = SafetensorsEntry(name: "w", dtype: .f32, shape: [2, 2], data: Data(count: 12))
        let error = try #require(throws: SafetensorsError.self) { try short.tensor(as: Float.self) }
        #expect(error.source == "tensor \"w\"")
        #expect(error.problem.contains("needs 16"))
        let negative = SafetensorsEntry(name: "w", dtype: .f32, shape: [-1], data: Data())
        #expect(throws: SafetensorsError.self) { try negative.tensor(as: Double.self) }
        let overflowing = SafetensorsEntry(name: "w", dtype: .f32, shape: [Int.max, Int.max, 0], data: Data())
        #expect(throws: SafetensorsError.self) { try overflowing.tensor(as: Double.self) }
    }
}
