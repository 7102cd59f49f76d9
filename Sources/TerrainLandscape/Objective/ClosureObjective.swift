import TerrainTensor

/// Any function of a parameter vector as an `Objective`: the library user's own loss.
///
///     let bowl = ClosureObjective(groups: .tiling([("w", [2], .weight)]), initial: [0, 0]) { w, _ in
///         ObjectiveValue(loss: w[0] * w[0] + 3 * w[1] * w[1])
///     }
public final class ClosureObjective: DifferentiableObjective {
    public let groups: [ParameterGroup]
    private var values: [Double]
    private let function: ([Double], EvaluationSet) throws -> ObjectiveValue
    private let gradientFunction: (([Double], EvaluationSet) throws -> [Double])?

    /// - Parameter gradient: ∂loss/∂θ, for the curvature methods; without it `gradient(_:)` throws.
    public init(groups: [ParameterGroup], initial: [Double],
                gradient: (([Double], EvaluationSet) throws -> [Double])? = nil,
                _ function: @escaping ([Double], EvaluationSet) throws -> ObjectiveValue) {
        precondition(initial.count == groups.scalarCount, "initial vector does not fit the groups")
        self.groups = groups
        self.values = initial
        self.function = function
        self.gradientFunction = gradient
    }

    public func parameters() -> [Double] { values }
    public func setParameters(_ values: [Double]) {
        precondition(values.count == groups.scalarCount)
        self.values = values
    }
    public func evaluate(_ set: EvaluationSet) throws -> ObjectiveValue { try function(values, set) }

    public func gradient(_ set: EvaluationSet) throws -> (value: ObjectiveValue, gradient: [Double]) {
        guard let gradientFunction else {
            throw LandscapeError.invalidRequest("this objective was made without a gradient function")
        }
        let g = try gradientFunction(values, set)
        guard g.count == groups.scalarCount else {
            throw LandscapeError.invalidRequest("the gradient function returned \(g.count) values for \(groups.scalarCount) parameters")
        }
        return (try function(values, set), g)
    }
}
