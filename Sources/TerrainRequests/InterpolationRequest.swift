import TerrainTensor
import Foundation
import TerrainLandscape

/// The loss along the line θ(α) = (1 − α)·θA + α·θB between two models (α = 0: A, α = 1: B;
/// `terrain interpolate`). The range may extrapolate (e.g. −0.5…1.5).
public struct InterpolationRequest: DirectionFileBesideOutput {
    public var a: ModelSource
    public var b: ModelSource
    public var data: EvaluationData
    /// α's points (linear).
    public var axis: Axis
    /// states: BN running statistics interpolate too; weights: only the trainable tensors.
    public var type: TensorSet
    public var output: String
    public var overwrite: Bool

    public init(a: ModelSource, b: ModelSource, data: EvaluationData = EvaluationData(), axis: Axis = Axis(minimum: 0, maximum: 1, count: 101),
                type: TensorSet = .states, output: String = "interpolation.h5", overwrite: Bool = false) {
        self.a = a
        self.b = b
        self.data = data
        self.axis = axis
        self.type = type
        self.output = output
        self.overwrite = overwrite
    }

    @discardableResult
    public func run(progress: RequestProgress = .standard()) throws -> SurfaceFile {
        let loaded = try a.load(on: data, progress: progress)
        let loadedB = try b.load(on: data, progress: progress)
        let objective = loaded.objective, objectiveB = loadedB.objective
        let (nameA, nameB) = (a.label, b.label)
        guard loaded.architecture == loadedB.architecture, objective.groups == objectiveB.groups else {
            throw RequestError("\(nameA) and \(nameB) are different models (\(loaded.architecture) and \(loadedB.architecture)); interpolation needs the same architecture")
        }
        let thetaA = objective.parameters(), thetaB = objectiveB.parameters()
        let direction = Direction.between(thetaA, thetaB, groups: objective.groups, type: type)
        try Direction.checkSpan([direction], names: ["B − A (\(nameB) − \(nameA))"])
        let grid = SurfaceGrid(x: axis.coordinates)
        var origin = DirectionOrigin()
        origin.from = nameA
        origin.to = nameB
        var metadata = SurfaceMetadata(origin: origin)
        metadata.distance = direction.norm
        return try LandscapeJob(
            objective: objective, spread: data.spread, center: thetaA, directions: [direction], directionType: type, grid: grid,
            sets: data.sets, dataDescription: loaded.dataDescription, out: output, directionPath: directionOutput,
            directionOutput: .write(DirectionMetadata(origin: origin), counters: try a.counterDifferences(to: [b])), metadata: metadata,
            announcement: String(format: "interpolate: %d points, ‖θB − θA‖ = %.4g, on %@", grid.pointCount, direction.norm, loaded.dataDescription)
        ).run(progress: progress, overwrite: overwrite)
    }
}
