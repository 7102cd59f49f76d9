import TerrainNN

/// The role of each parameter, inferred from the first node that uses it (looking through
/// Identity nodes, which exporters insert for shared initializers):
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
        var alias: [Int: Int] = [:]   // Identity output → the initializer it passes on
        var roles: [Int: ParameterRole] = [:]
        for node in nodes {
            for (position, id) in node.inputs.enumerated() {
                guard let id, let root = initializers.contains(id) ? id : alias[id] else { continue }
                if node.opType == "Identity" { alias[node.output] = root; continue }
                if roles[root] == nil, let role = role(op: node.opType, position: position) { roles[root] = role }
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
