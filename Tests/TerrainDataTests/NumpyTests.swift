import Foundation
import Testing
import TerrainTensor
@testable import TerrainData
@testable import TerrainIO
import TerrainTestSupport

@Suite struct NPYTests {
    @Test func floatTensorRoundTrips() throws {
        let tensor = Tensor<Float>(shape: [2, 3, 4], scalars: (0..<24).map { Float($0) / 7 })
        let data = NPY.write(tensor)
        #expect(data.starts(withBytes: NPY.magic))
        let headerLength = Int(data.uint16LittleEndian(at: 8) ?? 0)
        #expect((10 + headerLength) % 64 == 0)
        let array = try NPY.read(data, file: "t.npy")
        #expect(array.shape == [2, 3, 4] && array.dtype == .float32)
        #expect(array.tensor() == tensor)
    }

    @Test func doubleAndIntegerArraysRoundTrip() throws {
        let doubles = Tensor<Double>(shape: [5], scalars: [0.1, -2, 3e100, .infinity, 0])
        let read = try NPY.read(NPY.write(doubles), file: "d")
        #expect(read.dtype == .float64 && read.doubles() == doubles.scalars)

        let integers = NumpyArray([Int64.min, -1, 0, Int64.max], shape: [2, 2])
        #expect(try NPY.read(NPY.write(integers), file: "i").integers() == [Int64.min, -1, 0, Int64.max])

        let bytes = NumpyArray([UInt8](arrayLiteral: 0, 128, 255), shape: [3])
        #expect(try NPY.read(NPY.write(bytes), file: "u").floats() == [0, 128, 255])

        let scalar = try NPY.read(NPY.write([Double](arrayLiteral: 2.5), shape: []), file: "s")
        #expect(scalar.shape == [] && scalar.doubles() == [2.5])
    }

    /// An NPY file with a hand-written header.
    static func npy(header: String, payload: Data = Data(), version: UInt8 = 1) -> Data {
        var data = Data(NPY.magic + [version, 0])
        if version == 1 { data.appendLittleEndian(UInt16(header.utf8.count)) } else {
            data.appendLittleEndian(UInt32(header.utf8.count))
        }
        return data + Data(header.utf8) + payload
    }

    @Test func bigEndianAndOtherTypesAreConverted() throws {
        var payload = Data()
        for value in [Float(1.5), -2] { payload.appendBigEndian(value.bitPattern) }
        let big = try NPY.read(Self.npy(header: "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }\n",
                                        payload: payload), file: "be")
        #expect(big.floats() == [1.5, -2])

        var halves = Data()
        for bits: UInt16 in [0x3C00, 0xC000, 0x3555, 0x0001, 0x7C00] { halves.appendLittleEndian(bits) }
        let half = try NPY.read(Self.npy(header: "{'descr': '<f2', 'fortran_order': False, 'shape': (5,)}",
                                         payload: halves, version: 3), file: "h")
        let values = half.floats()
        #expect(values[0] == 1 && values[1] == -2 && abs(values[2] - 1.0 / 3) < 1e-3)
        #expect(values[3] == 0x1p-24 && values[4] == .infinity)

        let flags = try NPY.read(Self.npy(header: "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }",
                                          payload: Data([1, 0, 1])), file: "b")
        #expect(flags.integers() == [1, 0, 1])
    }

    @Test func badHeadersThrow() {
        expectDatasetError("bad.npy", "wrong magic") { _ = try NPY.read(Data("not numpy at all".utf8), file: "bad.npy") }
        expectDatasetError("v9.npy", "version 9") {
            _ = try NPY.read(Self.npy(header: "{}", version: 9), file: "v9.npy")
        }
        expectDatasetError("garbled.npy", "not a Python dict") {
            _ = try NPY.read(Self.npy(header: "{'descr': '<f4', 'shape': (2,"), file: "garbled.npy")
        }
        expectDatasetError("noshape.npy", "no 'shape'") {
            _ = try NPY.read(Self.npy(header: "{'descr': '<f4', 'fortran_order': False}"), file: "noshape.npy")
        }
        expectDatasetError("str.npy", "unsupported", "'<U5'") {
            _ = try NPY.read(Self.npy(header: "{'descr': '<U5', 'fortran_order': False, 'shape': (1,)}"), file: "str.npy")
        }
        expectDatasetError("f.npy", "fortran_order is True") {
            _ = try NPY.read(Self.npy(header: "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3)}",
                                      payload: Data(count: 48)), file: "f.npy")
        }
        expectDatasetError("short.npy", "truncated", "header says shape [10, 10] of <f4 (400 bytes) but only 8 bytes follow") {
            _ = try NPY.read(Self.npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (10, 10)}",
                                      payload: Data(count: 8)), file: "short.npy")
        }
        expectDatasetError("deep.npy", "not a Python dict") {
            let header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + String(repeating: "(", count: 50_000) + "}"
            _ = try NPY.read(Self.npy(header: header, version: 2), file: "deep.npy")
        }
        expectDatasetError("cut.npy", "truncated") { _ = try NPY.read(Data(NPY.magic + [1, 0, 200, 0]), file: "cut.npy") }
        expectDatasetError("huge.npy", "truncated") {
            _ = try NPY.read(Self.npy(header: "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}"),
                             file: "huge.npy")
        }
    }
}

@Suite struct NPZTests {
    let arrays: [(String, NumpyArray)] = [
        ("weights", NumpyArray((0..<12).map { Float($0) * 0.5 }, shape: [3, 4])),
        ("losses", NumpyArray([Double](arrayLiteral: 1, 2, 3), shape: [3])),
        ("labels", NumpyArray([Int64](arrayLiteral: 4, 5), shape: [2])),
    ]

    @Test func roundTrips() throws {
        let archive = NPZ.write(arrays: arrays)
        let ordered = try NPZ.readInOrder(archive, file: "a.npz")
        #expect(ordered.map(\.name) == ["weights", "losses", "labels"])
        for ((_, expected), (_, actual)) in zip(arrays, ordered) { #expect(actual == expected) }
        #expect(NPZ.write(arrays: arrays) == archive)  // deterministic bytes
    }

    @Test func zip64FieldsAreRead() throws {
        let entries = arrays.map { ($0.0 + ".npy", NPY.write($0.1)) }
        let archive = ZipArchive.write(entries, zip64Threshold: 0)
        let read = try NPZ.read(archive, file: "z64.npz")
        #expect(read["losses"]?.doubles() == [1, 2, 3])
        #expect(read.count == 3)
    }

    /// A one-entry zip archive whose entry is deflated, built field by field.
    static func deflatedArchive(name: String, contents: Data) throws -> Data {
        let gzip = try Gzip.compress(contents)
        let deflated = gzip.subdata(in: (gzip.startIndex + 10)..<(gzip.endIndex - 8))  // strip gzip framing
        let crc = Inflater.crc32(of: contents), nameBytes = Data(name.utf8)
        func common(_ data: inout Data) {
            data.appendLittleEndian(UInt16(0)); data.appendLittleEndian(UInt16(8))  // flags, method
            data.appendLittleEndian(UInt32(0))                                       // time, date
            data.appendLittleEndian(crc)
            data.appendLittleEndian(UInt32(deflated.count)); data.appendLittleEndian(UInt32(contents.count))
            data.appendLittleEndian(UInt16(nameBytes.count)); data.appendLittleEndian(UInt16(0))
        }
        var archive = Data()
        archive.appendLittleEndian(UInt32(0x0403_4B50)); archive.appendLittleEndian(UInt16(20))
        common(&archive)
        archive += nameBytes + deflated
        let directoryOffset = archive.count
        archive.appendLittleEndian(UInt32(0x0201_4B50))
        archive.appendLittleEndian(UInt16(20)); archive.appendLittleEndian(UInt16(20))
        common(&archive)
        archive.appendLittleEndian(UInt16(0)); archive.appendLittleEndian(UInt16(0))  // comment, disk
        archive.appendLittleEndian(UInt16(0)); archive.appendLittleEndian(UInt32(0))  // attributes
        archive.appendLittleEndian(UInt32(0))                                          // local header offset
        archive += nameBytes
        let directorySize = archive.count - directoryOffset
        archive.appendLittleEndian(UInt32(0x0605_4B50)); archive.appendLittleEndian(UInt32(0))
        archive.appendLittleEndian(UInt16(1)); archive.appendLittleEndian(UInt16(1))
        archive.appendLittleEndian(UInt32(directorySize)); archive.appendLittleEndian(UInt32(directoryOffset))
        archive.appendLittleEndian(UInt16(0))
        return archive
    }

    @Test func deflatedEntriesAreInflated() throws {
        let array = NumpyArray((0..<1000).map { Float($0 % 10) }, shape: [10, 100])
        let archive = try Self.deflatedArchive(name: "x.npy", contents: NPY.write(array))
        #expect(archive.count < NPY.write(array).count)
        #expect(try NPZ.read(archive, file: "deflated.npz")["x"] == array)

        var damaged = archive
        damaged[50] ^= 0xFF
        expectDatasetError("deflated.npz entry 'x.npy'") { _ = try NPZ.read(damaged, file: "deflated.npz") }
    }

    @Test func truncatedArchiveThrows() {
        let archive = NPZ.write(arrays: arrays)
        expectDatasetError("cut.npz", "truncated") { _ = try NPZ.read(archive.prefix(archive.count / 2), file: "cut.npz") }
        expectDatasetError("tiny.npz", "truncated") { _ = try NPZ.read(archive.prefix(10), file: "tiny.npz") }
    }

    @Test func damagedEntryFailsItsChecksum() {
        var archive = NPZ.write(arrays: arrays)
        archive[200] ^= 0xFF  // inside the first entry's data
        expectDatasetError("bad.npz", "CRC-32") { _ = try NPZ.read(archive, file: "bad.npz") }
    }

    @Test func notAZipThrows() {
        expectDatasetError("x.npz", "wrong magic") { _ = try NPZ.read(Data("hello".utf8), file: "x.npz") }
    }

    @Test func datasetFromTrainTestArrays() throws {
        // Keras layout: uint8 images [N, H, W, C] and integer labels.
        let trainPixels: [UInt8] = (0..<48).map { UInt8($0 * 5) }
        let train = NumpyArray(trainPixels, shape: [4, 2, 2, 3])
        let test = NumpyArray([UInt8](repeating: 255, count: 2 * 2 * 2 * 3), shape: [2, 2, 2, 3])
        let archive = NPZ.write(arrays: [
            ("x_train", train), ("y_train", NumpyArray([Int64](arrayLiteral: 0, 1, 2, 1), shape: [4])),
            ("x_test", test), ("y_test", NumpyArray([Int32](arrayLiteral: 3, 0), shape: [2, 1])),
        ])
        let folder = try TemporaryFolder()
        let path = try folder.write(archive, to: "keras.npz")
        let pair = try DatasetCatalog.load(path, options: .init(normalize: false))
        #expect(pair.train.inputs.shape == [4, 3, 2, 2])
        // Sample 0, channel 1, pixel (0, 1): NHWC offset (0·2 + 1)·3 + 1 = 4 → 20 / 255.
        #expect(pair.train.inputs[flat: 1 * 4 + 1] == Float(20) / 255)
        #expect(pair.train.classCount == 4 && pair.test.classCount == 4)
        #expect(pair.test.targets.labels == [3, 0])
    }

    @Test func datasetFromXYIsSplit() throws {
        let folder = try TemporaryFolder()
        let x = NumpyArray((0..<40).map { Double($0) }, shape: [20, 2])
        let y = NumpyArray((0..<20).map { Float($0) / 2 }, shape: [20])
        try folder.write(NPY.write(x), to: "arrays/x.npy")
        try folder.write(NPY.write(y), to: "arrays/y.npy")
        let pair = try DatasetCatalog.load(folder.file("arrays"), options: .init(normalize: false, testFraction: 0.25))
        #expect(pair.train.count == 15 && pair.test.count == 5)
        #expect(pair.train.classCount == nil && pair.train.outputCount == 1)
        #expect(pair.train.sampleShape == [2])
    }

    @Test func missingKeysAreListed() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write(NPZ.write(arrays: [("a", arrays[0].1)]), to: "odd.npz")
        expectDatasetError("odd.npz", "expected arrays x_train", "found a") { _ = try DatasetCatalog.load(path) }
    }
}

@Suite(.serialized, .enabled(if: Python.checksRun(importing: "numpy"), "needs python3 with numpy"))
struct RealNumpyTests {
    @Test(arguments: ["savez", "savez_compressed"])
    func readsArchivesWrittenByNumpy(function: String) throws {
        let folder = try TemporaryFolder()
        try Python.run("""
            import numpy as np
            np.\(function)('out.npz',
                a=(np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7),
                b=np.array([1, -2, 3], dtype=np.int64),
                c=np.array([True, False]),
                d=np.arange(6, dtype='>f8').reshape(2, 3),
                e=np.array(3.5),
                f=np.arange(4, dtype=np.uint8),
                g=np.arange(3, dtype=np.int16) - 1)
            """, in: folder.path)
        let arrays = try NPZ.read(FileReading.read(folder.file("out.npz")), file: "out.npz")
        #expect(arrays.count == 7)
        #expect(arrays["a"]?.shape == [2, 3, 4])
        #expect(arrays["a"]?.floats() == (0..<24).map { Float($0) / 7 })
        #expect(arrays["b"]?.integers() == [1, -2, 3])
        #expect(arrays["c"]?.integers() == [1, 0])
        #expect(arrays["d"]?.doubles() == [0, 1, 2, 3, 4, 5])
        #expect(arrays["e"]?.shape == [] && arrays["e"]?.doubles() == [3.5])
        #expect(arrays["f"]?.dtype == .uint8)
        #expect(arrays["g"]?.integers() == [-1, 0, 1])
    }

    @Test func numpyDatasetLoads() throws {
        let folder = try TemporaryFolder()
        try Python.run("""
            import numpy as np
            rng = np.random.default_rng(0)
            np.savez_compressed('mnistlike.npz',
                x_train=rng.integers(0, 256, (30, 28, 28), dtype=np.uint8), y_train=np.arange(30) % 10,
                x_test=rng.integers(0, 256, (10, 28, 28), dtype=np.uint8), y_test=np.arange(10))
            """, in: folder.path)
        let pair = try DatasetCatalog.load(folder.file("mnistlike.npz"))
        #expect(pair.train.inputs.shape == [30, 1, 28, 28] && pair.test.count == 10)
        #expect(pair.train.classCount == 10)
    }

    @Test func numpyReadsWhatWeWrite() throws {
        let folder = try TemporaryFolder()
        let surface = Tensor<Double>(shape: [3, 4], scalars: (0..<12).map { Double($0) * 0.25 })
        let entries = [("surface", NPY.write(surface)), ("axis", NPY.write([Float](arrayLiteral: -1, 0, 1), shape: [3]))]
        try folder.write(NPZ.write(entries), to: "ours.npz")
        try folder.write(ZipArchive.write(entries.map { ($0.0 + ".npy", $0.1) }, zip64Threshold: 0), to: "ours64.npz")
        try Python.run("""
            import numpy as np
            for name in ['ours.npz', 'ours64.npz']:
                with np.load(name) as z:
                    assert sorted(z.files) == ['axis', 'surface'], z.files
                    assert z['surface'].dtype == np.float64 and z['surface'].shape == (3, 4)
                    assert (z['surface'] == np.arange(12).reshape(3, 4) * 0.25).all()
                    assert z['axis'].dtype == np.float32 and list(z['axis']) == [-1, 0, 1]
            """, in: folder.path)
    }
}
