import TerrainTensor
import TerrainLandscape

/// The loss on the plane through three models: θ = θA + α·(θB − θA) + β·(θC − θA)
/// (`terrain plane`). B and C are read by parameter name into A's layout.
public struct PlaneRequest: DirectionFileBesideOutput {
    /// A (the origin), B (α = 1) and C (β = 1).
    public var a: ModelSource
    public var b: ModelSource
    public var c: ModelSource
    public var data: EvaluationData
    public var x: Axis
    public var y: Axis
    /// states: BN running statistics move too; weights: only the trainable tensors.
    public var type: TensorSet
    public var output: String
    public var overwrite: Bool

    public init(a: ModelSource, b: ModelSource, c: ModelSource, data: EvaluationData = EvaluationData(),
                x: Axis = Axis(minimum: -0.5, maximum: 1.5, count: 21), y: Axis = Axis(minimum: -0.5, maximum: 1.5, count: 21),
                type: TensorSet = .states, output: String = "plane.h5", overwrite: Bool = false) {
        self.a = a
        self.b = b
        self.c = c
        self.data = data
        self.x = x
        self.y = y
        self.type = type
        self.output = output
        self.overwrite = overwrite
    }

    @discardableResult
    public func run(progress: RequestProgress = .standard()) throws -> SurfaceFile {
        let loaded = try a.load(on: data, progress: progress)
        let objective = loaded.objective
        let groups = objective.groups
        let thetaA = objective.parameters()
        let thetaB = try b.parameters(groups: groups), thetaC = try c.parameters(groups: groups)
        let dirs = [Direction.between(thetaA, thetaB, groups: groups, type: type),
                    Direction.between(thetaA, thetaC, groups: groups, type: type)]
        let (nameA, nameB, nameC) = (a.label, b.label, c.label)
        try Direction.checkSpan(dirs, names: ["B − A (\(nameB) − \(nameA))", "C − A (\(nameC) − \(nameA))"])
        let grid = SurfaceGrid(x: x.coordinates, y: y.coordinates)
        var origin = DirectionOrigin()
        origin.a = nameA
        origin.b = nameB
        origin.c = nameC
        var metadata = SurfaceMetadata(origin: origin)
        metadata.directionCosine = Direction.cosine(dirs[0], dirs[1])
        return try LandscapeJob(
            objective: objective, spread: data.spread, center: thetaA, directions: dirs, directionType: type, grid: grid, sets: data.sets,
            dataDescription: loaded.dataDescription, out: output, directionPath: directionOutput,
            directionOutput: .write(DirectionMetadata(origin: origin), counters: try a.counterDifferences(to: [b, c])), metadata: metadata,
            announcement: "plane: \(grid.pointCount) points through \(nameA), \(nameB), \(nameC) on \(loaded.dataDescription)"
        ).run(progress: progress, overwrite: overwrite)
    }
}

extension ModelSource {
    /// How files and messages name the model: its path, or "objective".
    var label: String { path ?? "objective" }
}
