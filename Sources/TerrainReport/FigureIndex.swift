import Foundation
import TerrainIO

/// An HTML page that shows figures with their captions and links to every format: what
/// `terrain plot --index` writes as `index.html` (one untitled section), and the demo's page
/// (one section per model, its animation, and links to the interactive viewer).
public enum FigureIndex {
    public struct Entry {
        public var name: String
        public var caption: String
        /// Files of this figure, relative to the page, PNG first. The picture shown is the first
        /// PNG, else the first GIF (an animation), else the first SVG.
        public var files: [String]

        public init(name: String, caption: String, files: [String]) {
            self.name = name; self.caption = caption; self.files = files
        }
    }

    /// A titled group of figures, e.g. one model's. An untitled section is a bare grid.
    public struct Section {
        public var title: String?
        /// A sentence under the title: what the figures show and of what.
        public var note: String?
        public var entries: [Entry]

        public init(title: String? = nil, note: String? = nil, entries: [Entry]) {
            self.title = title; self.note = note; self.entries = entries
        }
    }

    /// A link at the top of the page (to the interactive viewer, say), relative to the page.
    public struct Link {
        public var text: String
        public var target: String

        public init(text: String, target: String) { self.text = text; self.target = target }
    }

    /// One untitled grid of figures.
    public static func write(_ entries: [Entry], title: String, to path: String) throws {
        try write(sections: [Section(entries: entries)], title: title, to: path)
    }

    /// Sections of figures under one title. With two or more titled sections the page starts
    /// with a line of links to each, so that the last one is one click away.
    public static func write(sections: [Section], title: String, links: [Link] = [], to path: String) throws {
        try AtomicFile.write(Data(html(sections: sections, title: title, links: links).utf8), to: URL(fileURLWithPath: path))
    }

    static func html(sections: [Section], title: String, links: [Link]) -> String {
        let escape = escapeHTML
        let titled = sections.filter { $0.title != nil }
        var html = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>
        body { font-family: "DejaVu Sans", sans-serif; margin: 2em; color: #222; }
        .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 1.5em; }
        figure { margin: 0; border: 1px solid #ddd; padding: 0.8em; background: #fff; }
        img { width: 100%; height: auto; }
        figcaption { font-size: 0.9em; margin-top: 0.4em; }
        figcaption a { margin-left: 0.5em; }
        nav { font-size: 1.05em; margin-bottom: 1.5em; }
        nav a { margin-right: 1.2em; }
        h2 { margin-top: 1.6em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
        </style></head><body>
        <h1>\(escape(title))</h1>

        """
        var navigation = links.map { "<a href=\"\(escape($0.target))\"><b>\(escape($0.text))</b></a>" }
        if titled.count >= 2 {
            navigation += sections.indices.compactMap { k in
                sections[k].title.map { "<a href=\"#section-\(k + 1)\">\(escape($0))</a>" }
            }
        }
        if !navigation.isEmpty { html += "<nav>" + navigation.joined(separator: " ") + "</nav>\n" }
        for (k, section) in sections.enumerated() {
            if let title = section.title { html += "<h2 id=\"section-\(k + 1)\">\(escape(title))</h2>\n" }
            if let note = section.note { html += "<p>\(escape(note))</p>\n" }
            html += "<div class=\"grid\">\n"
            for e in section.entries {
                let image = e.files.first { $0.hasSuffix(".png") } ?? e.files.first { $0.hasSuffix(".gif") }
                    ?? e.files.first { $0.hasSuffix(".svg") }
                html += "<figure id=\"\(escape(e.name))\">"
                if let image { html += "<a href=\"\(escape(image))\"><img src=\"\(escape(image))\" alt=\"\(escape(e.caption))\"></a>" }
                html += "<figcaption><b>\(escape(e.name))</b>: \(escape(e.caption))"
                for f in e.files { html += "<a href=\"\(escape(f))\">\(escape((f as NSString).pathExtension.uppercased()))</a>" }
                html += "</figcaption></figure>\n"
            }
            html += "</div>\n"
        }
        html += "</body></html>\n"
        return html
    }
}
