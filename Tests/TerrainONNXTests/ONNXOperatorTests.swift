import Foundation
import Testing
import TerrainTensor
import TerrainNN
import TerrainData
import TerrainLandscape
@testable import TerrainONNX
import TerrainObjectives

/// Builds small ONNX graphs in memory, for operators and attributes the exported fixtures do not
/// reach (Gemm's transposes and scales, asymmetric pads, padded max pooling, Squeeze, Unsqueeze
/// with an axes input, Identity, Dropout, Cast, softmax over other axes and before operator set 13).
struct GraphBuilder {
    var graph = Onnx_GraphProto()
    var opset: Int64 = 17
    private var generator = SeededGenerator(seed: 99)

    init(input dims: [Int64], opset: Int64 = 17) {
        self.opset = opset
        var input = Onnx_ValueInfoProto()
        input.name = "x"
        input.type.tensorType.elemType = 1
        input.type.tensorType.shape.dim = dims.enumerated().map { k, d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if k == 0 { dim.dimParam = "batch" } else { dim.dimValue = d }
            return dim
        }
        graph.input = [input]
    }

    /// A float initializer of random values (scale, plus `offset`).
    mutating func parameter(_ name: String, _ shape: [Int64], scale: Double = 0.5, offset: Double = 0) {
        var t = Onnx_TensorProto()
        t.name = name; t.dataType = 1; t.dims = shape
        t.floatData = (0..<shape.reduce(1, *)).map { _ in Float(offset + scale * generator.nextNormal()) }
        graph.initializer.append(t)
    }

    mutating func integers(_ name: String, _ values: [Int64]) {
        var t = Onnx_TensorProto()
        t.name = name; t.dataType = 7; t.dims = [Int64(values.count)]; t.int64Data = values
        graph.initializer.append(t)
    }

    enum Attribute {
        case int(String, Int64), ints(String, [Int64]), float(String, Float), string(String, String)
    }

    mutating func node(_ op: String, _ inputs: [String], _ output: String, _ attributes: [Attribute] = []) {
        var n = Onnx_NodeProto()
        n.opType = op; n.name = "\(op.lowercased())_\(graph.node.count)"; n.input = inputs; n.output = [output]
        n.attribute = attributes.map { a in
            var p = Onnx_AttributeProto()
            switch a {
            case .int(let name, let v): p.name = name; p.type = .int; p.i = v
            case .ints(let name, let v): p.name = name; p.type = .ints; p.ints = v
            case .float(let name, let v): p.name = name; p.type = .float; p.f = v
            case .string(let name, let v): p.name = name; p.type = .string; p.s = Data(v.utf8)
            }
            return p
        }
        graph.node.append(n)
    }

    func model(output: String) throws -> ONNXModel {
        var g = graph
        var out = Onnx_ValueInfoProto()
        out.name = output
        g.output = [out]
        var model = Onnx_ModelProto()
        model.irVersion = 8
        var set = Onnx_OperatorSetIdProto()
        set.version = opset
        model.opsetImport = [set]
        model.graph = g
        return try ONNXModel(data: try model.serializedBytes(), file: "built.onnx")
    }
}

@Suite("ONNX operators: gradients and Hessian-vector products of built graphs")
struct ONNXOperatorTests {
    /// Regression data for a model with samples of `shape`: targets of the output's size.
    static func objective(_ model: ONNXModel, sampleShape: [Int]) throws -> ModelObjective<Double> {
        let graph: ONNXGraph<Double> = model.makeGraph()
        let outputs = try graph.outputShape(sampleShape: sampleShape).dropFirst().reduce(1, *)
        var g = SeededGenerator(seed: 3)
        let n = 6
        let x = Tensor<Float>.randomNormal(shape: [n] + sampleShape, generator: &g)
        let y = Tensor<Float>.randomNormal(shape: [n, outputs], generator: &g)
        let set = Dataset(name: "built", inputs: x, targets: .values(y))
        return ModelObjective(model: graph, data: DatasetPair(train: set, test: set), batchSize: 4)
    }

    /// ⟨∇L, v⟩ against loss differences, and H·v against gradient differences.
    static func expectDerivativesMatch(_ objective: ModelObjective<Double>, _ label: String) throws {
        let norm = { (a: [Double]) in a.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        let theta = objective.parameters()
        var g = SeededGenerator(seed: 8)
        var v = [Double](repeating: 0, count: theta.count)
        for group in objective.groups where group.isTrainable { for i in group.range { v[i] = g.nextNormal() } }
        let h = 1e-5 * norm(theta) / norm(v)
        let (_, gradient, product) = try objective.hessianVectorProduct(.train, v)
        func at(_ s: Double) throws -> (Double, [Double]) {
            objective.setParameters(zip(theta, v).map { $0 + s * $1 })
            defer { objective.setParameters(theta) }
            let (value, grad) = try objective.gradient(.train)
            return (value.loss, grad)
        }
        let (lossPlus, gradPlus) = try at(h), (lossMinus, gradMinus) = try at(-h)
        let directional = zip(gradient, v).reduce(0) { $0 + $1.0 * $1.1 }
        let numericDirectional = (lossPlus - lossMinus) / (2 * h)
        #expect(abs(directional - numericDirectional) <= 1e-6 * abs(directional), "\(label): ⟨∇L, v⟩ \(directional) vs \(numericDirectional)")
        let numeric = zip(gradPlus, gradMinus).map { ($0 - $1) / (2 * h) }
        let error = norm(zip(product, numeric).map { $0 - $1 }) / norm(product)
        #expect(norm(product) > 0 && error < 1e-6, "\(label): H·v relative error \(error)")
    }

    @Test func gemmWithTransposesAndScales() throws {
        var b = GraphBuilder(input: [0, 3])
        b.parameter("w", [3, 4]); b.parameter("c", [4])
        b.node("Transpose", ["x"], "xt")
        b.node("Gemm", ["xt", "w", "c"], "y", [.int("transA", 1), .float("alpha", 0.7), .float("beta", 1.3)])
        b.node("Tanh", ["y"], "z")
        // z [N, 4] times wᵀ [4, 3] plus c [4]: c does not broadcast to [N, 3], and the check on
        // zeros says so before any work.
        b.node("Gemm", ["z", "w", "c"], "out", [.int("transB", 1)])
        #expect(throws: ONNXError.self) { try b.model(output: "out") }
        b.graph.node.removeLast()
        b.parameter("v", [2, 4]); b.parameter("d", [1, 2])
        b.node("Gemm", ["z", "v", "d"], "out", [.int("transB", 1)])
        try Self.expectDerivativesMatch(try Self.objective(try b.model(output: "out"), sampleShape: [3]), "gemm")
    }

    @Test func convolutionWithAsymmetricPadsAndPaddedMaxPool() throws {
        var b = GraphBuilder(input: [0, 2, 5, 5])
        b.parameter("conv.weight", [4, 1, 3, 3]); b.parameter("conv.bias", [4])
        b.node("Conv", ["x", "conv.weight", "conv.bias"], "c", [.ints("kernel_shape", [3, 3]), .ints("pads", [1, 0, 0, 2]),
                                                               .ints("strides", [2, 1]), .ints("dilations", [1, 2]), .int("group", 2)])
        b.node("LeakyRelu", ["c"], "r", [.float("alpha", 0.2)])
        b.node("MaxPool", ["r"], "p", [.ints("kernel_shape", [2, 2]), .ints("pads", [1, 1, 0, 0]), .ints("strides", [1, 1])])
        b.node("AveragePool", ["p"], "a", [.ints("kernel_shape", [2, 2]), .ints("pads", [0, 1, 1, 0]), .int("count_include_pad", 1)])
        b.node("Flatten", ["a"], "out")
        let model = try b.model(output: "out")
        #expect(model.parameters.map(\.role) == [.weight, .bias])
        try Self.expectDerivativesMatch(try Self.objective(model, sampleShape: [2, 5, 5]), "conv")
    }

    @Test func broadcastArithmeticAndSoftmaxOverTheBatch() throws {
        var b = GraphBuilder(input: [0, 5])
        b.parameter("m", [5]); b.parameter("s", [1, 5], offset: 1)
        b.node("Constant", [], "one", [])
        b.graph.node[b.graph.node.count - 1].attribute = { var a = Onnx_AttributeProto(); a.name = "value_float"; a.type = .float; a.f = 1; return [a] }()
        b.node("Sub", ["x", "m"], "centred")
        b.node("Mul", ["s", "s"], "s2")
        b.node("Add", ["s2", "one"], "denominator")
        b.node("Div", ["centred", "denominator"], "q")
        b.node("Sigmoid", ["q"], "sq")
        b.node("Div", ["sq", "s"], "ratio")
        b.node("Softmax", ["ratio"], "soft", [.int("axis", 0)])
        b.node("Mul", ["soft", "q"], "out")
        try Self.expectDerivativesMatch(try Self.objective(try b.model(output: "out"), sampleShape: [5]), "arithmetic")
    }

    @Test func reshapingOperatorsPassGradientsThrough() throws {
        var b = GraphBuilder(input: [0, 6])
        b.parameter("w", [2, 6]); b.integers("axes", [1]); b.integers("shape", [-1, 3, 4])
        b.node("Unsqueeze", ["x", "axes"], "u")
        b.node("Squeeze", ["u", "axes"], "sq")
        b.node("Identity", ["sq"], "id")
        b.node("Dropout", ["id"], "dr")
        b.node("Cast", ["dr"], "cast", [.int("to", 1)])
        b.node("Erf", ["cast"], "e")
        b.node("Concat", ["cast", "e"], "cat", [.int("axis", 1)])
        b.node("Reshape", ["cat", "shape"], "r")
        b.node("Transpose", ["r"], "t", [.ints("perm", [0, 2, 1])])
        b.node("Flatten", ["t"], "f")
        b.node("Gelu", ["f"], "gelu")
        b.node("Reshape", ["gelu", "shape"], "back")
        b.node("LogSoftmax", ["back"], "ls", [.int("axis", 2)])
        b.node("Flatten", ["ls"], "flat")
        b.node("MatMul", ["flat", "wide"], "out")
        #expect(throws: ONNXError.self) { try b.model(output: "out") }   // "wide" is never defined
        b.graph.node.removeLast()
        b.parameter("wide", [12, 2])
        b.node("MatMul", ["flat", "wide"], "mm")
        b.node("Mul", ["mm", "mm"], "out")
        try Self.expectDerivativesMatch(try Self.objective(try b.model(output: "out"), sampleShape: [6]), "reshaping")
    }

    @Test func softmaxBeforeOperatorSet13CoercesToAMatrix() throws {
        // opset 11: Softmax(axis 1) of [N, 2, 3] normalizes over all 6 values of each sample.
        var b = GraphBuilder(input: [0, 2, 3], opset: 11)
        b.parameter("k", [1, 2, 3])
        b.node("Mul", ["x", "k"], "xk")
        b.node("Softmax", ["xk"], "out", [.int("axis", 1)])
        let model = try b.model(output: "out")
        let graph: ONNXGraph<Double> = model.makeGraph()
        let y = graph.forward(Tensor(shape: [1, 2, 3], scalars: [1, 2, 3, 4, 5, 6]))
        #expect(abs(y.scalars.reduce(0, +) - 1) < 1e-12)
        try Self.expectDerivativesMatch(try Self.objective(model, sampleShape: [2, 3]), "softmax opset 11")
        // From 13 on, along the axis alone: each of the three columns sums to 1.
        b.opset = 13
        let y13 = (try b.model(output: "out").makeGraph(Double.self)).forward(Tensor(shape: [1, 2, 3], scalars: [1, 2, 3, 4, 5, 6]))
        #expect(abs(y13.scalars.reduce(0, +) - 3) < 1e-12)
    }

    @Test func integerShapeArithmeticFollowsTheBatch() throws {
        // Shape → Gather → Mul → Concat → Reshape, as exporters write view(2·N, -1), then a
        // transpose and view(N, -1) back: the output permutes x in a way fixed by the batch size.
        var b = GraphBuilder(input: [0, 4])
        b.integers("zero", [0]); b.integers("two", [2]); b.integers("minus", [-1])
        b.node("Shape", ["x"], "shape")
        b.node("Gather", ["shape", "zero"], "n")
        b.node("Mul", ["n", "two"], "n2")
        b.node("Concat", ["n2", "minus"], "target", [.int("axis", 0)])
        b.node("Reshape", ["x", "target"], "r")
        b.node("Transpose", ["r"], "t")
        b.node("Concat", ["n", "minus"], "rows", [.int("axis", 0)])
        b.node("Reshape", ["t", "rows"], "out")
        let graph: ONNXGraph<Double> = try b.model(output: "out").makeGraph()
        for n in [1, 3] {
            let x = Tensor<Double>(shape: [n, 4], scalars: (0..<(4 * n)).map(Double.init))
            let y = graph.forward(x)
            #expect(y.shape == [n, 4])
            // r[2i + a][c] = x[i][2a + c]; t = rᵀ; y is t read row by row.
            var expected = [Double](repeating: 0, count: 4 * n)
            for i in 0..<n { for a in 0..<2 { for c in 0..<2 { expected[c * 2 * n + 2 * i + a] = x[flat: i * 4 + 2 * a + c] } } }
            #expect(y.scalars == expected)
        }
    }

    @Test func initializersSharedThroughIdentityBecomeParametersOfTheirOwn() throws {
        // What torch.onnx.export writes for a fresh BatchNorm: running_var equal to weight (all
        // ones) is stored once and passed on by an Identity named after it.
        var b = GraphBuilder(input: [0, 3, 2, 2])
        b.parameter("bn.weight", [3], scale: 0, offset: 1); b.parameter("bn.bias", [3], scale: 0)
        b.node("Identity", ["bn.weight"], "bn.running_var")
        b.node("Identity", ["bn.bias"], "bn.running_mean")
        b.node("BatchNormalization", ["x", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"], "y")
        b.node("Flatten", ["y"], "out")
        let model = try b.model(output: "out")
        #expect(model.parameters.map(\.name) == ["bn.weight", "bn.bias", "bn.running_var", "bn.running_mean"])
        #expect(model.parameters.map(\.role) == [.normWeight, .normBias, .runningVariance, .runningMean])
        // Moving the scale leaves the running variance where it was.
        let graph: ONNXGraph<Double> = model.makeGraph()
        graph.parameters[0].value = Tensor(repeating: 2, shape: [3])
        let x = Tensor<Double>(repeating: 1, shape: [1, 3, 2, 2])
        #expect(graph.forward(x).scalars.allSatisfy { abs($0 - 2 / (1 + 1e-5).squareRoot()) < 1e-12 })
    }

    @Test func anOutputWithoutTheBatchAxisIsRefused() throws {
        // Reshape to a fixed [2, -1], as a graph exported with its batch size frozen: refused at
        // import, since its output rows do not follow the batch.
        var b = GraphBuilder(input: [0, 4])
        b.integers("frozen", [2, -1])
        b.node("Reshape", ["x", "frozen"], "out")
        #expect(throws: ONNXError.self) { try b.model(output: "out") }
    }
}
