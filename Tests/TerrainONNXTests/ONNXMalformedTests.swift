import Foundation
import Testing
import SwiftProtobuf
import TerrainTensor
import TerrainData
@testable import TerrainONNX
import TerrainIO
import TerrainTestSupport

/// Damaged, hostile and unsupported models give a clear `ONNXError`, never a trap.
@Suite("Malformed and unsupported ONNX models are refused with clear errors")
struct ONNXMalformedTests {
    /// A tiny valid model: y = Gemm(x, W, b) with x of shape [batch, 3] (built here, not exported).
    static func tinyModel(opset: Int64 = 17, extraNodes: [Onnx_NodeProto] = [], output: String = "y") -> Onnx_ModelProto {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "terrain-tests"
        var set = Onnx_OperatorSetIdProto()
        set.domain = ""
        set.version = opset
        model.opsetImport = [set]
        var graph = Onnx_GraphProto()
        graph.name = "tiny"
        var w = Onnx_TensorProto()
        w.name = "fc.weight"; w.dataType = 1; w.dims = [2, 3]; w.floatData = [1, 2, 3, 4, 5, 6]
        var b = Onnx_TensorProto()
        b.name = "fc.bias"; b.dataType = 1; b.dims = [2]; b.floatData = [0.5, -0.5]
        graph.initializer = [w, b]
        var input = Onnx_ValueInfoProto()
        input.name = "x"
        var batch = Onnx_TensorShapeProto.Dimension(); batch.dimParam = "batch"
        var three = Onnx_TensorShapeProto.Dimension(); three.dimValue = 3
        input.type.tensorType.elemType = 1
        input.type.tensorType.shape.dim = [batch, three]
        graph.input = [input]
        var gemm = Onnx_NodeProto()
        gemm.opType = "Gemm"; gemm.name = "fc"; gemm.input = ["x", "fc.weight", "fc.bias"]; gemm.output = ["y"]
        var transB = Onnx_AttributeProto()
        transB.name = "transB"; transB.type = .int; transB.i = 1
        gemm.attribute = [transB]
        graph.node = [gemm] + extraNodes
        var out = Onnx_ValueInfoProto()
        out.name = output
        graph.output = [out]
        model.graph = graph
        return model
    }

    static func node(_ op: String, _ inputs: [String], _ output: String, domain: String = "") -> Onnx_NodeProto {
        var n = Onnx_NodeProto()
        n.opType = op; n.name = op.lowercased(); n.input = inputs; n.output = [output]; n.domain = domain
        return n
    }

    static func load(_ model: Onnx_ModelProto) throws -> ONNXModel {
        try ONNXModel(data: try model.serializedBytes(), file: "test.onnx")
    }

    @Test func theTinyModelComputesItsGemm() throws {
        let graph: ONNXGraph<Double> = try Self.load(Self.tinyModel()).makeGraph()
        let y = graph.forward(Tensor(shape: [1, 3], scalars: [1, 1, 1]))
        #expect(y.scalars == [6.5, 14.5])
    }

    @Test func everyUnsupportedOperatorIsNamedAtOnce() throws {
        let model = Self.tinyModel(extraNodes: [Self.node("Abs", ["y"], "a"), Self.node("CumSum", ["a"], "s"),
                                                Self.node("Inverse", ["s"], "z", domain: "com.microsoft")], output: "z")
        #expect(throws: ONNXError.unsupportedOperators(file: "test.onnx", operators: ["Abs", "CumSum", "com.microsoft::Inverse"])) {
            try Self.load(model)
        }
        let message = "\(ONNXError.unsupportedOperators(file: "m.onnx", operators: ["Abs"]))"
        #expect(message.contains("m.onnx") && message.contains("Abs") && message.contains("Conv"))
    }

    @Test func operatorSetsOutsideTheKnownRangeAreRefused() throws {
        #expect(throws: ONNXError.unsupportedOpset(file: "test.onnx", domain: "ai.onnx", version: 5)) { try Self.load(Self.tinyModel(opset: 5)) }
        #expect(throws: ONNXError.unsupportedOpset(file: "test.onnx", domain: "ai.onnx", version: 99)) { try Self.load(Self.tinyModel(opset: 99)) }
        var noSet = Self.tinyModel()
        noSet.opsetImport = []
        #expect(throws: ONNXError.self) { try Self.load(noSet) }
    }

    @Test func structuralProblemsAreMalformed() throws {
        // A value used before any node produces it.
        var early = Self.tinyModel(extraNodes: [Self.node("Relu", ["later"], "r"), Self.node("Relu", ["y"], "later")], output: "r")
        #expect(throws: ONNXError.self) { try Self.load(early) }
        // Initializer data that does not fit its dims.
        early = Self.tinyModel()
        early.graph.initializer[0].dims = [2, 4]
        #expect(throws: ONNXError.malformed(file: "test.onnx", detail: "tensor 'fc.weight' of shape [2, 4] holds 6 values in float_data, not 8")) {
            try Self.load(early)
        }
        // Shapes that do not fit, found by the check on zeros before any data is seen.
        early = Self.tinyModel()
        early.graph.input[0].type.tensorType.shape.dim[1].dimValue = 4
        #expect(throws: ONNXError.self) { try Self.load(early) }
        // An output nobody produces; an attribute of the wrong type; an unsupported attribute value.
        #expect(throws: ONNXError.self) { try Self.load(Self.tinyModel(output: "nothing")) }
        var badAttribute = Self.tinyModel()
        badAttribute.graph.node[0].attribute[0].type = .string
        #expect(throws: ONNXError.self) { try Self.load(badAttribute) }
        #expect(throws: ONNXError.unreadable(file: "test.onnx", detail: "the file is empty")) { try ONNXModel(data: Data(), file: "test.onnx") }
    }

    @Test func errorsNameTheFileAndTheNode() throws {
        var conv = Self.node("Conv", ["y", "fc.weight"], "c")
        var pad = Onnx_AttributeProto()
        pad.name = "auto_pad"; pad.type = .string; pad.s = Data("SAME_UPPER".utf8)
        conv.attribute = [pad]
        do {
            _ = try Self.load(Self.tinyModel(extraNodes: [conv], output: "c"))
            Issue.record("loaded a Conv without kernel_shape")
        } catch let error as ONNXError {
            let text = "\(error)"
            #expect(text.contains("test.onnx") && text.contains("conv") && text.contains("Conv"), "\(text)")
        }
    }

    /// Truncated and bit-flipped fixtures (many seeded variants) either load or throw an
    /// `ONNXError`; what loads also runs on zeros or throws one.
    @Test(arguments: Fixtures.names + ["nanogpt"]) func truncatedAndBitFlippedFilesNeverTrap(_ name: String) throws {
        let original = [UInt8](try Data(contentsOf: Fixtures.folder.appendingPathComponent(name + ".onnx")))
        var generator = SplitMix64(seed: 0x0_11AA_F00D &+ UInt64(name.count))
        var loaded = 0, refused = 0
        for iteration in 0..<300 {
            var bytes = original
            switch iteration % 3 {
            case 0:
                bytes.removeLast(Int.random(in: 1..<bytes.count, using: &generator))
            case 1:
                for _ in 0..<Int.random(in: 1...3, using: &generator) {
                    let i = Int.random(in: 0..<bytes.count, using: &generator)
                    bytes[i] ^= UInt8(1) << UInt8.random(in: 0...7, using: &generator)
                }
            default:
                for _ in 0..<Int.random(in: 1...6, using: &generator) {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
            }
            do {
                let model = try ONNXModel(data: Data(bytes), file: "fuzz-\(iteration).onnx")
                loaded += 1
                if let shape = model.declaredSampleShape {
                    _ = try model.makeGraph(Float.self).outputShape(sampleShape: shape)
                }
            } catch let error as ONNXError {
                refused += 1
                #expect("\(error)".contains("fuzz-\(iteration).onnx"))
            } catch {
                Issue.record("iteration \(iteration) threw \(type(of: error)): \(error)")
            }
        }
        #expect(loaded + refused == 300 && refused > 0)
    }

    /// The same for the data files: NPY arrays cut short or with flipped bits.
    @Test func truncatedAndBitFlippedNPYNeverTrap() throws {
        let arrays = try NPZ.read(try Data(contentsOf: Fixtures.folder.appendingPathComponent("cnn.npz")), file: "cnn.npz")
        let original = [UInt8](NPY.write(arrays["x"]!))
        var generator = SplitMix64(seed: 77)
        var refused = 0
        for iteration in 0..<400 {
            var bytes = original
            if iteration % 2 == 0 {
                bytes.removeLast(Int.random(in: 1..<bytes.count, using: &generator))
            } else {
                // Flips within the header (magic, version, length, the Python dict) and the data.
                for _ in 0..<Int.random(in: 1...3, using: &generator) {
                    let i = Int.random(in: 0..<min(bytes.count, iteration % 4 == 1 ? 128 : bytes.count), using: &generator)
                    bytes[i] ^= UInt8(1) << UInt8.random(in: 0...7, using: &generator)
                }
            }
            do {
                let array = try NPY.read(Data(bytes), file: "fuzz.npy")
                _ = array.floats()
            } catch is DatasetError {
                refused += 1
            }
        }
        #expect(refused > 100)
    }
}
