import TerrainLandscape
import TerrainObjectives

extension SurfaceRunner {
    /// The runner of a request's grid: `options` as the request set them for its file, plus what
    /// every request shares: the metadata's attributes, a progress bar where `progress` shows one
    /// (on the writing rank only) and the processes of this run (`Distributed.world`).
    static func forRequest(computation: any GridComputation, path: String, fingerprint: String,
                           options: Options, attributes: FileAttributes, progress: RequestProgress) -> SurfaceRunner {
        var options = options
        options.textAttributes = attributes.text
        options.numberAttributes = attributes.numbers
        options.showProgress = progress.showsBar && Distributed.world.isWriter
        options.communicator = Distributed.world
        return SurfaceRunner(computation: computation, path: path, fingerprint: fingerprint, options: options)
    }

    /// Whether a request's file over `objective` stores perplexity beside its losses
    /// (`Options.storesPerplexity`, `SurfacePerplexity`): the objective is a network's
    /// next-token loss. Every grid request (surface, plane, interpolation, trajectory, evolve)
    /// decides it here.
    static func storesPerplexity(for objective: any Objective) -> Bool {
        (objective as? ModelObjective<Float>)?.data.train.targets.isTokens ?? false
    }

    /// The lines a finished run adds: points found damaged and recomputed, points resumed.
    func reportNotes(path: String, progress: RequestProgress) {
        if damagedPoints > 0 { progress.note(SurfaceRunner.damageNote(damagedPoints, path: path)) }
        if resumedPoints > 0 { progress.note("resumed: \(resumedPoints) points were already computed") }
    }
}
