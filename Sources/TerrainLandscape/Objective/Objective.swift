import TerrainTensor

/// What the landscape algorithms see of a model: named parameter tensors laid end to end in one
/// flat vector, a way to set that vector, and the loss (and accuracy) it gives.
///
/// Terrain's own models implement it (`ModelObjective`), so does a Swift closure
/// (`ClosureObjective`), and later an imported ONNX graph. Nothing in the landscape code knows
/// about layers.
public protocol Objective: AnyObject {
    /// Every parameter tensor, trainable or buffer, in order; together they tile the flat vector.
    var groups: [ParameterGroup] { get }
    /// The current values of all groups, concatenated in order.
    func parameters() -> [Double]
    /// Sets all groups from a vector laid out as `parameters()`.
    func setParameters(_ values: [Double])
    /// Mean loss (and accuracy in percent, for classification) on one evaluation set.
    func evaluate(_ set: EvaluationSet) throws -> ObjectiveValue
    /// An independent copy (same groups, same data, its own parameter storage) that another
    /// thread may set and evaluate while this one is in use; nil when the objective cannot be
    /// copied. Grid points are spread over threads only for objectives that can.
    func replica() throws -> Objective?
}

extension Objective {
    public func replica() throws -> Objective? { nil }
}

/// An objective that also gives the gradient of its loss, for the curvature methods
/// (Hessian-vector products, gradient norms along a path).
public protocol DifferentiableObjective: Objective {
    /// The loss (as `evaluate`) and ∂loss/∂θ at the current parameters, laid out as
    /// `parameters()`; entries of buffers (BN running statistics) are zero.
    func gradient(_ set: EvaluationSet) throws -> (value: ObjectiveValue, gradient: [Double])
}

/// An objective that also applies the Hessian of its loss to a vector, exactly (Pearlmutter's
/// R-operator, no finite differences): what `HessianOperator` hands to the curvature algorithms.
public protocol TwiceDifferentiableObjective: DifferentiableObjective {
    /// The loss and gradient (as `gradient`) and H·v, H the Hessian of the same per-sample mean
    /// loss with respect to the trainable values, at the current parameters. v and the results
    /// are laid out as `parameters()`; v's entries on buffers are ignored (buffers do not move),
    /// and the gradient's and product's entries there are zero.
    func hessianVectorProduct(_ set: EvaluationSet, _ v: [Double]) throws
        -> (value: ObjectiveValue, gradient: [Double], product: [Double])

    /// H·v and the loss without the gradient, for the curvature algorithms: an implementation
    /// may skip the gradient's own work. By default, `hessianVectorProduct` without its gradient.
    func hessianVectorProduct(_ set: EvaluationSet, applyingTo v: [Double]) throws
        -> (value: ObjectiveValue, product: [Double])

    /// H·v₁, …, H·v_K at the current parameters, in order, and the loss: what
    /// `hessianVectorProduct(_:applyingTo:)` gives for each vector, up to rounding. The passes that
    /// depend on θ alone (the forward pass and the loss gradient's backward pass) are the same for
    /// every vector, so an implementation may run them once per data batch and only the tangent
    /// passes per vector. By default one product per vector.
    func hessianVectorProducts(_ set: EvaluationSet, applyingTo vectors: [[Double]]) throws
        -> (value: ObjectiveValue, products: [[Double]])
}

extension TwiceDifferentiableObjective {
    public func hessianVectorProduct(_ set: EvaluationSet, applyingTo v: [Double]) throws
        -> (value: ObjectiveValue, product: [Double]) {
        let result = try hessianVectorProduct(set, v)
        return (result.value, result.product)
    }

    public func hessianVectorProducts(_ set: EvaluationSet, applyingTo vectors: [[Double]]) throws
        -> (value: ObjectiveValue, products: [[Double]]) {
        var value = ObjectiveValue(loss: .nan, accuracy: nil)
        let products = try vectors.map { v in
            let result = try hessianVectorProduct(set, applyingTo: v)
            value = result.value
            return result.product
        }
        if vectors.isEmpty { value = try evaluate(set) }
        return (value, products)
    }
}

/// One named tensor of an objective's flat parameter vector.
public struct ParameterGroup: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var role: ParameterRole
    /// Position of the first value in the flat vector.
    public var offset: Int

    public init(name: String, shape: [Int], role: ParameterRole, offset: Int) {
        self.name = name; self.shape = shape; self.role = role; self.offset = offset
    }

    public var count: Int { shape.reduce(1, *) }
    public var range: Range<Int> { offset..<(offset + count) }
    public var isTrainable: Bool { role.isTrainable }
    /// The dimension that numbers the filters: the role's (`ParameterRole.filterDimension`, 1 for
    /// a transposed weight [in, out]) where the tensor has it, else 0.
    public var filterDimension: Int { role.filterDimension < shape.count ? role.filterDimension : 0 }
    /// The number of filters: the size of `filterDimension` (1 for a scalar).
    public var filterCount: Int { shape.isEmpty ? 1 : shape[filterDimension] }
    /// Size of one filter (one output filter, one matrix row, or a transposed weight's column).
    public var filterSize: Int { filterCount > 0 ? count / filterCount : count }

    /// The positions of filter `f` in the flat vector, as runs of consecutive positions in
    /// increasing order. With shape [a₀, …, a_k, …] and k = `filterDimension`, filter f is every
    /// element whose index along k is f: `outer` = a₀⋯a_{k−1} runs of `inner` = a_{k+1}⋯ values,
    /// run o starting at offset + (o·a_k + f)·inner. For k = 0 it is one run, the dim-0 slice.
    public func filterRuns(_ f: Int) -> [Range<Int>] {
        let k = filterDimension
        guard k > 0 else { return [(offset + f * filterSize)..<(offset + (f + 1) * filterSize)] }
        let outer = shape[..<k].reduce(1, *), inner = shape[(k + 1)...].reduce(1, *)
        return (0..<outer).map { o in
            let start = offset + (o * shape[k] + f) * inner
            return start..<(start + inner)
        }
    }
}

/// Which data a surface point is evaluated on.
public enum EvaluationSet: String, Sendable, Codable, CaseIterable {
    case train, test
}

public struct ObjectiveValue: Sendable, Equatable {
    public var loss: Double
    /// Percent correct; nil for regression and for objectives without a notion of accuracy.
    public var accuracy: Double?
    public init(loss: Double, accuracy: Double? = nil) { self.loss = loss; self.accuracy = accuracy }
}

extension Array where Element == ParameterGroup {
    /// Groups laid end to end from offset 0, from (name, shape, role) triples.
    public static func tiling(_ items: [(String, [Int], ParameterRole)]) -> [ParameterGroup] {
        var offset = 0
        return items.map { name, shape, role in
            defer { offset += shape.reduce(1, *) }
            return ParameterGroup(name: name, shape: shape, role: role, offset: offset)
        }
    }

    /// Length of the flat vector.
    public var scalarCount: Int { last.map { $0.offset + $0.count } ?? 0 }
}
