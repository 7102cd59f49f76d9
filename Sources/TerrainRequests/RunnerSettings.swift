import TerrainLandscape

/// Everything a request sets on a `SurfaceRunner`, in one value: the only place the requests
/// configure a runner (`makeRunner`), so that a change of the runner's configuration is made here.
struct RunnerSettings {
    /// The direction file the surface names (empty: none).
    var directionFile = ""
    var attributes = FileAttributes()
    var extraDatasets: [String: [Double]] = [:]
    /// Files written once the request is accepted (the direction file), so a refused run changes none.
    var writeRequestFiles: (() throws -> Void)?
    var showsBar = true
    var progressLabel = "surface"
    /// A file whose datasets the result keeps (a surface that a curvature map is added to).
    var baseFile: SurfaceFile?
    var acceptsUnmarkedFile = false
    var attributePrefix = "terrain."
    /// How a refused file is described (nil: the runner's own words).
    var otherRequest: String?

    func makeRunner(computation: any GridComputation, path: String, fingerprint: String) -> SurfaceRunner {
        var options = SurfaceRunner.Options()
        options.directionFile = directionFile
        options.textAttributes = attributes.text
        options.numberAttributes = attributes.numbers
        options.extraDatasets = extraDatasets
        options.writeRequestFiles = writeRequestFiles
        options.showProgress = showsBar && Distributed.world.isWriter
        options.progressLabel = progressLabel
        options.baseFile = baseFile
        options.acceptsUnmarkedFile = acceptsUnmarkedFile
        options.attributePrefix = attributePrefix
        if let otherRequest { options.otherRequest = otherRequest }
        options.communicator = Distributed.world
        return SurfaceRunner(computation: computation, path: path, fingerprint: fingerprint, options: options)
    }

    /// The lines a finished run adds: points found damaged and recomputed, points resumed.
    static func notes(after runner: SurfaceRunner, path: String, progress: RequestProgress) {
        if runner.damagedPoints > 0 { progress.note(SurfaceRunner.damageNote(runner.damagedPoints, path: path)) }
        if runner.resumedPoints > 0 { progress.note("resumed: \(runner.resumedPoints) points were already computed") }
    }
}
