import Foundation
import TerrainPlot
import TerrainLandscape

/// Figures of a Hessian's spectrum (`terrain hessian --density`).
public enum SpectrumFigures {
    /// What is added to the density before it is drawn on a log axis, as PyHessian does
    /// (`semilogy(grid, density + 1e-7)`): the Gaussian tails underflow to 0, which a log axis
    /// cannot show, and the floor keeps the curve continuous across the gaps between nodes.
    public static let densityFloor = 1e-7

    /// The spectral density (log scale) against the eigenvalue, PyHessian's look; vertical
    /// markers at the given eigenvalues (the top and bottom ones found by Lanczos).
    public static func density(x: [Double], density: [Double], markers: [Double] = [], title: String? = nil) throws -> Figure {
        guard x.count == density.count, x.count >= 2 else {
            throw PlotError.invalidData("a density needs at least 2 grid points and one value per point (\(x.count) points, \(density.count) values)")
        }
        let y = density.map { $0.isFinite ? max($0, 0) + densityFloor : $0 }
        var chart = LineChart(series: [LineSeries(label: "density", x: x, y: y, color: Color(hex: 0x1f77b4))],
                              title: title, xLabel: "eigenvalue", leftLabel: "density (log scale)", rightLabel: nil,
                              logarithmic: true)
        chart.markers = markers.filter(\.isFinite)
        return Figure(chart)
    }

    /// The density figure of a spectrum file, or nil when the file holds no density.
    public static func density(of file: HessianSpectrumFile, name: String) throws -> NamedFigure? {
        guard let x = file.densityX, let d = file.density, !d.isEmpty else { return nil }
        let figure = try density(x: x, density: d, markers: file.eigenvalues, title: densityTitle(of: file))
        return NamedFigure(name: "\(name)_density", figure: figure,
                           caption: "spectral density of the Hessian by stochastic Lanczos quadrature (log scale); lines: Lanczos eigenvalues. "
                               + summary(of: file))
    }

    /// "Hessian spectral density (500 train samples)"; "…, weight matrices only (…)" when the
    /// Hessian leaves out the tensors of at most one dimension (`--parameters matrices`). Every
    /// tensor is the default, so it is not said.
    public static func densityTitle(of file: HessianSpectrumFile) -> String {
        let which = file.parameters == .leftOut ? ", weight matrices only" : ""
        return "Hessian spectral density\(which) (\(file.samples) \(file.set.rawValue) samples)"
    }

    /// "λmax = 6.107, λmin = −0.2672, |λmin/λmax| = 0.0438, trace = 37.98 ± 3.07": the numbers a
    /// report shows beside the figure.
    public static func summary(of file: HessianSpectrumFile) -> String {
        var parts: [String] = []
        if let v = file.largest { parts.append(String(format: "λmax = %.4g", v)) }
        if let v = file.smallest { parts.append(String(format: "λmin = %.4g", v)) }
        if let r = file.ratio { parts.append(String(format: "|λmin/λmax| = %.3g", abs(r))) }
        if let t = file.trace {
            parts.append(String(format: "trace = %.4g", t) + (file.traceStandardError.map { String(format: " ± %.2g", $0) } ?? ""))
        }
        return parts.joined(separator: ", ") + " (Hessian of the mean loss over \(file.samples) samples)"
    }
}
