import TerrainNN

/// Any function of a parameter vector as an `Objective`: the library user's own loss.
///
///     let bowl = ClosureObjective(groups: .tiling([("w", [2], .weight)]), initial: [0, 0]) { w, _ in
///         ObjectiveValue(loss: w[0] * w[0] + 3 * w[1] * w[1])
///     }
public final class ClosureObjective: Objective {
    public let groups: [ParameterGroup]
    private var values: [Double]
    private let function: ([Double], EvaluationSet) throws -> ObjectiveValue

    public init(groups: [ParameterGroup], initial: [Double],
                _ function: @escaping ([Double], EvaluationSet) throws -> ObjectiveValue) {
        precondition(initial.count == groups.scalarCount, "initial vector does not fit the groups")
        self.groups = groups
        self.values = initial
        self.function = function
    }

    public func parameters() -> [Double] { values }
    public func setParameters(_ values: [Double]) {
        precondition(values.count == groups.scalarCount)
        self.values = values
    }
    public func evaluate(_ set: EvaluationSet) throws -> ObjectiveValue { try function(values, set) }
}
