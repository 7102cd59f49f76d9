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
        default: nil
        }
    }
}
