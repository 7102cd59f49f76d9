import Foundation
import TerrainPlot

/// A training run's own figures, from its logs (`RunLog`): train and test loss per epoch, train
/// and test accuracy per epoch, the weight norm ‖θ‖₂ per epoch and per iteration (Li et al.
/// 2018, Fig. 8: with weight decay the norm settles, without it the norm grows and the loss
/// surface's apparent sharpness shrinks with it). Every figure marks the learning-rate drops as
/// vertical dashed lines, in the run's colour when several runs are overlaid.
///
/// What a run lacks is left out with a note (`notes`), never an error: a run without test
/// metrics draws its train curves, one without accuracy (a regression) no accuracy figure, one
/// without iterations.csv no per-iteration figure.
public enum RunFigures {
    /// The figures and the notes on what was left out.
    public struct Result {
        public var figures: [NamedFigure]
        public var notes: [String]
    }

    /// One run's figures, named `<run>_loss`, `<run>_accuracy`, `<run>_weight_norm`,
    /// `<run>_weight_norm_iterations`.
    public static func figures(for run: RunLog) -> Result {
        draw([run], prefix: run.name, titled: run.name)
    }

    /// Several runs overlaid on the same figures, each in its colour and named by its folder
    /// in the legend: `compare_loss`, `compare_accuracy`, `compare_weight_norm`,
    /// `compare_weight_norm_iterations`.
    public static func comparison(_ runs: [RunLog]) -> Result {
        draw(runs, prefix: "compare", titled: nil)
    }

    /// The runs named so that names tell them apart: runs whose folders share a name
    /// (`sgd/seed1`, `adam/seed1`) are called by their parent's name and theirs (`sgd-seed1`,
    /// `adam-seed1`), so that legends differ and one run's figures do not overwrite another's.
    public static func distinctlyNamed(_ runs: [RunLog]) -> [RunLog] {
        let counts = Dictionary(runs.map { ($0.name, 1) }, uniquingKeysWith: +)
        return runs.map { run in
            guard counts[run.name, default: 0] > 1 else { return run }
            var renamed = run
            let parent = URL(fileURLWithPath: run.folder).standardizedFileURL.deletingLastPathComponent().lastPathComponent
            renamed.name = parent.isEmpty || parent == "/" ? run.name : "\(parent)-\(run.name)"
            return renamed
        }
    }

    static let dropLegend = "learning-rate drop"
    /// One run's drops: grey, as the reference lines of the other line charts.
    static let grey = Color(hex: 0x777777)

    static func draw(_ runs: [RunLog], prefix: String, titled runName: String?) -> Result {
        var figures: [NamedFigure] = [], notes: [String] = []
        let overlaid = runs.count > 1 || runName == nil
        func colour(_ k: Int) -> Color { Color.series[k % Color.series.count] }
        // In one run's figures train and test share a colour (test dashed) as in the 1D curves;
        // overlaid runs each take a colour and the legend names the run.
        func title(_ what: String) -> String { runName.map { "\($0): \(what)" } ?? what }

        for run in runs where run.epochs == nil {
            notes.append("\(run.name): no metrics.csv (no epoch finished yet): no per-epoch figures")
        }

        // Per epoch: loss, accuracy, weight norm. A run's train and test curves of one quantity.
        let perEpoch: [(name: String, what: String, train: String, test: String?, axis: String, caption: String)] = [
            ("loss", "loss per epoch", "train_loss", "test_loss", "loss", "train and test loss per epoch"),
            ("accuracy", "accuracy per epoch", "train_acc", "test_acc", "accuracy (%)", "train and test accuracy per epoch"),
            ("weight_norm", "weight norm per epoch", "weight_norm", nil, "weight norm ‖θ‖₂", "the weights' L2 norm at each epoch's end"),
        ]
        for figure in perEpoch {
            var series: [LineSeries] = [], markers: [VerticalMarker] = []
            for (k, run) in runs.enumerated() {
                guard let table = run.epochs else { continue }
                let c = overlaid ? colour(k) : colour(figure.name == "accuracy" ? 1 : figure.name == "weight_norm" ? 2 : 0)
                let train = table.points(x: "epoch", y: figure.train), test = figure.test.flatMap { table.points(x: "epoch", y: $0) }
                // Overlaid runs: the legend names each run once (its first curve); the title says
                // which line is train and which test, so the legend stays small.
                if let p = train {
                    series.append(LineSeries(label: overlaid ? run.name : figure.test == nil ? "" : "train", x: p.x, y: p.y, color: c))
                }
                if let p = test {
                    series.append(LineSeries(label: overlaid ? (train == nil ? run.name : "") : "test", x: p.x, y: p.y, color: c, dashed: true))
                }
                let missing = [figure.train, figure.test].compactMap { $0 }.filter { table.values($0) == nil }
                let drawn = train != nil || test != nil
                if !missing.isEmpty {
                    notes.append("\(run.name): metrics.csv has no \(missing.joined(separator: " or ")): "
                                 + (drawn ? "\(figure.what) drawn without it" : "no \(figure.what)"))
                }
                if drawn { markers += run.rateDropEpochs.map { VerticalMarker(x: $0, color: overlaid ? c : grey) } }
            }
            // Every run's lack is noted above.
            guard !series.isEmpty else { continue }
            let heading = overlaid && figure.test != nil ? "\(figure.what): train solid, test dashed" : title(figure.what)
            var chart = LineChart(series: series, title: heading, xLabel: "epoch", leftLabel: figure.axis, rightLabel: nil)
            chart.coloredMarkers = markers
            chart.markerLegend = markers.isEmpty ? nil : dropLegend
            chart.wholeNumberX = true
            chart.xPadding = 0.5
            figures.append(NamedFigure(name: "\(prefix)_\(figure.name)", figure: Figure(chart),
                                       caption: figure.caption + (markers.isEmpty ? "" : ", learning-rate drops dashed")))
        }

        // Per iteration: the weight norm (Li et al.'s Fig. 8).
        var series: [LineSeries] = [], markers: [VerticalMarker] = []
        for (k, run) in runs.enumerated() {
            let c = overlaid ? colour(k) : colour(2)
            guard let table = run.iterations else {
                notes.append("\(run.name): no iterations.csv: no per-iteration weight norm")
                continue
            }
            guard let p = table.points(x: "iteration", y: "weight_norm") else {
                notes.append("\(run.name): iterations.csv has no weight_norm: no per-iteration weight norm")
                continue
            }
            series.append(LineSeries(label: overlaid ? run.name : "", x: p.x, y: p.y, color: c))
            markers += run.rateDropIterations.map { VerticalMarker(x: $0, color: overlaid ? c : grey) }
        }
        if !series.isEmpty {
            var chart = LineChart(series: series, title: title("weight norm per iteration"), xLabel: "iteration",
                                  leftLabel: "weight norm ‖θ‖₂", rightLabel: nil)
            chart.coloredMarkers = markers
            chart.markerLegend = markers.isEmpty ? nil : dropLegend
            chart.wholeNumberX = true
            figures.append(NamedFigure(name: "\(prefix)_weight_norm_iterations", figure: Figure(chart),
                                       caption: "the weights' L2 norm at every iteration (Li et al.'s Fig. 8)"
                                           + (markers.isEmpty ? "" : ", learning-rate drops dashed")))
        }
        return Result(figures: figures, notes: notes)
    }
}
