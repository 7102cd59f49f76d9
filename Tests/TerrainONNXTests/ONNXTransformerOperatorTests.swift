import Foundation
import Testing
import TerrainTensor
import TerrainNN
@testable import TerrainONNX

/// The operators transformers export to, in built graphs whose every node lies between
/// parameters and the loss, against finite differences in Double (`ONNXOperatorTests`' checks):
/// cases the exported fixtures do not reach (LayerNormalization over two axes, products of stacks
/// with broadcast batch axes, Slice with a negative step, Split by sizes, Gather on real data with
/// a repeated index, Trilu, Where and Expand on values that carry tangents, powers, reductions).
@Suite("ONNX operators of transformers: built graphs against finite differences")
struct ONNXTransformerOperatorTests {
    @Test func layerNormalizationOverTwoAxesAndProductsOfStacks() throws {
        var b = GraphBuilder(input: [0, 2, 3, 4])
        b.parameter("s", [1, 2, 3, 4], offset: 1)
        b.parameter("ln.weight", [3, 4], offset: 1); b.parameter("ln.bias", [3, 4])
        b.parameter("k", [1, 2, 4, 5]); b.parameter("q", [2, 5, 3])
        b.node("Mul", ["x", "s"], "xs")
        b.node("LayerNormalization", ["xs", "ln.weight", "ln.bias"], "n", [.int("axis", -2), .float("epsilon", 1e-5)])
        b.node("MatMul", ["n", "k"], "m")        // [N, 2, 3, 4] · [1, 2, 4, 5]
        b.node("MatMul", ["m", "q"], "scores")   // [N, 2, 3, 5] · [2, 5, 3]
        b.node("Softmax", ["scores"], "p", [.int("axis", -1)])
        b.node("MatMul", ["p", "n"], "out")      // [N, 2, 3, 3] · [N, 2, 3, 4]
        let model = try b.model(output: "out")
        #expect(model.parameters.map(\.role) == [.weight, .normWeight, .normBias, .weight, .weight])
        try ONNXOperatorTests.expectDerivativesMatch(try ONNXOperatorTests.objective(model, sampleShape: [2, 3, 4]), "layer norm, stacks")
    }

    /// A MatMul's right operand is a transposed weight (filters along dim 1) only where the
    /// exporter folded it from a weight: torch.export's `folded_from` metadata, or a name the
    /// TorchScript exporter made up (`onnx::MatMul_…`). A tensor under its own name (`x @ W`), or
    /// one transposed in the graph (`MatMul(x, Transpose(W))`), keeps PyTorch's rows, as do Gemm's.
    @Test func matMulWeightsFoldedByTheExporterAreTransposed() throws {
        var b = GraphBuilder(input: [0, 3, 4], opset: 20)
        b.parameter("val_1", [4, 6]); b.parameter("onnx::MatMul_7", [6, 5]); b.parameter("raw", [5, 4])
        b.parameter("fc.weight", [3, 4]); b.parameter("head.weight", [2, 9])
        var folded = Onnx_ValueInfoProto()
        folded.name = "val_1"
        var entry = Onnx_StringStringEntryProto()
        entry.key = "pkg.onnxscript.optimizer.folded_from"; entry.value = "['fc1.weight']"
        folded.metadataProps = [entry]
        b.graph.valueInfo.append(folded)
        b.node("MatMul", ["x", "val_1"], "a")                          // [N, 3, 6]
        b.node("Gelu", ["a"], "ga", [.string("approximate", "tanh")])
        b.node("MatMul", ["ga", "onnx::MatMul_7"], "c")                // [N, 3, 5]
        b.node("MatMul", ["c", "raw"], "d")                            // [N, 3, 4]
        b.node("Transpose", ["fc.weight"], "fcT", [.ints("perm", [1, 0])])
        b.node("MatMul", ["d", "fcT"], "e")                            // [N, 3, 3]
        b.node("Flatten", ["e"], "rows")                              // [N, 9]
        b.node("Gemm", ["rows", "head.weight"], "out", [.int("transB", 1)])
        let model = try b.model(output: "out")
        let roles = Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.name, $0.role) })
        #expect(roles == ["val_1": .transposedWeight, "onnx::MatMul_7": .transposedWeight, "raw": .weight,
                          "fc.weight": .weight, "head.weight": .weight])
        try ONNXOperatorTests.expectDerivativesMatch(try ONNXOperatorTests.objective(model, sampleShape: [3, 4]), "folded MatMul weights")
    }

    /// Gelu of operator set 20 in both forms, against finite differences through a graph; any
    /// other approximation is refused, by name.
    @Test func geluExactAndTanh() throws {
        var b = GraphBuilder(input: [0, 5], opset: 20)
        b.parameter("w", [5, 6]); b.parameter("v", [6, 3])
        b.node("MatMul", ["x", "w"], "h")
        b.node("Gelu", ["h"], "g", [.string("approximate", "tanh")])
        b.node("Gelu", ["g"], "gg")
        b.node("MatMul", ["gg", "v"], "out")
        try ONNXOperatorTests.expectDerivativesMatch(try ONNXOperatorTests.objective(try b.model(output: "out"), sampleShape: [5]), "Gelu")
        b.graph.node[1].attribute[0].s = Data("erf".utf8)
        let error = #expect(throws: ONNXError.self) { try b.model(output: "out") }
        #expect(error.map { "\($0)".contains("approximate = \"erf\"") } == true, "\(String(describing: error))")
    }

    @Test func slicingMaskingPowersAndReductions() throws {
        var b = GraphBuilder(input: [0, 6])
        b.parameter("a", [6], offset: 1); b.parameter("c", [3]); b.parameter("table", [3, 2])
        // Read only as an exponent and as Equal's operand: constants, not parameters.
        b.parameter("two", [1], scale: 0, offset: 2); b.parameter("zero", [1], scale: 0)
        b.integers("sizes", [2, 4]); b.integers("start", [3]); b.integers("end", [-100]); b.integers("axis1", [1])
        b.integers("step", [-2]); b.integers("last", [2]); b.integers("picks", [5, 0, 5]); b.integers("grow", [1, 2, 3])
        b.integers("zeroInt", [0]); b.integers("one", [1]); b.integers("three", [3])
        b.node("Mul", ["x", "a"], "h")
        b.node("Split", ["h", "sizes"], "p1", [.int("axis", 1)])
        b.graph.node[b.graph.node.count - 1].output = ["p1", "p2"]
        b.node("Slice", ["p2", "start", "end", "axis1", "step"], "sl")   // columns 3 and 1 of p2
        b.node("Add", ["p1", "sl"], "s")
        b.node("Pow", ["s", "two"], "sq")
        b.node("Add", ["sq", "a"], "sqa")                                  // [N, 2] + [6] does not fit:
        #expect(throws: ONNXError.self) { try b.model(output: "sqa") }
        b.graph.node.removeLast()
        b.node("Sqrt", ["sq"], "root0")
        b.node("Constant", [], "offset", [.float("value_float", 2)])
        b.node("Add", ["root0", "offset"], "root")                         // |s| + 2: away from 0
        b.node("Reciprocal", ["root"], "inverse")
        b.node("Neg", ["inverse"], "negative")
        b.node("Unsqueeze", ["negative", "last"], "column")                // [N, 2, 1]
        b.node("Expand", ["column", "grow"], "wide")                       // [N, 2, 3]
        b.node("Mul", ["wide", "c"], "wc")
        b.node("Trilu", ["wc"], "upper", [.int("upper", 1)])
        b.node("Equal", ["upper", "zero"], "below")
        b.node("Where", ["below", "c", "upper"], "filled")                 // c below the diagonal
        b.node("ReduceSum", ["filled", "last"], "rowSums", [.int("keepdims", 0)])  // [N, 2]
        // Integer side: Range(0, 3, 1) mod 2 as reals, [0, 1, 0], scales the columns.
        b.node("Range", ["zeroInt", "three", "one"], "range")
        b.node("Mod", ["range", "last"], "parity")
        b.node("Cast", ["parity"], "parityReal", [.int("to", 1)])
        b.node("Add", ["parityReal", "c"], "columnScale")
        b.node("Mul", ["filled", "columnScale"], "scaledFilled")
        b.node("ReduceMean", ["scaledFilled"], "means", [.ints("axes", [2]), .int("keepdims", 0)])   // opset 17: an attribute
        b.node("Gather", ["h", "picks"], "picked", [.int("axis", 1)])     // columns 5, 0, 5 of h
        b.node("MatMul", ["picked", "table"], "product")                   // [N, 2]
        b.node("Concat", ["rowSums", "means", "product"], "out", [.int("axis", 1)])
        let model = try b.model(output: "out")
        #expect(model.parameters.map(\.name) == ["a", "c", "table"])
        let graph: ONNXGraph<Double> = model.makeGraph()
        #expect(try graph.outputShape(sampleShape: [6]) == [1, 6])
        try ONNXOperatorTests.expectDerivativesMatch(try ONNXOperatorTests.objective(model, sampleShape: [6]), "slicing and masking")
    }

    @Test func anOperatorStillMissingIsNamedBeforeAnyWork() throws {
        var b = GraphBuilder(input: [0, 4])
        b.node("Einsum", ["x", "x"], "e", [.string("equation", "ni,ni->n")])
        b.node("CumSum", ["e", "x"], "out")
        #expect(throws: ONNXError.unsupportedOperators(file: "built.onnx", operators: ["CumSum", "Einsum"])) { try b.model(output: "out") }
    }
}
