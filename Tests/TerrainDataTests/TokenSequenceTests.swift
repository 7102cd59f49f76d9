import Foundation
import Testing
@testable import TerrainData
import TerrainIO
import TerrainTensor
import TerrainTestSupport

@Suite struct TokenSequenceTests {
    /// The windows of a text corpus: inputs are each window's first T bytes, targets the next
    /// byte at every position; train and test windows share no byte, and together they are the
    /// corpus's ⌊L/(T+1)⌋ windows in order.
    @Test func textIsCutIntoDisjointWindows() throws {
        let folder = try TemporaryFolder("tokens")
        var generator = SplitMix64(seed: 7)
        let text = String((0..<900).map { _ in Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8(generator.next() % 26))) })
        let path = try folder.write(Data(text.utf8), to: "story.txt")
        var options = DatasetOptions(seed: 3, testFraction: 0.25)
        options.context = 8
        let pair = try DatasetCatalog.load(path, options: options)
        let bytes = Array(text.utf8)
        let windows = bytes.count / 9
        #expect(pair.train.count + pair.test.count == windows)
        #expect(pair.test.count == Int((Double(windows) * 0.25).rounded()))
        #expect(pair.train.sampleShape == [8])
        #expect(pair.train.targets.vocabulary == 256 && pair.train.outputCount == 256)
        #expect(pair.normalization == nil, "token ids are never standardized")
        #expect(pair.note?.contains("read \(bytes.count) bytes of UTF-8 text") == true)
        // Every window of either set is one of the corpus's windows, each used once.
        var used = Set<Int>()
        for set in [pair.train, pair.test] {
            let inputs = set.inputs.scalars, ids = set.targets.tokenIDs!
            for row in 0..<set.count {
                let input = inputs[(row * 8)..<((row + 1) * 8)].map { UInt8($0) }
                let target = ids[(row * 8)..<((row + 1) * 8)].map { UInt8($0) }
                let start = (0..<windows).first { w in Array(bytes[(w * 9)..<(w * 9 + 8)]) == input && !used.contains(w)
                    && Array(bytes[(w * 9 + 1)..<(w * 9 + 9)]) == target }
                #expect(start != nil)
                if let start { used.insert(start) }
            }
        }
        #expect(used.count == windows)
        // The same seed gives the same split; another seed another one.
        let again = try DatasetCatalog.load(path, options: options)
        #expect(again.test.inputs.scalars == pair.test.inputs.scalars)
    }

    @Test func bytesThatAreNotUTF8AreModelledAsBytes() throws {
        let folder = try TemporaryFolder("tokens")
        let bytes: [UInt8] = (0..<300).map { UInt8(($0 * 37 + 200) % 256) }
        let path = try folder.write(Data(bytes), to: "noise.bin")
        var options = DatasetOptions()
        options.context = 16
        let pair = try DatasetCatalog.load(path, options: options)
        #expect(pair.note?.contains("read 300 bytes (not UTF-8 text; modelled as bytes)") == true)
        #expect(pair.train.count + pair.test.count == 300 / 17)
    }

    @Test func emptyOrShortTextIsRefusedWithWhatWasRead() throws {
        let folder = try TemporaryFolder("tokens")
        var options = DatasetOptions()
        options.context = 32
        let empty = try folder.write(Data(), to: "empty.txt")
        #expect { try DatasetCatalog.load(empty, options: options) } throws: { "\($0)".contains("the file is empty") }
        let short = try folder.write(Data("only a few words".utf8), to: "short.txt")
        #expect { try DatasetCatalog.load(short, options: options) } throws: {
            "\($0)".contains("read 16 bytes of UTF-8 text: fewer than one window of --context 32 + 1 = 33 bytes")
        }
    }

    @Test func tokenArraysBecomeSequences() throws {
        let folder = try TemporaryFolder("tokens")
        let rows: [Int32] = [1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 2, 2, 2, 2, 2, 9, 9, 1, 1, 1]
        let path = try folder.write(NPZ.write(arrays: [("tokens", NumpyArray(rows, shape: [4, 5]))]), to: "seq.npz")
        let pair = try DatasetCatalog.load(path, options: DatasetOptions(testFraction: 0.25))
        #expect(pair.train.count == 3 && pair.test.count == 1)
        #expect(pair.train.sampleShape == [4])
        #expect(pair.train.targets.vocabulary == 10)
        #expect(pair.normalization == nil)
        let all = pair.train.inputs.scalars + pair.test.inputs.scalars
        #expect(Set(all.map(Int.init)).isSubset(of: Set(rows.map(Int.init))))
        // A declared vocabulary, and a split given by the file.
        let split = try folder.write(NPZ.write(arrays: [("tokens_train", NumpyArray(Array(rows[0..<15]), shape: [3, 5])),
                                                        ("tokens_test", NumpyArray(Array(rows[15...]), shape: [1, 5])),
                                                        ("vocabulary", NumpyArray([Int64(12)], shape: []))]), to: "split.npz")
        let given = try DatasetCatalog.load(split)
        #expect(given.train.count == 3 && given.test.count == 1 && given.train.targets.vocabulary == 12)
        #expect(given.test.inputs.scalars == [9, 9, 1, 1] && given.test.targets.tokenIDs == [9, 1, 1, 1])
        // A stream is cut like text.
        let stream = try folder.write(NPZ.write(arrays: [("tokens", NumpyArray(rows, shape: [20]))]), to: "stream.npz")
        var options = DatasetOptions(testFraction: 0)
        options.context = 3
        let cut = try DatasetCatalog.load(stream, options: options)
        #expect(cut.train.count == 5 && cut.train.sampleShape == [3])
        #expect(Array(cut.train.inputs.scalars.prefix(3)) == [1, 2, 3] && Array(cut.train.targets.tokenIDs!.prefix(3)) == [2, 3, 4])
    }

    @Test func badTokenIDsAreRefusedNamingTheValue() throws {
        let folder = try TemporaryFolder("tokens")
        func load(_ array: NumpyArray, extra: [(String, NumpyArray)] = [], context: Int? = nil) throws -> DatasetPair {
            let path = try folder.write(NPZ.write(arrays: [("tokens", array)] + extra), to: "bad.npz")
            var options = DatasetOptions()
            options.context = context
            return try DatasetCatalog.load(path, options: options)
        }
        #expect { try load(NumpyArray([Int64](arrayLiteral: 1, 2, -3, 4, 5, 6), shape: [2, 3])) } throws: {
            "\($0)".contains("token id -3 at 'tokens'[0, 2]")
        }
        #expect { try load(NumpyArray([Float](arrayLiteral: 1, 2, 3, 4, 5.5, 6), shape: [2, 3])) } throws: {
            "\($0)".contains("'tokens'[1, 1] is 5.5: token ids must be whole numbers")
        }
        #expect { try load(NumpyArray([Int32](arrayLiteral: 1, 2, 3, 4, 50, 6), shape: [2, 3]), extra: [("vocabulary", NumpyArray([Int64(10)], shape: []))]) } throws: {
            "\($0)".contains("token id 50 at 'tokens'[1, 1] is outside the vocabulary 0..<10")
        }
        #expect { try load(NumpyArray([Int32](arrayLiteral: 1, 2, 3, 4, 5, 6), shape: [2, 3]), context: 5) } throws: {
            "\($0)".contains("not --context 5 + 1")
        }
        // Whole floating-point ids are ids.
        let whole = try load(NumpyArray([Double](arrayLiteral: 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2), shape: [4, 3]))
        #expect(whole.train.targets.vocabulary == 10)
    }

    /// The named corpus: Debian's fortunes without their `%` lines.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/games/fortunes/fortunes")))
    func fortunesCorpus() throws {
        var options = DatasetOptions()
        options.context = 32
        let pair = try DatasetCatalog.load("fortunes", options: options)
        #expect(pair.train.sampleShape == [32] && pair.train.targets.vocabulary == 256)
        #expect(pair.train.count > 5000 && pair.test.count > 1000)
        #expect(pair.note?.contains("bytes") == true)
        let percent = Float(UInt8(ascii: "%")), newline = Float(UInt8(ascii: "\n"))
        // No separator line "\n%\n" survives.
        let inputs = pair.train.inputs.scalars
        let separators = (1..<(inputs.count - 1)).filter { inputs[$0] == percent && inputs[$0 - 1] == newline && inputs[$0 + 1] == newline }
        #expect(separators.isEmpty)
        #expect(DatasetCatalog.names.contains("fortunes"))
    }

    @Test func fortuneSeparatorsAreRemoved() {
        let file = Array("first\nsaying\n%\nsecond\n%\n\n%\nthird\n".utf8)
        #expect(String(decoding: FortuneCorpus.joinedFortunes(file, startsCorpus: true), as: UTF8.self) == "first\nsaying\n\nsecond\n\nthird\n")
        #expect(String(decoding: FortuneCorpus.joinedFortunes(Array("next\n".utf8), startsCorpus: false), as: UTF8.self) == "\nnext\n")
    }
}
