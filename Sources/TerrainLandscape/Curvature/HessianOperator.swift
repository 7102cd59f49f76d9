import TerrainTensor

/// The Hessian H of an objective's loss with respect to (some of) its trainable parameters, as a
/// `SymmetricOperator`: each product is one exact Hessian-vector product over a whole evaluation
/// set (`TwiceDifferentiableObjective.hessianVectorProduct`, Pearlmutter's R-operator).
///
/// The operator acts on the selected scalars only: its vectors have length `dimension`, the
/// selected groups laid end to end in the objective's order. `expand` places such a vector into
/// the objective's full flat vector (zeros on every other group, buffers included) and `restrict`
/// takes the selected entries back out, so H here is the principal block of the full Hessian on
/// the selected parameters.
public final class HessianOperator: SymmetricOperator {
    public let objective: any TwiceDifferentiableObjective
    public let set: EvaluationSet
    /// Which trainable parameters the operator covers (the reference's choice between all
    /// weights, `.included`, and the weight matrices alone, `.leftOut`).
    public let oneDimensional: OneDimensionalTensors
    /// The objective's groups the operator covers, in the objective's order.
    public let selectedGroups: [ParameterGroup]
    public let dimension: Int

    public init(objective: any TwiceDifferentiableObjective, set: EvaluationSet = .train, oneDimensional: OneDimensionalTensors = .included) {
        self.objective = objective
        self.set = set
        self.oneDimensional = oneDimensional
        selectedGroups = objective.groups.filter(oneDimensional.coversInHessian)
        dimension = selectedGroups.reduce(0) { $0 + $1.count }
    }

    /// The objective's full flat vector holding v on the selected groups and zeros elsewhere.
    public func expand(_ v: [Double]) -> [Double] {
        precondition(v.count == dimension, "a vector of \(v.count) values for an operator of dimension \(dimension)")
        var full = [Double](repeating: 0, count: objective.groups.scalarCount)
        var offset = 0
        for group in selectedGroups {
            full.replaceSubrange(group.range, with: v[offset..<(offset + group.count)])
            offset += group.count
        }
        return full
    }

    /// The selected entries of a vector laid out as the objective's parameters.
    public func restrict(_ full: [Double]) -> [Double] {
        precondition(full.count == objective.groups.scalarCount,
                     "a vector of \(full.count) values for an objective of \(objective.groups.scalarCount) parameters")
        var v: [Double] = []
        v.reserveCapacity(dimension)
        for group in selectedGroups { v += full[group.range] }
        return v
    }

    /// H·v on the selected parameters (one HVP over the whole set).
    public func apply(_ v: [Double]) throws -> [Double] {
        guard v.count == dimension else {
            throw LandscapeError.invalidRequest("a vector of length \(v.count) for a Hessian operator of dimension \(dimension)")
        }
        return restrict(try objective.hessianVectorProduct(set, applyingTo: expand(v)).product)
    }

    /// H·v for each vector of the block, through the objective's block product
    /// (`TwiceDifferentiableObjective.hessianVectorProducts`), which shares the passes that
    /// depend on θ only.
    public func apply(block: [[Double]]) throws -> [[Double]] {
        if let bad = block.first(where: { $0.count != dimension }) {
            throw LandscapeError.invalidRequest("a vector of length \(bad.count) for a Hessian operator of dimension \(dimension)")
        }
        return try objective.hessianVectorProducts(set, applyingTo: block.map(expand)).products.map(restrict)
    }
}

extension OneDimensionalTensors {
    /// Whether a Hessian over this choice covers the group: a trainable tensor, with at least 2
    /// dimensions unless one-dimensional tensors are included.
    public func coversInHessian(_ group: ParameterGroup) -> Bool {
        group.isTrainable && includes(dimensions: group.shape.count)
    }
}
