/// A plane of parameters θ + α·x + β·y (a line when y is nil): what a surface evaluates.
/// Its identity names it, so an objective can keep work that every point of the plane shares.
public final class ObjectivePlane {
    public let center: [Double]
    public let x: [Double]
    public let y: [Double]?

    public init(center: [Double], x: [Double], y: [Double]?) {
        self.center = center
        self.x = x
        self.y = y
    }
}

/// An objective that evaluates the points of one plane faster when it knows the plane: a model
/// whose first layer is linear in its weights computes that layer's output at three weight sets
/// once and combines them at every point (`CompiledEvaluation`'s planes).
public protocol PlaneEvaluating: Objective {
    /// Sets the parameters to `values`, which are `plane`'s point (α, β), and remembers where they
    /// lie. `setParameters` forgets it.
    func setParameters(_ values: [Double], on plane: ObjectivePlane, alpha: Double, beta: Double)
}
