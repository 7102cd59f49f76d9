import Foundation
import Testing
import TerrainTensor
import TerrainIO
import TerrainTestSupport

/// Files agree with independent readers and writers: the reference `safetensors` Python package
/// where it is installed, and a from-the-specification NumPy parser where NumPy is.
@Suite struct PythonCrossCheckTests {
    static let hasSafetensors = Python.checksRun(importing: "safetensors.numpy")
    static let hasNumPy = Python.checksRun(importing: "numpy")

    /// A file with float tensors of both precisions, a scalar, an empty tensor, an awkward name
    /// and metadata.
    static func swiftWrittenFile() -> SafetensorsFile {
        SafetensorsFile(
            entries: [
                SafetensorsEntry(name: "layer.0.weight", tensor: Tensor<Float>(shape: [2, 3], scalars: [1, -2.5, 0.1, 3e-8, -0.0, 65504])),
                SafetensorsEntry(name: "bias \"λ\"", tensor: Tensor<Double>(shape: [3], scalars: [1.0 / 3.0, -1e300, 2])),
                SafetensorsEntry(name: "scale", tensor: Tensor<Float>(shape: [], scalars: [0.75])),
                SafetensorsEntry(name: "empty", tensor: Tensor<Double>(zeros: [0, 2])),
            ],
            metadata: ["format": "np", "note": "written by Swift ✓"])
    }

    /// The Swift file's tensors as `name → (dtype, shape, values)`, for comparison with Python's.
    static func expectedSummary() throws -> [String: (String, [Int], [Double])] {
        var summary: [String: (String, [Int], [Double])] = [:]
        for entry in swiftWrittenFile().entries {
            summary[entry.name] = (entry.dtype.rawValue, entry.shape, try entry.tensor(as: Double.self).scalars)
        }
        return summary
    }

    /// Parses Python's JSON report: `{"tensors": {name: {"dtype", "shape", "values": [repr]}}, "metadata": {}}`.
    static func parseReport(_ text: String) throws -> (tensors: [String: (String, [Int], [Double])], metadata: [String: String]) {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let tensors = try #require(json["tensors"] as? [String: [String: Any]])
        var result: [String: (String, [Int], [Double])] = [:]
        for (name, fields) in tensors {
            let dtype = try #require(fields["dtype"] as? String)
            let shape = try #require(fields["shape"] as? [Int])
            let values = try #require(fields["values"] as? [String]).map { try #require(Double($0)) }
            result[name] = (dtype, shape, values)
        }
        return (result, try #require(json["metadata"] as? [String: String]))
    }

    static func expectSameTensors(_ actual: [String: (String, [Int], [Double])], _ expected: [String: (String, [Int], [Double])]) {
        #expect(Set(actual.keys) == Set(expected.keys))
        for (name, (dtype, shape, values)) in expected {
            guard let found = actual[name] else { continue }
            #expect(found.0 == dtype, "\(name)")
            #expect(found.1 == shape, "\(name)")
            #expect(found.2.map(\.bitPattern) == values.map(\.bitPattern), "\(name): \(found.2) vs \(values)")
        }
    }

    @Test(.enabled(if: hasSafetensors, "needs the Python safetensors package"))
    func referenceImplementationReadsSwiftFiles() throws {
        let folder = try makeTemporaryFolder("io-tests")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("swift.safetensors")
        try Self.swiftWrittenFile().write(to: url)

        let script = """
        import json, sys
        from safetensors import safe_open
        from safetensors.numpy import load_file
        tensors = load_file(sys.argv[1])
        with safe_open(sys.argv[1], framework="np") as f:
            metadata = f.metadata() or {}
        dtypes = {"float32": "F32", "float64": "F64"}
        report = {name: {"dtype": dtypes[str(a.dtype)], "shape": list(a.shape),
                         "values": [repr(float(v)) for v in a.reshape(-1)]} for name, a in tensors.items()}
        print(json.dumps({"tensors": report, "metadata": metadata}))
        """
        let report = try Self.parseReport(try Python.run(script, arguments: [url.path]))
        Self.expectSameTensors(report.tensors, try Self.expectedSummary())
        #expect(report.metadata == Self.swiftWrittenFile().metadata)
    }

    @Test(.enabled(if: hasSafetensors, "needs the Python safetensors package"))
    func swiftReadsReferenceImplementationFiles() throws {
        let folder = try makeTemporaryFolder("io-tests")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("python.safetensors")
        let script = """
        import sys
        import numpy as np
        from safetensors.numpy import save_file
        save_file({
            "f32": np.array([[1.5, -2.0], [0.1, 1e-40]], dtype=np.float32),
            "f64": np.array([1/3, -1e300, 0.0], dtype=np.float64),
            "f16": np.array([1.0, -2.5, 2.0**-20, 65504.0], dtype=np.float16),
            "i32": np.array([-7, 2**31 - 1], dtype=np.int32),
            "i64": np.array([[-3], [2**40]], dtype=np.int64),
            "u8": np.array([0, 255], dtype=np.uint8),
            "mask": np.array([True, False, True]),
            "scalar": np.array(2.5, dtype=np.float32),
            "nothing": np.zeros((0, 3), dtype=np.float32),
        }, sys.argv[1], metadata={"framework": "numpy", "ünïcode": "✓"})
        """
        try Python.run(script, arguments: [url.path])

        let file = try SafetensorsFile.read(from: url)
        #expect(file.metadata == ["framework": "numpy", "ünïcode": "✓"])
        func values(_ name: String) throws -> (SafetensorsDType, [Int], [Double]) {
            let entry = try #require(file[name])
            return (entry.dtype, entry.shape, try entry.tensor(as: Double.self).scalars)
        }
        #expect(try values("f32") == (.f32, [2, 2], [1.5, -2.0, Double(Float(0.1)), Double(Float(1e-40))]))
        #expect(try values("f64") == (.f64, [3], [1.0 / 3.0, -1e300, 0]))
        #expect(try values("f16") == (.f16, [4], [1.0, -2.5, 0x1p-20, 65504]))
        #expect(try values("i32") == (.i32, [2], [-7, 2_147_483_647]))
        #expect(try values("i64") == (.i64, [2, 1], [-3, 0x1p40]))
        #expect(try values("u8") == (.u8, [2], [0, 255]))
        #expect(try values("mask") == (.bool, [3], [1, 0, 1]))
        #expect(try values("scalar") == (.f32, [], [2.5]))
        #expect(try values("nothing") == (.f32, [0, 3], []))
        // The reference writer pads its header to a multiple of 8 as well.
        #expect(headerParts(of: try Data(contentsOf: url)).size % 8 == 0)
    }

    @Test(.enabled(if: hasNumPy, "needs NumPy"))
    func specificationParserInNumPyReadsSwiftFiles() throws {
        let folder = try makeTemporaryFolder("io-tests")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("swift.safetensors")
        try Self.swiftWrittenFile().write(to: url)

        // Parses the format from its description alone: size, JSON header, contiguous buffer.
        let script = """
        import json, struct, sys
        import numpy as np
        raw = open(sys.argv[1], "rb").read()
        (n,) = struct.unpack("<Q", raw[:8])
        assert n % 8 == 0 and (8 + n) % 8 == 0, n
        header = json.loads(raw[8:8 + n].decode("utf-8"))
        metadata = header.pop("__metadata__", {})
        buffer = raw[8 + n:]
        dtypes = {"F32": "<f4", "F64": "<f8"}
        report, end = {}, 0
        for name, info in sorted(header.items(), key=lambda item: item[1]["data_offsets"]):
            begin, stop = info["data_offsets"]
            assert begin == end, (name, begin, end)
            end = stop
            values = np.frombuffer(buffer[begin:stop], dtype=dtypes[info["dtype"]])
            assert values.size == int(np.prod(info["shape"])), name
            report[name] = {"dtype": info["dtype"], "shape": info["shape"], "values": [repr(float(v)) for v in values]}
        assert end == len(buffer)
        print(json.dumps({"tensors": report, "metadata": metadata}))
        """
        let report = try Self.parseReport(try Python.run(script, arguments: [url.path]))
        Self.expectSameTensors(report.tensors, try Self.expectedSummary())
        #expect(report.metadata == Self.swiftWrittenFile().metadata)
    }

    @Test(.enabled(if: hasNumPy, "needs NumPy"))
    func swiftReadsAFileAssembledInNumPy() throws {
        let folder = try makeTemporaryFolder("io-tests")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("numpy.safetensors")
        // An unpadded header whose members are not in data order, with F16 data.
        let script = """
        import json, struct, sys
        import numpy as np
        half = np.array([1.0, -0.5, 2.0**-24, np.inf], dtype="<f2").tobytes()
        single = np.array([[3.25, -1.0]], dtype="<f4").tobytes()
        header = {"single": {"dtype": "F32", "shape": [1, 2], "data_offsets": [len(half), len(half) + len(single)]},
                  "half": {"dtype": "F16", "shape": [4], "data_offsets": [0, len(half)]},
                  "__metadata__": {"by": "numpy"}}
        text = json.dumps(header).encode("utf-8")
        with open(sys.argv[1], "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + half + single)
        """
        try Python.run(script, arguments: [url.path])

        let file = try SafetensorsFile.read(from: url)
        #expect(file.names == ["half", "single"])
        #expect(file.metadata == ["by": "numpy"])
        #expect(try #require(file["half"]).tensor(as: Float.self).scalars == [1.0, -0.5, 0x1p-24, .infinity])
        let single = try #require(file["single"]).tensor(as: Float.self)
        #expect(single.shape == [1, 2] && single.scalars == [3.25, -1.0])
    }
}
