import Foundation
import TerrainReport

/// The server's front page: every folder that holds something, runs with their summaries, each
/// surface with a link to the viewer and a box to compare several, figures as thumbnails (each
/// figure once, its PNG, SVG and PDF files linked beside its name), reports and tables as links.
public enum ListingPage {
    public static func html(_ listing: FolderListing, title: String) -> String {
        let runCount = listing.folders.filter { $0.run != nil }.count
        var html = dashboardPageHead(title: title, style: """
        .sub { color: #666; margin: 0 0 14px; }
        .bar { position: sticky; top: 0; background: #f4f5f7; padding: 8px 0; display: flex; gap: 10px; align-items: center; z-index: 1; }
        button { font: inherit; padding: 4px 10px; border: 1px solid #b9bcc6; border-radius: 5px; background: #fff; cursor: pointer; }
        h2 { font-size: 15px; margin: 0 0 4px; font-family: "DejaVu Sans Mono", monospace; }
        .run { margin: 0 0 8px; color: #2f6db5; }
        table { border-collapse: collapse; width: 100%; }
        td { padding: 3px 8px 3px 0; vertical-align: middle; border-top: 1px solid #eee; }
        td.size { color: #777; text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
        td.note { color: #555; }
        a.view { font-weight: 600; }
        .thumbs { display: flex; flex-wrap: wrap; gap: 10px; margin-top: 8px; }
        .thumbs figure { margin: 0; width: 210px; font-size: 12px; }
        .thumbs img { width: 210px; height: 160px; object-fit: contain; border: 1px solid #e2e2e8; background: #fff; }
        .thumbs figcaption { overflow-wrap: anywhere; }
        .empty { color: #666; }
        .run .curves { display: flex; gap: 10px; margin: 6px 0 4px; }
        .run .curves img { width: 280px; height: 215px; border: 1px solid #e2e2e8; background: #fff; }

        """) + """
        </style></head><body>
        <h1>\(escapeHTML(title))</h1>
        <p class="sub">\(listing.folders.count) folder\(listing.folders.count == 1 ? "" : "s") with runs, surfaces, figures or reports\(listing.truncated ? " (the listing stops early: too deep or too many files)" : "")</p>
        <form action="/compare" method="get">
        <div class="bar"><span>tick surfaces, then</span>
        <button type="submit" name="mode" value="side">compare side by side</button>
        <button type="submit" name="mode" value="frames">play as frames</button>\(runCount >= 2 ? "\n<span>· tick runs, then</span> <button type=\"submit\" formaction=\"/runs\">overlay runs</button>" : "")</div>

        """
        if listing.folders.isEmpty { html += "<p class=\"empty\">Nothing to show yet: no run, surface, figure or report here.</p>\n" }
        for folder in listing.folders {
            html += "<section><h2>\(escapeHTML(folder.path.isEmpty ? "./" : folder.path + "/"))</h2>\n"
            if let run = folder.run { html += runBlock(run, path: folder.path) }
            let figures = figureGroups(folder.items)
            let rows = folder.items.filter { $0.kind != .figure }
            let unpictured = figures.filter { $0.picture == nil }
            if !rows.isEmpty || !unpictured.isEmpty {
                html += "<table>\n"
                for item in rows {
                    let file = "/files/" + URLPath.encode(item.path)
                    html += "<tr><td>"
                    if item.isSurface {
                        html += "<input type=\"checkbox\" name=\"f\" value=\"\(escapeHTML(item.path))\" aria-label=\"select \(escapeHTML(item.name))\"> "
                        html += "<a class=\"view\" href=\"/view/\(URLPath.encode(item.path))\">\(escapeHTML(item.name))</a>"
                    } else {
                        html += "<a href=\"\(file)\">\(escapeHTML(item.name))</a>"
                    }
                    html += "</td><td class=\"note\">\(escapeHTML(item.note.isEmpty ? describe(item.kind) : item.note))</td>"
                    html += "<td>\(item.isSurface ? "<a href=\"\(file)\">download</a>" : "")</td>"
                    html += "<td class=\"size\">\(formatSize(item.size))</td></tr>\n"
                }
                // Figures drawn without a PNG: one row each, its formats side by side.
                for group in unpictured {
                    html += "<tr><td>\(escapeHTML(group.name))</td><td class=\"note\">figure</td>"
                    html += "<td>\(formatLinks(group))</td><td class=\"size\"></td></tr>\n"
                }
                html += "</table>\n"
            }
            let pictured = figures.filter { $0.picture != nil }
            if !pictured.isEmpty {
                html += "<div class=\"thumbs\">\n"
                for group in pictured {
                    let file = "/files/" + URLPath.encode(group.picture!.path)
                    html += "<figure><a href=\"\(file)\"><img src=\"\(file)\" alt=\"\(escapeHTML(group.name))\" loading=\"lazy\"></a>"
                    html += "<figcaption>\(escapeHTML(group.name)) \(formatLinks(group))</figcaption></figure>\n"
                }
                html += "</div>\n"
            }
            html += "</section>\n"
        }
        html += "</form></body></html>\n"
        return html
    }

    /// A run's line, with a box to overlay it with others and, once an epoch has finished, its
    /// loss and accuracy curves (drawn by the server from its logs, `/run-figure/`) linking to
    /// its page.
    static func runBlock(_ run: FolderListing.Run, path: String) -> String {
        let page = "/run/" + URLPath.encode(path)
        var html = "<div class=\"run\"><input type=\"checkbox\" name=\"r\" value=\"\(escapeHTML(path))\" aria-label=\"select run \(escapeHTML(path.isEmpty ? "./" : path))\"> "
        html += "run: <a class=\"view\" href=\"\(page)\">\(escapeHTML(run.summary))</a>"
        if run.hasCurves {
            html += "<div class=\"curves\">"
            for figure in ["loss", "accuracy"] {
                html += "<a href=\"\(page)\"><img src=\"/run-figure/\(figure).svg?r=\(URLPath.encode(path))\" alt=\"\(figure) per epoch\" loading=\"lazy\"></a>"
            }
            html += "</div>"
        }
        return html + "</div>\n"
    }

    /// One figure drawn in several formats: its name without the extension, its files in the order
    /// PNG, SVG, PDF, and the PNG shown as its thumbnail.
    struct FigureGroup {
        var name: String
        var files: [FolderListing.Item]
        var picture: FolderListing.Item? { files.first { $0.name.lowercased().hasSuffix(".png") } }
    }

    /// A folder's figures grouped by name, each group once, in the order the names first appear.
    static func figureGroups(_ items: [FolderListing.Item]) -> [FigureGroup] {
        var groups: [FigureGroup] = [], index: [String: Int] = [:]
        let order = ["png": 0, "svg": 1, "pdf": 2]
        for item in items where item.kind == .figure {
            let name = (item.name as NSString).deletingPathExtension
            if let i = index[name] { groups[i].files.append(item) } else {
                index[name] = groups.count
                groups.append(FigureGroup(name: name, files: [item]))
            }
        }
        for i in groups.indices {
            groups[i].files.sort { (order[($0.name as NSString).pathExtension.lowercased()] ?? 3)
                < (order[($1.name as NSString).pathExtension.lowercased()] ?? 3) }
        }
        return groups
    }

    /// "PNG · SVG · PDF", each a link to its file.
    static func formatLinks(_ group: FigureGroup) -> String {
        group.files.map { item in
            let format = (item.name as NSString).pathExtension.uppercased()
            return "<a href=\"/files/\(URLPath.encode(item.path))\" title=\"\(formatSize(item.size))\">\(escapeHTML(format))</a>"
        }.joined(separator: " · ")
    }

    static func describe(_ kind: FileKind) -> String {
        switch kind {
        case .hdf5: "HDF5"
        case .figure: "figure"
        case .report: "report (HTML)"
        case .table: "table"
        case .text: "text"
        case .export: "export"
        }
    }

    static func formatSize(_ bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        if bytes < 1 << 20 { return String(format: "%.1f kB", Double(bytes) / 1024) }
        return String(format: "%.1f MB", Double(bytes) / Double(1 << 20))
    }
}
