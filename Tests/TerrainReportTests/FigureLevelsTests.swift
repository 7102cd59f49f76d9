import Testing
import Foundation
import TerrainLandscape
import TerrainPlot
import TerrainReport

@Suite("Figure levels")
struct FigureLevelsTests {
    /// A positive bowl (log levels) and one crossing zero (linear levels) over a 21 x 17 grid.
    func grid(offset: Double) -> ScalarGrid {
        let x = (0..<21).map { -1 + 2 * Double($0) / 20 }, y = (0..<17).map { -1 + 2 * Double($0) / 16 }
        return ScalarGrid(x: x, y: y, values: y.flatMap { b in x.map { a in offset + a * a + 2 * b * b } })
    }

    @Test(arguments: [0.05, -0.5])
    func refinementResolvesTheFilledFiguresLevels(offset: Double) {
        let g = grid(offset: offset)
        let log = FigureLevels.isLogarithmic(g.finiteValues, style: FigureStyle())
        #expect(log == (offset > 0))
        let chart = ContourChart(grid: g, style: .filled, logarithmic: log)
        #expect(FigureLevels.refinement().levels(for: g.finiteValues) == chart.effectiveLevels)
        #expect(FigureLevels.levels(over: g.values, count: FigureLevels.filledCount, logarithmic: log, style: FigureStyle())
                == chart.effectiveLevels)
    }

    @Test func aStylesFixedLevelsAreTheRefinementsToo() {
        var style = FigureStyle()
        style.levels = [0.5, 1, 1.5]
        #expect(FigureLevels.refinement(style: style).levels(for: grid(offset: 0.05).finiteValues) == [0.5, 1, 1.5])
        #expect(FigureLevels.refinement(style: style).name != FigureLevels.refinement().name)
    }

    @Test func anAdaptiveSurfacesCaptionsSayItIsInterpolated() throws {
        let g = grid(offset: 0.05)
        var file = SurfaceFile(grid: SurfaceGrid(x: g.x, y: g.y), values: [.trainLoss: g.values], directionFile: "",
                               numberAttributes: ["terrain.adaptive.points_computed": 300, "terrain.adaptive.points_total": 357])
        file.extraDatasets[AdaptiveSurfaceComputation.maskName] = [Double](repeating: 1, count: 357)
        let figures = try SurfaceFigures.figures(for: file, name: "s", kinds: [.contour, .heatmap], style: FigureStyle())
        #expect(!figures.isEmpty)
        for f in figures { #expect(f.caption.hasSuffix("(adaptive: computed 300 of 357 points (16% saved), the rest interpolated)")) }
    }

    /// A sampled surface's figures (2D and 1D) say their tolerance; its error datasets are not drawn.
    @Test func aSampledSurfacesCaptionsSayItWasSampled() throws {
        let g = grid(offset: 0.05)
        var file = SurfaceFile(grid: SurfaceGrid(x: g.x, y: g.y), values: [.trainLoss: g.values], directionFile: "",
                               textAttributes: ["terrain.sampling.tolerance_unit": "contour spacing"],
                               numberAttributes: ["terrain.sampling.tolerance": 0.01])
        file.extraDatasets["train_loss_stderr"] = [Double](repeating: 0.001, count: 357)
        file.extraDatasets["train_loss_samples"] = [Double](repeating: 500, count: 357)
        let figures = try SurfaceFigures.figures(for: file, name: "s", kinds: [.contour, .filled, .heatmap], style: FigureStyle())
        #expect(figures.count == 3 && figures.allSatisfy { !$0.name.contains("stderr") && !$0.name.contains("samples") })
        for f in figures { #expect(f.caption.hasSuffix("(sampled: SE ≤ 1% of the contour spacing)")) }
        let line = SurfaceFile(grid: SurfaceGrid(x: g.x, y: []), values: [.trainLoss: Array(g.values.prefix(21))], directionFile: "",
                               textAttributes: ["terrain.sampling.tolerance_unit": "loss"], numberAttributes: ["terrain.sampling.tolerance": 0.002])
        let curves = try SurfaceFigures.figures(for: line, name: "c", kinds: [.curve], style: FigureStyle())
        #expect(!curves.isEmpty)
        for f in curves { #expect(f.caption.hasSuffix("(sampled: SE ≤ 0.002)")) }
    }
}
