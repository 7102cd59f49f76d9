import Foundation
import Testing
import TerrainTensor
import TerrainNN
@testable import TerrainONNX

extension GraphBuilder {
    /// A Constant node holding one real number.
    mutating func constant(_ name: String, _ value: Float) {
        node("Constant", [], name)
        var a = Onnx_AttributeProto()
        a.name = "value_float"; a.type = .float; a.f = value
        graph.node[graph.node.count - 1].attribute = [a]
    }
}

/// The operators of today's CNN families (Clip, HardSigmoid, HardSwish, Softplus, Pad,
/// ReduceMean, ReduceSum, Cast to reals): their values on known inputs, and their gradients and
/// Hessian-vector products against finite differences in Double, in every operator-set form
/// (attributes before 11, 13 or 18; inputs after).
@Suite("ONNX operators of MobileNet, EfficientNet and RegNet exports")
struct ONNXCNNOperatorTests {
    /// y = graph(x) for one sample.
    static func run(_ b: GraphBuilder, _ x: [Double], output: String = "out") throws -> [Double] {
        let graph: ONNXGraph<Double> = try b.model(output: output).makeGraph()
        return graph.forward(Tensor(shape: [1, x.count], scalars: x)).scalars
    }

    static func same(_ a: [Double], _ b: [Double]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { ($0.isNaN && $1.isNaN) || abs($0 - $1) <= 1e-12 * max(1, abs($1)) }
    }

    @Test func activationValues() throws {
        let x = [-4, -1, 0.5, 2, 7, 100, .nan]
        var b = GraphBuilder(input: [0, 7], opset: 10)
        b.node("Clip", ["x"], "out", [.float("min", 0), .float("max", 6)])
        #expect(Self.same(try Self.run(b, x), [0, 0, 0.5, 2, 6, 6, .nan]))   // ReLU6
        b = GraphBuilder(input: [0, 7], opset: 13)
        b.constant("lo", 1); b.constant("hi", -2)
        b.node("Clip", ["x", "lo", "hi"], "out")
        #expect(Self.same(try Self.run(b, x), [-2, -2, -2, -2, -2, -2, .nan]))   // min > max: max everywhere
        b = GraphBuilder(input: [0, 7], opset: 13)
        b.constant("hi", 1.5)
        b.node("Clip", ["x", "", "hi"], "out")
        #expect(Self.same(try Self.run(b, x), [-4, -1, 0.5, 1.5, 1.5, 1.5, .nan]))
        b = GraphBuilder(input: [0, 7], opset: 17)
        b.node("HardSwish", ["x"], "out")
        #expect(Self.same(try Self.run(b, x), [0, -1.0 / 3, 0.5 * (0.5 / 6 + 0.5), 2 * (2.0 / 6 + 0.5), 7, 100, .nan]))
        b = GraphBuilder(input: [0, 7], opset: 17)
        b.node("HardSigmoid", ["x"], "out", [.float("alpha", 0.25), .float("beta", 0.5)])
        #expect(Self.same(try Self.run(b, x), [0, 0.25, 0.625, 1, 1, 1, .nan]))
        b = GraphBuilder(input: [0, 7], opset: 17)
        b.node("Softplus", ["x"], "out")
        #expect(Self.same(try Self.run(b, x), x.map { $0 > 30 ? $0 : log(1 + exp($0)) }))
    }

    @Test func reductionPaddingAndCastValues() throws {
        let x = [1.0, 2, 3]
        var b = GraphBuilder(input: [0, 3], opset: 13)
        b.integers("pads", [0, 2, 0, 1])
        b.node("Pad", ["x", "pads"], "out", [.string("mode", "reflect")])
        #expect(try Self.run(b, x) == [3, 2, 1, 2, 3, 2])
        b.graph.node[0].attribute = []
        b.node("Pad", ["x", "pads"], "edge", [.string("mode", "edge")])
        #expect(try Self.run(b, x, output: "edge") == [1, 1, 1, 2, 3, 3])
        #expect(try Self.run(b, x) == [0, 0, 1, 2, 3, 0])   // constant mode, fill 0 by default
        b = GraphBuilder(input: [0, 3], opset: 10)
        b.node("Pad", ["x"], "out", [.ints("pads", [0, -1, 0, 2]), .float("value", 5)])   // a negative pad crops
        #expect(try Self.run(b, x) == [2, 3, 5, 5])
        b = GraphBuilder(input: [0, 3], opset: 18)
        b.integers("pads", [1, 0]); b.integers("axes", [-1])
        b.node("Pad", ["x", "pads", "", "axes"], "out", [.string("mode", "edge")])
        #expect(try Self.run(b, x) == [1, 1, 2, 3])
        b.integers("last", [1])
        b.node("ReduceMean", ["x", "last"], "mean", [.int("keepdims", 1)])
        #expect(Self.same(try Self.run(b, x, output: "mean"), [2]))
        b.node("ReduceSum", ["x"], "identity", [.int("noop_with_empty_axes", 1)])
        #expect(try Self.run(b, x, output: "identity") == x)
        // x.sum(1) / x.shape[1], as exported: Shape → Gather → Cast to float → Div.
        b.integers("one", [1])
        b.node("ReduceSum", ["x", "one"], "sum", [.int("keepdims", 0)])
        b.node("Shape", ["x"], "shape")
        b.node("Gather", ["shape", "one"], "n")
        b.node("Cast", ["n"], "count", [.int("to", 1)])
        b.node("Div", ["sum", "count"], "average")
        #expect(try Self.run(b, x, output: "average") == [2])
    }

    /// Clip with parameters as its bounds and a Constant as one bound, HardSwish, HardSigmoid and
    /// Softplus, each feeding a product (so every one has curvature to get right).
    @Test func activationDerivatives() throws {
        var b = GraphBuilder(input: [0, 6], opset: 17)
        b.parameter("w", [6, 6], scale: 0.8); b.parameter("lo", [], scale: 0.1, offset: -0.4); b.parameter("hi", [1], scale: 0.1, offset: 0.6)
        b.parameter("k", [1], scale: 0.1, offset: 3)
        b.constant("cap", 1.5)
        b.node("MatMul", ["x", "w"], "a")
        b.node("Clip", ["a", "lo", "hi"], "c")
        b.node("Clip", ["a", "", "cap"], "c2")
        b.node("Mul", ["a", "k"], "a3")
        b.node("HardSwish", ["a3"], "hs")
        b.node("HardSigmoid", ["a"], "hsig", [.float("alpha", 0.3), .float("beta", 0.4)])
        b.node("Softplus", ["a"], "sp")
        b.node("Add", ["c", "c2"], "s1")
        b.node("Add", ["hs", "sp"], "s2")
        b.node("Mul", ["s1", "hsig"], "s3")
        b.node("Mul", ["s3", "s2"], "out")
        try ONNXOperatorTests.expectDerivativesMatch(try ONNXOperatorTests.objective(try b.model(output: "out"), sampleShape: [6]), "activations")
        var ten = GraphBuilder(input: [0, 6], opset: 10)
        ten.parameter("w", [6, 6], scale: 2)
        ten.node("MatMul", ["x", "w"], "a")
        ten.node("Clip", ["a"], "c", [.float("min", 0), .float("max", 6)])
        ten.node("Mul", ["c", "a"], "out")
        try ONNXOperatorTests.expectDerivativesMatch(try ONNXOperatorTests.objective(try ten.model(output: "out"), sampleShape: [6]), "ReLU6")
    }

    /// Conv, Pad (constant with a crop and a parameter as the fill, reflect, edge), Tanh,
    /// squeeze-excitation by ReduceMean, ReduceSum: with the operator set's attributes or inputs.
    @Test(arguments: [10, 13, 18] as [Int64]) func paddingAndReductionDerivatives(_ opset: Int64) throws {
        var b = GraphBuilder(input: [0, 2, 4, 5], opset: opset)
        b.parameter("conv.weight", [3, 2, 3, 3]); b.parameter("fill", [], scale: 0.1, offset: 0.3)
        b.node("Conv", ["x", "conv.weight"], "c", [.ints("kernel_shape", [3, 3]), .ints("pads", [1, 1, 1, 1])])
        func pad(_ input: String, _ output: String, _ mode: String, _ pads: [Int64], fill: Bool = false) {
            if opset < 11 {
                b.node("Pad", [input], output, [.string("mode", mode), .ints("pads", pads)] + (fill ? [.float("value", 0.3)] : []))
            } else {
                b.integers(output + ".pads", pads)
                b.node("Pad", [input, output + ".pads"] + (fill ? ["fill"] : []), output, [.string("mode", mode)])
            }
        }
        pad("c", "p1", "constant", [0, 0, 1, -1, 0, 0, 2, 1], fill: true)
        pad("p1", "p2", "reflect", [0, 0, 2, 1, 0, 0, 1, 2])
        if opset >= 18 {
            b.integers("p3.pads", [1, 1]); b.integers("p3.axes", [-1])
            b.node("Pad", ["p2", "p3.pads", "", "p3.axes"], "p3", [.string("mode", "edge")])
        } else {
            pad("p2", "p3", "edge", [0, 0, 0, 1, 0, 0, 0, 1])
        }
        b.node("Tanh", ["p3"], "t")
        if opset >= 18 {
            b.integers("image", [2, 3])
            b.node("ReduceMean", ["t", "image"], "m")
        } else {
            b.node("ReduceMean", ["t"], "m", [.ints("axes", [2, 3])])
        }
        b.node("Mul", ["t", "m"], "se")
        if opset >= 13 {
            b.integers("last", [-1])
            b.node("ReduceSum", ["se", "last"], "rs", [.int("keepdims", 0)])
        } else {
            b.node("ReduceSum", ["se"], "rs", [.ints("axes", [-1]), .int("keepdims", 0)])
        }
        b.node("Flatten", ["rs"], "out")
        let model = try b.model(output: "out")
        let graph: ONNXGraph<Double> = model.makeGraph()
        #expect(try graph.outputShape(sampleShape: [2, 4, 5]) == [1, 30])
        try ONNXOperatorTests.expectDerivativesMatch(try ONNXOperatorTests.objective(model, sampleShape: [2, 4, 5]), "padding opset \(opset)")
    }

    @Test func badPadsAndAxesAreRefusedAtImport() throws {
        for (mode, pads) in [("reflect", [0, 3, 0, 0] as [Int64]), ("constant", [0, -2, 0, -2]), ("constant", [0, 1])] {
            var b = GraphBuilder(input: [0, 3], opset: 13)
            b.integers("pads", pads)
            b.node("Pad", ["x", "pads"], "out", [.string("mode", mode)])
            #expect(throws: ONNXError.self, "\(mode) \(pads)") { try b.model(output: "out") }
        }
        var b = GraphBuilder(input: [0, 3], opset: 13)
        b.node("Pad", ["x"], "out", [.string("mode", "wrap")])
        #expect(throws: ONNXError.self) { try b.model(output: "out") }
        b = GraphBuilder(input: [0, 3], opset: 18)
        b.integers("axes", [1, -1])
        b.node("ReduceSum", ["x", "axes"], "out")
        #expect(throws: ONNXError.self) { try b.model(output: "out") }   // one axis named twice
    }
}
