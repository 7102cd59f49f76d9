import Foundation
import TerrainLandscape

/// Builds the `SurfaceStackComputation` of a training run for either mode.
public enum LandscapeEvolution {
    /// One surface per frame around its checkpoint: `recipe`'s directions (drawn once) normalized
    /// to each checkpoint's weights. Frame k equals the surface `terrain surface` computes around
    /// `frames[k]` with the same recipe, grid, sets and data, bit for bit.
    public static func riding(objective: Objective, frames: [RunHistory.Entry], recipe: DirectionRecipe,
                              grid: SurfaceGrid, sets: [EvaluationSet]) throws -> SurfaceStackComputation {
        let groups = objective.groups
        let draws = recipe.draws(count: grid.isTwoDimensional ? 2 : 1, groups: groups)
        var layers: [SurfaceStackComputation.Layer] = [], sources: [SurfaceStackComputation.FrameSource] = []
        for (k, entry) in frames.enumerated() {
            let (theta, logged) = try RunHistory.load(entry.path, groups: groups)
            let directions = recipe.normalized(draws, against: theta, groups: groups)
            layers.append(.init(center: theta, xDirection: directions[0], yDirection: directions.count > 1 ? directions[1] : nil))
            sources.append(.init(frame: StackFrame(checkpoint: entry.path, epoch: entry.epoch, iteration: entry.iteration, logged: logged),
                                 weights: theta, layer: k))
        }
        return try SurfaceStackComputation(mode: EvolutionMode.riding.rawValue, objective: objective, layers: layers,
                                           frames: sources, grid: grid, sets: sets)
    }

    /// One surface on the plane `center + α·axes[0] + β·axes[1]` shared by every frame, each
    /// frame at its checkpoint's position `positions[k]` on the plane. With a run's
    /// `TrajectoryPCA` (centre: the final weights) this is the surface `terrain trajectory`
    /// computes, bit for bit.
    public static func fixedPlane(objective: Objective, center: [Double], axes: [Direction], frames: [RunHistory.Entry],
                                  positions: [(x: Double, y: Double)], grid: SurfaceGrid,
                                  sets: [EvaluationSet]) throws -> SurfaceStackComputation {
        guard axes.count == 2, grid.isTwoDimensional else {
            throw LandscapeError.invalidRequest("a fixed plane needs two axes and a 2D grid")
        }
        precondition(positions.count == frames.count, "one position per frame")
        var sources: [SurfaceStackComputation.FrameSource] = []
        for (entry, position) in zip(frames, positions) {
            let (theta, logged) = try RunHistory.load(entry.path, groups: objective.groups)
            sources.append(.init(frame: StackFrame(checkpoint: entry.path, epoch: entry.epoch, iteration: entry.iteration,
                                                   x: position.x, y: position.y, logged: logged),
                                 weights: theta, layer: 0))
        }
        return try SurfaceStackComputation(mode: EvolutionMode.fixedPCA.rawValue, objective: objective,
                                           layers: [.init(center: center, xDirection: axes[0], yDirection: axes[1])],
                                           frames: sources, grid: grid, sets: sets)
    }
}
