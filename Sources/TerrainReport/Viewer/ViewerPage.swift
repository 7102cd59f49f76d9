import Foundation
import TerrainIO
import TerrainLandscape

/// The interactive viewer: one self-contained HTML file (every script and style inline, no
/// network) with a WebGL 3D surface (orbit, zoom, log z, colour map, clip), the contour view
/// with the training path and values on hover, a frame slider and play button for stacks, and
/// several surfaces side by side on one colour scale. What `terrain view` writes and
/// `terrain serve` sends.
///
/// The page reports on itself for tests: after drawing it fills `<pre id="terrain-selfcheck">`
/// with JSON (WebGL available, pixels drawn per canvas and their hash, the frame and its label,
/// every console error). The URL's fragment sets the start: `#frame=N`, `#quantity=test_loss`,
/// `#colormap=magma` (joined with `&`); `#selftest` then drives the controls (frame slider, play,
/// colour map, z max, log z, a mouse move over the map) and records the same facts after each.
public enum ViewerPage {
    public static func html(for document: ViewerDocument) throws -> String {
        guard !document.surfaces.isEmpty, document.surfaces.allSatisfy({ !$0.frames.isEmpty }) else {
            throw LandscapeError.invalidRequest("the viewer needs at least one surface with at least one frame")
        }
        let data = try ViewerPayload(document).json()
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escapeHTML(document.title))</title>
        <style>
        \(ViewerAssets.style)
        </style></head><body>
        <script>
        \(ViewerAssets.errorCapture)
        </script>
        <div id="terrain-app"></div>
        <pre id="terrain-selfcheck" hidden></pre>
        <script type="application/json" id="terrain-data">\(data)</script>
        <script>
        \(ViewerAssets.common)
        \(ViewerAssets.surface3D)
        \(ViewerAssets.contourView)
        \(ViewerAssets.curveView)
        \(ViewerAssets.app)
        </script>
        </body></html>

        """
    }

    /// Writes the page atomically.
    public static func write(_ document: ViewerDocument, to path: String) throws {
        try AtomicFile.write(Data(try html(for: document).utf8), to: URL(fileURLWithPath: path))
    }

    /// The page for surface files: side by side on one colour scale, or (`asFrames`) one panel
    /// whose frame slider steps through the files in order. What the demo calls.
    public static func write(surfaces: [(name: String, file: SurfaceFile)], asFrames: Bool = false, title: String, to path: String) throws {
        try write(document(surfaces: surfaces, asFrames: asFrames, title: title), to: path)
    }

    public static func document(surfaces: [(name: String, file: SurfaceFile)], asFrames: Bool, title: String) throws -> ViewerDocument {
        guard !surfaces.isEmpty else { throw LandscapeError.invalidRequest("the viewer needs at least one surface file") }
        if asFrames {
            return ViewerDocument(title: title, surfaces: [try .stack(name: title, files: surfaces)])
        }
        return ViewerDocument(title: title, surfaces: try surfaces.map { try ViewerSurface.panel(file: $0.file, name: $0.name) })
    }
}
