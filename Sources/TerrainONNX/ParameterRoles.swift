import TerrainNN
import TerrainTensor

/// The role of each parameter, inferred from the first node that uses it:
///
/// | node | input | role |
/// |---|---|---|
/// | Conv | 1, 2 | weight, bias |
/// | Gemm | 0 or 1, 2 | weight, bias |
/// | MatMul | either | weight |
/// | BatchNormalization | 1, 2, 3, 4 | normWeight, normBias, runningMean, runningVariance |
/// | LayerNormalization | 1, 2 | normWeight, normBias |
/// | Gather | 0 | weight (an embedding table: one row per token) |
/// | anything else | any | weight for ≥ 2 dimensions, else bias |
///
/// Roles decide what the landscape code does with a tensor: filter normalization slices weights
/// along dim 0, `biasbn` leaves biases and BN tensors out, buffers never move with `weights`.
enum ParameterRoles {
    static func infer(nodes: [GraphPlan.Node], initializers: Set<Int>) -> [Int: ParameterRole] {
        var roles: [Int: ParameterRole] = [:]
        for node in nodes {
            for (position, id) in node.inputs.enumerated() {
                guard let id, initializers.contains(id) else { continue }
                if roles[id] == nil, let role = role(op: node.opType, position: position) { roles[id] = role }
            }
        }
        return roles
    }

    private static func role(op: String, position: Int) -> ParameterRole? {
        switch (op, position) {
        case ("Conv", 1), ("Gemm", 0), ("Gemm", 1), ("MatMul", _): .weight
        case ("Conv", 2), ("Gemm", 2): .bias
        case ("BatchNormalization", 1): .normWeight
        case ("BatchNormalization", 2): .normBias
        case ("BatchNormalization", 3): .runningMean
        case ("BatchNormalization", 4): .runningVariance
        case ("LayerNormalization", 1): .normWeight
        case ("LayerNormalization", 2): .normBias
        case ("Gather", 0): .weight
        default: nil
        }
    }

    /// The metadata key by which torch.export's ONNX exporter (`dynamo=True`) marks each input
    /// of the exported program: PARAMETER, BUFFER, CONSTANT_TENSOR, …
    static let exportKindKey = "pkg.torch.export.graph_signature.InputSpec.kind"

    /// Real initializers that are constants, not parameters:
    ///
    /// - those no gradient reaches: every path from them to the output passes an input that
    ///   carries no gradient (`ONNXOperatorSet.gradientInputs`: a mask buffer compared by Equal,
    ///   a tensor whose shape alone is read). A direction must not move them: a perturbed causal
    ///   mask would no longer mask.
    /// - in a graph that marks its parameters (torch.export's `kind` metadata), the unmarked
    ///   ones of at most one element: the scalars the exporter lifted out of the code (the
    ///   attention scale 1/√d, a mask's fill value). Larger unmarked tensors are parameters the
    ///   exporter folded (a transposed weight, `folded_from` a parameter) and stay parameters.
    static func constantInitializers(graph: Onnx_GraphProto, nodes: [GraphPlan.Node], output: Int,
                                     initializers: [(id: Int, name: String, tensor: DecodedTensor)]) -> Set<Int> {
        var reached: Set<Int> = [output]
        for node in nodes.reversed() where reached.contains(node.output) {
            let carrying = ONNXOperatorSet.gradientInputs(node.opType)
            for (position, id) in node.inputs.enumerated() {
                guard let id, carrying?.contains(position) ?? true else { continue }
                reached.insert(id)
            }
        }
        var kinds: [String: String] = [:]
        for info in graph.valueInfo + graph.input {
            if let kind = info.metadataProps.first(where: { $0.key == exportKindKey }) { kinds[info.name] = kind.value }
        }
        var constants: Set<Int> = []
        for (id, name, tensor) in initializers {
            guard case .reals(_, let values) = tensor else { continue }
            if !reached.contains(id) || (!kinds.isEmpty && values.count <= 1 && kinds[name] != "PARAMETER") { constants.insert(id) }
        }
        return constants
    }
}
