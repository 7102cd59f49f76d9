import Testing
import Foundation
import TerrainLandscape
import TerrainPlot
import TerrainReport

/// A 1D ensemble (`terrain surface --repeats`): its curves are the members' mean with a ±1
/// standard deviation band, in the figures and in the viewer.
@Suite("Ensemble figures")
struct EnsembleFigureTests {
    /// Three members of a 1D surface, member 0 as the file's own datasets.
    func ensemble() -> SurfaceFile {
        let x = (0..<11).map { -1 + 2 * Double($0) / 10 }
        let grid = SurfaceGrid(x: x)
        let members: [[SurfaceQuantity: [Double]]] = (0..<3).map { k in
            let loss = x.map { 0.5 + (1 + 0.3 * Double(k)) * $0 * $0 }
            return [.trainLoss: loss, .trainAccuracy: loss.map { 100 / (1 + $0) }]
        }
        var file = SurfaceFile(grid: grid, values: members[0], directionFile: "")
        file.groups[SurfaceRepeats.groupName] = SurfaceRepeats(kind: .directions, seeds: [1, 3, 5], members: members, grid: grid).storedGroup
        return file
    }

    @Test func theCurvesAreTheMeanWithItsBand() throws {
        let file = ensemble()
        let figures = try SurfaceFigures.figures(for: file, name: "c", kinds: [.curve], style: FigureStyle())
        #expect(figures.map(\.name) == ["c_1d", "c_1d_log"])
        let chart = try #require(figures[0].figure.panels.first as? LineChart)
        let statistics = try #require(file.repeats?.statistics[.trainLoss])
        #expect(chart.bands.count == 2)
        #expect(chart.bands[0].upper == zip(statistics.mean, statistics.standardDeviation).map(+))
        #expect(chart.bands[0].lower == zip(statistics.mean, statistics.standardDeviation).map(-))
        #expect(chart.series.filter { !$0.label.isEmpty }.map(\.label) == ["train loss (mean)", "train accuracy (mean)"])
        #expect(chart.series.filter { $0.label.isEmpty }.count == 6, "each member of each quantity, light")
        let canvas = try figures[0].figure.render(scale: 1)
        _ = canvas
    }

    @Test func theViewerShadesTheBandOfA1DEnsembleOnly() throws {
        let frame = ViewerFrame(file: ensemble(), name: "c")
        let band = try #require(frame.bands["train_loss"])
        let statistics = try #require(ensemble().repeats?.statistics[.trainLoss])
        #expect(band.upper == zip(statistics.mean, statistics.standardDeviation).map(+))
        var plain = ensemble()
        plain.groups = [:]
        #expect(ViewerFrame(file: plain, name: "c").bands.isEmpty)
    }
}
