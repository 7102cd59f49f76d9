import Foundation
import Testing
import TerrainLandscape
@testable import TerrainReport
import TerrainTestSupport

/// The viewer's scripts and style as files (`Sources/TerrainReport/Viewer/Assets`): every file
/// there is embedded and is what the page carries, and every script parses (with node, where it
/// is installed), alone and joined as the page joins them.
@Suite("Viewer assets")
struct ViewerAssetsTests {
    static let folder = packageRoot.appendingPathComponent("Sources/TerrainReport/Viewer/Assets")

    /// Each asset of `ViewerAssets` with the file it comes from.
    static let assets: [(file: String, text: String)] = [
        ("error-capture.js", ViewerAssets.errorCapture), ("common.js", ViewerAssets.common),
        ("surface-3d.js", ViewerAssets.surface3D), ("contour-view.js", ViewerAssets.contourView),
        ("curve-view.js", ViewerAssets.curveView), ("app.js", ViewerAssets.app), ("viewer.css", ViewerAssets.style),
    ]

    static func files(endingIn suffix: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(suffix) }.sorted()
    }

    /// The embedded text is the file's, less its final newline, and no file of the folder is left out.
    @Test func theEmbeddedTextIsTheFiles() throws {
        #expect(try Self.files(endingIn: "").sorted() == Self.assets.map(\.file).sorted())
        for asset in Self.assets {
            let text = try String(contentsOf: Self.folder.appendingPathComponent(asset.file), encoding: .utf8)
            #expect(text.hasSuffix("\n") && !text.hasSuffix("\n\n"), "\(asset.file) ends with one newline")
            #expect(text == asset.text + "\n", "\(asset.file) is embedded as it is")
        }
    }

    /// `node --check` on each script file and on each `<script>` of a page (the page runs
    /// `common.js` … `app.js` as one script, so a name declared twice across files fails there).
    @Test(.enabled(if: Command.exists("node"), "needs node to check the scripts' syntax"))
    func scriptsParse() throws {
        for file in try Self.files(endingIn: ".js") {
            try Command.run("node", ["--check", Self.folder.appendingPathComponent(file).path])
        }
        let x = [-1.0, 0, 1]
        let file = SurfaceFile(grid: SurfaceGrid(x: x, y: x), values: [.trainLoss: (0..<9).map(Double.init)], directionFile: "")
        let html = try ViewerPage.html(for: ViewerPage.document(surfaces: [("a", file)], asFrames: false, title: "t"))
        // The scripts the browser runs: each `<script>` element without a type (the data's has one).
        let scripts = html.components(separatedBy: "<script>").dropFirst().map { $0.components(separatedBy: "</script>")[0] }
        #expect(scripts.count == 2)
        let folder = try TemporaryFolder("viewer-scripts")
        for (k, script) in scripts.enumerated() {
            let path = try folder.write(Data(script.utf8), to: "page-script-\(k).js")
            try Command.run("node", ["--check", path])
        }
    }
}
