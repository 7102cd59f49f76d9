import Foundation
import TerrainIO

/// An HTML page that shows a folder's figures with their captions and links to every format:
/// what `terrain plot --index` and the demo write as `index.html`.
public enum FigureIndex {
    public struct Entry {
        public var name: String
        public var caption: String
        /// Files of this figure, relative to the page, PNG first.
        public var files: [String]

        public init(name: String, caption: String, files: [String]) {
            self.name = name; self.caption = caption; self.files = files
        }
    }

    public static func write(_ entries: [Entry], title: String, to path: String) throws {
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
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
        </style></head><body>
        <h1>\(escape(title))</h1>
        <div class="grid">

        """
        for e in entries {
            let image = e.files.first { $0.hasSuffix(".png") } ?? e.files.first { $0.hasSuffix(".svg") }
            html += "<figure id=\"\(escape(e.name))\">"
            if let image { html += "<a href=\"\(escape(image))\"><img src=\"\(escape(image))\" alt=\"\(escape(e.caption))\"></a>" }
            html += "<figcaption><b>\(escape(e.name))</b>: \(escape(e.caption))"
            for f in e.files { html += "<a href=\"\(escape(f))\">\(escape((f as NSString).pathExtension.uppercased()))</a>" }
            html += "</figcaption></figure>\n"
        }
        html += "</div></body></html>\n"
        try AtomicFile.write(Data(html.utf8), to: URL(fileURLWithPath: path))
    }
}
