/// What can go wrong reading, importing or running an ONNX model. Every description names the
/// file (and the node, where there is one) and the problem; nothing about a model's content traps.
public enum ONNXError: Error, CustomStringConvertible, Equatable {
    /// The bytes are not an ONNX model (protobuf decoding failed, the file is empty or missing).
    case unreadable(file: String, detail: String)
    /// The model decodes but breaks ONNX's rules (a value used before it is produced, a tensor
    /// whose data does not fit its dimensions, a missing input).
    case malformed(file: String, detail: String)
    /// Operators that Terrain does not evaluate, all of them, named before any work starts.
    case unsupportedOperators(file: String, operators: [String])
    /// An operator set of a domain or version Terrain does not know.
    case unsupportedOpset(file: String, domain: String, version: Int64)
    /// A node whose attributes or inputs ask for something Terrain does not do.
    case unsupportedNode(file: String, node: String, op: String, detail: String)
    /// A node that cannot be evaluated on the inputs it gets (shapes that do not fit).
    case evaluation(file: String, node: String, op: String, detail: String)
    /// The model and the data disagree (sample shape, number of outputs).
    case dataMismatch(file: String, detail: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let detail):
            "cannot read ONNX model \(file): \(detail)"
        case .malformed(let file, let detail):
            "ONNX model \(file) is malformed: \(detail)"
        case .unsupportedOperators(let file, let operators):
            "ONNX model \(file) uses operators Terrain does not support: \(operators.joined(separator: ", ")) "
                + "(supported: \(ONNXOperatorSet.supported.sorted().joined(separator: ", ")))"
        case .unsupportedOpset(let file, let domain, let version):
            "ONNX model \(file) needs operator set \(domain.isEmpty ? "ai.onnx" : domain) version \(version); Terrain supports "
                + "ai.onnx versions \(ONNXOperatorSet.versions.lowerBound)…\(ONNXOperatorSet.versions.upperBound)"
        case .unsupportedNode(let file, let node, let op, let detail):
            "ONNX model \(file): node '\(node)' (\(op)): \(detail)"
        case .evaluation(let file, let node, let op, let detail):
            "ONNX model \(file): node '\(node)' (\(op)) cannot be evaluated: \(detail)"
        case .dataMismatch(let file, let detail):
            "ONNX model \(file) does not fit the data: \(detail)"
        }
    }
}

/// A node-level failure before the graph adds the file and node names.
struct OperatorFailure: Error {
    var detail: String
    init(_ detail: String) { self.detail = detail }
}
