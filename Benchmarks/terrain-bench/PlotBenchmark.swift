import Foundation
import TerrainLandscape
import TerrainPlot
import TerrainReport

/// Seconds to draw every figure of a 251x251 surface (train and test loss and accuracy, a
/// 60-point path) as PNG: contours, filled contours, heat maps, 3D views and the trajectory.
func plotBenchmark() throws {
    let n = 251
    let axis = (0..<n).map { -1 + 2 * Double($0) / Double(n - 1) }
    var loss: [Double] = [], accuracy: [Double] = []
    for y in axis {
        for x in axis {
            // A bowl with ripples and a steep wall, like a loss surface around a minimum.
            let v = 0.2 + 3 * (x * x + 0.6 * y * y) + 0.3 * sin(7 * x) * cos(5 * y) + exp(4 * (x + y - 1.5))
            loss.append(v)
            accuracy.append(100 * exp(-v / 2))
        }
    }
    var file = SurfaceFile(grid: SurfaceGrid(x: axis, y: axis),
                           values: [.trainLoss: loss, .testLoss: loss.map { $0 * 1.05 }, .trainAccuracy: accuracy, .testAccuracy: accuracy],
                           directionFile: "", numberAttributes: ["terrain.pc1_explained": 0.8, "terrain.pc2_explained": 0.1])
    // A spiral into the minimum.
    let steps = (0..<60).map(Double.init)
    let radius = steps.map { 0.9 * exp(-$0 / 25) }
    file.extraDatasets = ["path_x": zip(steps, radius).map { s, r in r * cos(s / 10) },
                          "path_y": zip(steps, radius).map { s, r in r * sin(s / 10) },
                          "path_iteration": steps]
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-plot-bench-\(getpid())").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var count = 0
    let t = try seconds {
        let figures = try SurfaceFigures.figures(for: file, name: "bench", kinds: Set(FigureKind.allCases), style: FigureStyle())
        for f in figures {
            let t = try seconds { try f.figure.write(to: folder + "/" + f.name, formats: [.png]) }
            if ProcessInfo.processInfo.environment["TERRAIN_BENCH_DETAIL"] != nil { warn("\(f.name): \(t) s") }
        }
        count = figures.count
    }
    report("plot_251x251_all_figures_seconds", t, "s (\(count) PNG figures)")
}
