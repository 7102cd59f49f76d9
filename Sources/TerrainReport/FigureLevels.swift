import TerrainLandscape
import TerrainPlot

/// How a loss figure chooses its contour levels: the one place that decides it, for the figures
/// (`SurfaceFigures`, `StackAnimation`) and for the adaptive refinement that must resolve exactly
/// those contours (`refinement(style:)`).
///
/// The style's levels when given (the reference's vmin/vmax/vlevel); otherwise
/// `ContourLevels.automatic` over the values' range, logarithmic when the style says so or, by
/// default, when every finite value is positive.
public enum FigureLevels {
    /// Automatic levels of a filled-contour figure, the finest a loss figure draws.
    public static let filledCount = ContourChart.Style.filled.automaticLevelCount

    /// Whether losses with these finite values are drawn on a log scale.
    public static func isLogarithmic(_ finiteValues: [Double], style: FigureStyle) -> Bool {
        style.logarithmic ?? finiteValues.allSatisfy { $0 > 0 }
    }

    /// The levels a loss figure draws over `values` (their finite ones), `count` of them when automatic.
    public static func levels(over values: [Double], count: Int, logarithmic: Bool, style: FigureStyle) -> [Double] {
        if let fixed = style.levels { return fixed }
        guard !values.isEmpty else { return [] }
        return ContourLevels.automatic(for: ScalarGrid(x: values.indices.map(Double.init), y: [0], values: values),
                                       count: count, logarithmic: logarithmic)
    }

    /// The levels of the filled-contour figure (the finer of the two) as a refinement's rule, so
    /// that an adaptive surface resolves what its figures draw.
    public static func refinement(style: FigureStyle = FigureStyle()) -> RefinementLevels {
        let fixed = style.levels, logarithmic = style.logarithmic
        let name = "figure \(filledCount)" + (fixed.map { " fixed \($0)" } ?? "") + (logarithmic.map { " log \($0)" } ?? "")
        return RefinementLevels(name: name) { values in
            var style = FigureStyle()
            style.levels = fixed
            style.logarithmic = logarithmic
            return levels(over: values, count: filledCount, logarithmic: isLogarithmic(values, style: style), style: style)
        }
    }
}
