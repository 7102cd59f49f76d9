import Foundation
import SwiftProtobuf
import TerrainNN
import TerrainTensor

/// One parameter of an imported model: a floating-point initializer, under its ONNX name (for
/// `torch.onnx.export`, the `state_dict` name such as `layer1.0.conv1.weight`), with the role
/// inferred from how the graph uses it (see `ParameterRoles`).
public struct ONNXParameter: Sendable, Equatable {
    public var name: String
    public var role: ParameterRole
    public var shape: [Int]
    public var values: [Double]
}

/// An ONNX model read and checked: its graph as a plan of operators, its parameters, its input
/// and output. `makeGraph()` turns it into a Terrain `Module` (`ONNXGraph`).
///
/// Reading checks everything that can be checked before any data is seen, in this order: the
/// protobuf decodes; the default operator set's version is one Terrain knows; every operator is
/// supported (all unsupported ones are named in one error); every node's attributes are valid;
/// values are produced before they are used; initializers decode and fit their dimensions. When
/// the input's sample dimensions are stated, one forward pass on a batch of zeros checks shapes too.
public struct ONNXModel: Sendable {
    /// The name used in messages (the path given).
    public let file: String
    public let opsetVersion: Int64
    /// `producer_name` and `producer_version` (e.g. "pytorch 2.13.0").
    public let producer: String
    public let inputName: String
    /// The input's dimensions as declared: nil where symbolic (the batch, usually).
    public let inputDimensions: [Int?]
    public let outputName: String
    public let parameters: [ONNXParameter]
    let plan: GraphPlan

    public static func read(from url: URL) throws -> ONNXModel {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ONNXError.unreadable(file: url.path, detail: "\(error.localizedDescription)")
        }
        return try ONNXModel(data: data, file: url.path, folder: url.deletingLastPathComponent())
    }

    /// A model from its bytes; `folder` is where external data files are looked for (none: a model
    /// with external data is refused).
    public init(data: Data, file: String, folder: URL? = nil) throws {
        self.file = file
        guard !data.isEmpty else { throw ONNXError.unreadable(file: file, detail: "the file is empty") }
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw ONNXError.unreadable(file: file, detail: "not a protobuf-encoded ONNX model (\(error))")
        }
        guard model.hasGraph, !model.graph.node.isEmpty else {
            throw ONNXError.malformed(file: file, detail: "the model has no graph (no nodes)")
        }
        producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        // Operator sets: the default domain's version decides operator semantics.
        let defaultSets = model.opsetImport.filter { $0.domain.isEmpty || $0.domain == "ai.onnx" }
        guard let opset = defaultSets.map(\.version).max() else {
            throw ONNXError.malformed(file: file, detail: "the model imports no operator set of the default domain (ai.onnx)")
        }
        guard ONNXOperatorSet.versions.contains(opset) else {
            throw ONNXError.unsupportedOpset(file: file, domain: "ai.onnx", version: opset)
        }
        opsetVersion = opset
        var graph = model.graph
        if let folder { try ExternalData.load(into: &graph, folder: folder, file: file) }
        // Every unsupported operator, named at once.
        let unsupported = Set(graph.node.compactMap { node -> String? in
            let domain = node.domain.isEmpty || node.domain == "ai.onnx" ? "" : node.domain
            if !domain.isEmpty { return "\(domain)::\(node.opType)" }
            return ONNXOperatorSet.supported.contains(node.opType) ? nil : (node.opType.isEmpty ? "(unnamed)" : node.opType)
        })
        guard unsupported.isEmpty else { throw ONNXError.unsupportedOperators(file: file, operators: unsupported.sorted()) }

        let built = try GraphPlanBuilder(graph: graph, opset: opset, file: file).build()
        plan = built.plan
        parameters = built.parameters
        inputName = built.inputName
        inputDimensions = built.inputDimensions
        outputName = built.outputName
        // With stated sample dimensions, shapes are checked now on a batch of zeros.
        if let sampleShape = declaredSampleShape {
            _ = try makeGraph(Float.self).outputShape(sampleShape: sampleShape)
        }
    }

    /// The input's sample dimensions (all but the first) when every one is stated.
    public var declaredSampleShape: [Int]? {
        guard inputDimensions.count >= 2 else { return nil }
        let dims = inputDimensions.dropFirst()
        guard dims.allSatisfy({ $0 != nil }) else { return nil }
        return dims.map { $0! }
    }

    /// A module computing the graph, with the initializers as its parameters (fresh storage).
    public func makeGraph<Scalar: TensorScalar>(_ type: Scalar.Type = Scalar.self) -> ONNXGraph<Scalar> {
        ONNXGraph(model: self)
    }
}

/// The graph as `ONNXGraph` runs it: values numbered, nodes in order with their operators.
struct GraphPlan: Sendable {
    struct Node: Sendable {
        var name: String
        var opType: String
        var op: any GraphOperator
        /// Value numbers of the inputs; nil for an omitted optional input.
        var inputs: [Int?]
        var output: Int
    }

    var valueNames: [String]
    var nodes: [Node]
    var input: Int
    var output: Int
    /// The value number of each parameter, in `ONNXModel.parameters`' order.
    var parameterValues: [Int]
    /// Initializers that are not parameters: integers (shapes and axes), and real tensors that
    /// no gradient reaches or that the exporter marks as constants (see `ParameterRoles.constantInitializers`).
    var constants: [(value: Int, tensor: DecodedTensor)]
    /// Values no later node needs, per node: dropped after it runs when nothing is recorded.
    var releaseAfter: [[Int]]
}

/// Turns a `GraphProto` into a `GraphPlan` and the parameter list, checking it.
struct GraphPlanBuilder {
    var graph: Onnx_GraphProto
    var opset: Int64
    var file: String

    struct Result {
        var plan: GraphPlan
        var parameters: [ONNXParameter]
        var inputName: String
        var inputDimensions: [Int?]
        var outputName: String
    }

    func malformed(_ detail: String) -> ONNXError { .malformed(file: file, detail: detail) }

    func build() throws -> Result {
        var ids: [String: Int] = [:]
        var names: [String] = []
        func define(_ name: String) throws -> Int {
            guard ids[name] == nil else { throw malformed("the value '\(name)' is defined twice") }
            ids[name] = names.count
            names.append(name)
            return names.count - 1
        }
        // Initializers: real ones become parameters (if used), integer ones constants.
        var initializers: [(id: Int, name: String, tensor: DecodedTensor)] = []
        for t in graph.initializer {
            guard !t.name.isEmpty else { throw malformed("an initializer has no name") }
            let decoded: DecodedTensor
            do { decoded = try DecodedTensor(t) } catch let f as OperatorFailure { throw malformed(f.detail) }
            initializers.append((try define(t.name), t.name, decoded))
        }
        // The one real input: the graph inputs that are not initializers.
        let inputs = graph.input.filter { ids[$0.name] == nil }
        guard inputs.count == 1, let input = inputs.first else {
            throw ONNXError.unsupportedNode(file: file, node: "(graph)", op: "inputs",
                                            detail: "the graph has \(inputs.count) inputs (\(inputs.map(\.name).joined(separator: ", "))); Terrain evaluates models of one input")
        }
        let inputId = try define(input.name)
        let inputDimensions: [Int?] = input.type.tensorType.shape.dim.map { d in
            guard case .dimValue(let v)? = d.value, v > 0, v <= 1 << 24 else { return nil }
            return Int(v)
        }
        // Nodes, in the order given (ONNX requires a topological order).
        var nodes: [GraphPlan.Node] = []
        var initializerIndex = Dictionary(initializers.enumerated().map { ($0.element.id, $0.offset) }, uniquingKeysWith: { a, _ in a })
        for (k, node) in graph.node.enumerated() {
            let name = node.name.isEmpty ? "\(node.opType)_\(k)" : node.name
            // PyTorch's exporter stores tensors of equal values once and passes the copies on
            // through Identity nodes named after the other state_dict entries (a fresh model's BN
            // running variance equals its scale). Each copy becomes a parameter of its own again,
            // so that moving one tensor does not move the others.
            if node.opType == "Identity", node.input.count == 1, let source = ids[node.input[0]],
               let index = initializerIndex[source], let outputName = node.output.first, !outputName.isEmpty {
                let id = try define(outputName)
                initializerIndex[id] = initializers.count
                initializers.append((id, outputName, initializers[index].tensor))
                continue
            }
            let ops: [any GraphOperator]
            do {
                // Split has one output per part: it runs as one node per part, each computing its own.
                ops = node.opType == "Split" ? try SplitPartOperator.parts(node, opset: opset) : [try ONNXOperatorSet.make(node, opset: opset)]
            } catch let f as OperatorFailure {
                throw ONNXError.unsupportedNode(file: file, node: name, op: node.opType, detail: f.detail)
            }
            let inputIds = try node.input.map { n -> Int? in
                if n.isEmpty { return nil }
                guard let id = ids[n] else {
                    throw malformed("node '\(name)' (\(node.opType)) uses the value '\(n)' before any node produces it")
                }
                return id
            }
            let outputNames = node.opType == "Split" ? Array(node.output) : Array(node.output.prefix(1))
            guard !outputNames.isEmpty, outputNames.allSatisfy({ !$0.isEmpty }) else { throw malformed("node '\(name)' (\(node.opType)) has no output") }
            for (op, outputName) in zip(ops, outputNames) {
                nodes.append(GraphPlan.Node(name: name, opType: node.opType, op: op, inputs: inputIds, output: try define(outputName)))
            }
        }
        // Only the first output of a node is computed (every part of a Split): nothing may use the others.
        let extraOutputs = Set(graph.node.filter { $0.opType != "Split" }.flatMap { $0.output.dropFirst().filter { !$0.isEmpty } })
        for node in graph.node {
            if let used = node.input.first(where: { extraOutputs.contains($0) }) {
                throw ONNXError.unsupportedNode(file: file, node: node.name, op: node.opType,
                                                detail: "uses '\(used)', a secondary output that Terrain does not compute")
            }
        }
        guard let outputName = graph.output.first?.name, let outputId = ids[outputName] else {
            throw malformed("the graph's output \(graph.output.first.map { "'\($0.name)' " } ?? "")is not produced by any node")
        }
        // Parameters: the real initializers that some node uses, in file order, with their roles;
        // the others (integers, and reals that are constants) are constants.
        let used = Set(nodes.flatMap { $0.inputs.compactMap { $0 } })
        let roles = ParameterRoles.infer(nodes: nodes, initializers: Set(initializers.map(\.id)),
                                         transposedCopies: ParameterRoles.exporterFoldedMatrices(
                                             graph: graph, initializers: initializers.map { ($0.id, $0.name, $0.tensor) }))
        let fixed = ParameterRoles.constantInitializers(graph: graph, nodes: nodes, output: outputId,
                                                        initializers: initializers.map { ($0.id, $0.name, $0.tensor) })
        var parameters: [ONNXParameter] = []
        var parameterValues: [Int] = []
        var constants: [(value: Int, tensor: DecodedTensor)] = []
        for (id, name, tensor) in initializers where used.contains(id) {
            if case .reals(let shape, let values) = tensor, !fixed.contains(id) {
                parameters.append(ONNXParameter(name: name, role: roles[id] ?? (shape.count >= 2 ? .weight : .bias), shape: shape, values: values))
                parameterValues.append(id)
            } else {
                constants.append((id, tensor))
            }
        }
        // The last node that reads each value; values are released after it.
        var lastUse = [Int: Int]()
        for (k, node) in nodes.enumerated() { for id in node.inputs.compactMap({ $0 }) { lastUse[id] = k } }
        var releaseAfter = [[Int]](repeating: [], count: nodes.count)
        for (id, k) in lastUse where id != outputId { releaseAfter[k].append(id) }
        let plan = GraphPlan(valueNames: names, nodes: nodes, input: inputId, output: outputId, parameterValues: parameterValues,
                             constants: constants, releaseAfter: releaseAfter)
        return Result(plan: plan, parameters: parameters, inputName: input.name, inputDimensions: inputDimensions, outputName: outputName)
    }
}
