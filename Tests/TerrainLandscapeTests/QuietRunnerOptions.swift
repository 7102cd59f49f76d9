import TerrainLandscape

extension SurfaceRunner.Options {
    /// Options for a test's run: no progress bar, then whatever `change` sets.
    static func quiet(_ change: (inout Self) -> Void = { _ in }) -> Self {
        var options = Self()
        options.showProgress = false
        change(&options)
        return options
    }
}
