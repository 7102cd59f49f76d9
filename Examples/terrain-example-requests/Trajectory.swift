import TerrainRequests

/// `terrain trajectory --run RUN --steps 9`
func trajectoryExample(run: String, output: String) throws {
    let request = TrajectoryRequest(runFolder: run, steps: 9, output: output + "/trajectory.h5")
    let surface = try request.run(progress: .standard(quiet: true))
    print("trajectory: \(surface?.grid.pointCount ?? 0) points on the PCA plane in \(request.output); "
          + "path in \(request.projectionOutput)")
}
