import TerrainNN
import TerrainTensor

/// The role of each parameter, inferred from the first node that uses it:
///
/// | node | input | role |
/// |---|---|---|
/// | Conv | 1, 2 | weight, bias |
/// | Gemm | 0 or 1, 2 | weight, bias |
/// | MatMul | 1, an exporter's transposed copy of a weight | transposedWeight |
/// | MatMul | either, any other | weight |
/// | BatchNormalization | 1, 2, 3, 4 | normWeight, normBias, runningMean, runningVariance |
/// | LayerNormalization | 1, 2 | normWeight, normBias |
/// | Gather | 0 | weight (an embedding table: one row per token) |
/// | anything else | any | weight for ≥ 2 dimensions, else bias |
///
/// Roles decide what the landscape code does with a tensor: filter normalization slices weights
/// along dim 0 and transposed weights along dim 1, `biasbn` leaves biases and BN tensors out,
/// buffers never move with `weights`.
///
/// Filters follow the PyTorch model the file was exported from, whose reference normalization
/// slices each tensor as PyTorch holds it. An `nn.Linear` on a [B, T, E] sequence is exported as
/// `MatMul(x, Wᵀ)`: the exporter folds the transpose into a new initializer [in, out] (torch.export
/// marks it `folded_from` the weight, the TorchScript exporter names it `onnx::MatMul_…`), whose
/// columns are the rows of PyTorch's weight, so it is a `transposedWeight`. Where the transpose is
/// left in the graph, `MatMul(x, Transpose(W))`, the initializer is W itself, first used by the
/// Transpose: a `weight`, sliced along dim 0 as PyTorch's. A tensor that is a parameter under its
/// own name used as `x @ W` (a raw `nn.Parameter`) stays a `weight` too: PyTorch holds it as it is.
enum ParameterRoles {
    static func infer(nodes: [GraphPlan.Node], initializers: Set<Int>, transposedCopies: Set<Int> = []) -> [Int: ParameterRole] {
        var roles: [Int: ParameterRole] = [:]
        for node in nodes {
            for (position, id) in node.inputs.enumerated() {
                guard let id, initializers.contains(id) else { continue }
                if roles[id] == nil, let role = role(op: node.opType, position: position, transposedCopy: transposedCopies.contains(id)) {
                    roles[id] = role
                }
            }
        }
        return roles
    }

    private static func role(op: String, position: Int, transposedCopy: Bool) -> ParameterRole? {
        switch (op, position) {
        case ("MatMul", 1) where transposedCopy: .transposedWeight
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

    /// The metadata key by which torch.export's ONNX exporter (onnxscript's optimizer) marks an
    /// initializer it computed from others: the parameters it was folded from.
    static let foldedFromKey = "pkg.onnxscript.optimizer.folded_from"

    /// The prefix of the names the TorchScript exporter gives the constants it folds
    /// (`onnx::MatMul_276` for a Linear's transposed weight); its parameters keep their
    /// `state_dict` names.
    static let foldedNamePrefix = "onnx::"

    /// Real initializers of two dimensions that the exporter computed from a parameter rather than
    /// stored as the model holds it: a `MatMul` right operand among them is the transpose of a
    /// PyTorch [out, in] weight (see the type's comment).
    static func exporterFoldedMatrices(graph: Onnx_GraphProto, initializers: [(id: Int, name: String, tensor: DecodedTensor)]) -> Set<Int> {
        var folded: Set<String> = []
        for info in graph.valueInfo + graph.input where info.metadataProps.contains(where: { $0.key == foldedFromKey }) {
            folded.insert(info.name)
        }
        for tensor in graph.initializer where tensor.metadataProps.contains(where: { $0.key == foldedFromKey }) {
            folded.insert(tensor.name)
        }
        var result: Set<Int> = []
        for (id, name, tensor) in initializers {
            guard case .reals(let shape, _) = tensor, shape.count == 2 else { continue }
            if folded.contains(name) || name.hasPrefix(foldedNamePrefix) { result.insert(id) }
        }
        return result
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
