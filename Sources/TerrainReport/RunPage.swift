import Foundation
import TerrainPlot

/// A page of training runs, as a TensorBoard user expects to find them: for each run its last
/// and best numbers in one table, then its curves (`RunFigures`: loss, accuracy, weight norm per
/// epoch and per iteration), several runs overlaid on the same axes. One self-contained HTML file:
/// the figures are SVG inside it (data URIs), no script, nothing loaded from anywhere, so
/// `terrain view RUN` writes it and `terrain serve` sends it as it is.
public enum RunPage {
    /// The page of one run (its own figures) or several (overlaid, named by folder). `links`
    /// are shown under the title (the server's way back to its listing).
    public static func html(_ runs: [RunLog], title: String, links: [(text: String, href: String)] = []) throws -> String {
        precondition(!runs.isEmpty, "a run page shows at least one run")
        let named = RunFigures.distinctlyNamed(runs)
        let drawn = named.count == 1 ? RunFigures.figures(for: named[0]) : RunFigures.comparison(named)
        var html = dashboardPageHead(title: title, style: """
        nav { margin: 0 0 12px; } nav a { margin-right: 14px; }
        table { border-collapse: collapse; }
        th, td { padding: 3px 12px 3px 0; text-align: right; border-top: 1px solid #eee; font-variant-numeric: tabular-nums; white-space: nowrap; }
        th { font-weight: 600; border-top: none; } th:first-child, td:first-child, .settings { text-align: left; }
        td.settings { white-space: normal; color: #555; max-width: 420px; }
        .figures { display: flex; flex-wrap: wrap; gap: 12px; }
        .figures figure { margin: 0; }
        .figures img { width: 560px; max-width: 100%; border: 1px solid #e2e2e8; background: #fff; }
        .figures figcaption { color: #555; font-size: 12px; max-width: 560px; }
        .notes { color: #666; font-size: 13px; }

        """) + """
        </style></head><body>
        <h1>\(escapeHTML(title))</h1>

        """
        if !links.isEmpty {
            html += "<nav>" + links.map { "<a href=\"\(escapeHTML($0.href))\">\(escapeHTML($0.text))</a>" }.joined() + "</nav>\n"
        }
        html += "<section>\n" + summaryTable(named) + "</section>\n"
        if drawn.figures.isEmpty {
            html += "<section class=\"notes\">No curves yet: no epoch has finished and there is no iterations.csv.</section>\n"
        } else {
            html += "<section class=\"figures\">\n"
            for figure in drawn.figures {
                let svg = try figure.figure.render(scale: 1).encoded(.svg)
                html += "<figure><img alt=\"\(escapeHTML(figure.name))\" src=\"data:image/svg+xml;base64,\(Data(svg).base64EncodedString())\">"
                html += "<figcaption>\(escapeHTML(figure.caption))</figcaption></figure>\n"
            }
            html += "</section>\n"
        }
        if !drawn.notes.isEmpty {
            html += "<section class=\"notes\">" + drawn.notes.map(escapeHTML).joined(separator: "<br>") + "</section>\n"
        }
        return html + "</body></html>\n"
    }

    /// One figure of one run or several overlaid (`name` as `RunFigures` names them without the
    /// run's prefix: loss, accuracy, weight_norm, weight_norm_iterations), drawn in `format`;
    /// nil when the runs' logs do not make that figure.
    public static func figure(_ name: String, of runs: [RunLog], format: FigureFormat) throws -> [UInt8]? {
        guard !runs.isEmpty else { return nil }
        let named = RunFigures.distinctlyNamed(runs)
        let drawn = named.count == 1 ? RunFigures.figures(for: named[0]) : RunFigures.comparison(named)
        let prefix = named.count == 1 ? named[0].name : "compare"
        guard let figure = drawn.figures.first(where: { $0.name == "\(prefix)_\(name)" }) else { return nil }
        return try figure.figure.render(scale: format == .png ? 2 : 1).encoded(format)
    }

    /// The figure names `figure(_:of:format:)` takes.
    public static let figureNames = ["loss", "accuracy", "weight_norm", "weight_norm_iterations"]

    /// Per run: what it was trained with, epochs done, the last epoch's train and test loss and
    /// accuracy, and the best test accuracy with its epoch (lowest test loss for a run without
    /// accuracy). Settings that all runs share are said once above the table, so that its column
    /// shows what tells the runs apart (SGD vs Adam, with and without weight decay).
    static func summaryTable(_ runs: [RunLog]) -> String {
        func joined(_ settings: [(name: String, value: String)]) -> String {
            settings.map { "\($0.name) \($0.value)" }.joined(separator: " · ")
        }
        let shared = runs.count < 2 ? [] : runs[0].settings.filter { setting in
            runs.allSatisfy { run in run.settings.contains { $0.name == setting.name && $0.value == setting.value } }
        }
        func own(_ run: RunLog) -> [(name: String, value: String)] {
            run.settings.filter { setting in !shared.contains { $0.name == setting.name } }
        }
        var prefix = ""
        if !shared.isEmpty { prefix = "<p>all runs: \(escapeHTML(joined(shared)))</p>\n" }
        let showSettings = runs.contains { !own($0).isEmpty }
        func cell(_ v: Double?, _ format: String) -> String {
            guard let v, v.isFinite else { return "<td>–</td>" }
            return "<td>" + String(format: format, v) + "</td>"
        }
        var html = prefix + "<table><tr><th>run</th>" + (showSettings ? "<th class=\"settings\">trained with</th>" : "") + "<th>epochs</th><th>train loss</th><th>train acc. (%)</th><th>test loss</th><th>test acc. (%)</th><th>best test</th></tr>\n"
        for run in runs {
            html += "<tr><td>\(escapeHTML(run.name))</td>"
            if showSettings { html += "<td class=\"settings\">\(escapeHTML(joined(own(run))))</td>" }
            guard let table = run.epochs, !table.rows.isEmpty else {
                html += "<td>0</td><td colspan=\"5\">no epoch finished yet</td></tr>\n"
                continue
            }
            func last(_ column: String) -> Double? { table.values(column)?.last(where: \.isFinite) }
            html += cell(last("epoch"), "%.0f") + cell(last("train_loss"), "%.4g") + cell(last("train_acc"), "%.2f")
                + cell(last("test_loss"), "%.4g") + cell(last("test_acc"), "%.2f")
            html += "<td>\(escapeHTML(best(table) ?? "–"))</td></tr>\n"
        }
        return html + "</table>\n"
    }

    /// "97.41 % at epoch 12" (highest test accuracy), or "loss 0.213 at epoch 12".
    static func best(_ table: RunLog.Table) -> String? {
        let epochs = table.values("epoch")
        func at(_ k: Int) -> String { epochs.map { String(format: " at epoch %.0f", $0[k]) } ?? "" }
        if let accuracy = table.values("test_acc"),
           let k = accuracy.indices.filter({ accuracy[$0].isFinite }).max(by: { accuracy[$0] < accuracy[$1] }) {
            return String(format: "%.2f %%", accuracy[k]) + at(k)
        }
        if let loss = table.values("test_loss"),
           let k = loss.indices.filter({ loss[$0].isFinite }).min(by: { loss[$0] < loss[$1] }) {
            return String(format: "loss %.4g", loss[k]) + at(k)
        }
        return nil
    }
}
