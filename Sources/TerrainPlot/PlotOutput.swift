import TerrainIO

/// How TerrainPlot writes its files (pages, animations): through `AtomicFile`, the one atomic
/// write path (a temporary file beside the target, synced, then renamed), with its failures
/// reported as `PlotError.cannotWrite`.
enum PlotOutput {
    /// `fill` writes the whole file at the temporary path it is given.
    static func write(to path: String, _ fill: (_ temporaryPath: String) throws -> Void) throws {
        do {
            try AtomicFile.write(to: path, fill: fill)
        } catch let error as AtomicFileError {
            throw PlotError.cannotWrite(path, "\(error.step) failed: \(error.reason)")
        }
    }
}
