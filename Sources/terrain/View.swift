import ArgumentParser
import Foundation
import TerrainIO
import TerrainLandscape
import TerrainPlot
import TerrainReport

struct View: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write an interactive viewer: one self-contained HTML page with 3D and contour views of surface files.",
        discussion: """
        The page needs no network and no other file: open it in any browser with WebGL. The 3D \
        view rotates (drag), zooms (wheel), takes a log z axis, a colour map and a z max (clip); \
        the contour view shows the training path when the file holds one and the values under \
        the mouse. Several files are shown side by side on one colour scale (one per data set: a \
        language model's losses beside an image model's get their own); with --frames they \
        become the frames of one panel, stepped through with a slider or the play button.

        Run folders (written by train or the Python package's terrain.Recorder) make a page of \
        the runs instead: each run's last and best numbers, then its loss, accuracy and weight \
        norm curves; several runs are overlaid on the same axes.
        """)

    @Argument(help: "Surface files written by surface, interpolate, plane, trajectory or hessian-map; or run folders.") var surfaces: [String]
    @Option(help: "The page to write (default: beside the first file, NAME.html).") var out: String?
    @Flag(help: "Show the files as the frames of one surface (in the order given), not side by side.") var frames = false
    @Option(help: "Title of the page (default: the file names).") var title: String?
    @Option(help: ArgumentHelp("Frame labels, one per file, separated by '|' (with --frames; default: name, epoch, loss and accuracy at the centre).", valueName: "labels"))
    var labels: String?
    @Option(help: "Quantity shown first: train_loss, train_acc, test_loss, test_acc, train_perplexity and test_perplexity (a language model's), max_eig, min_eig, eig_ratio.") var quantity: String?
    @Option(help: "Colour map shown first: viridis, cividis, magma, diverging.") var colormap: String = "viridis"
    @Option(help: ArgumentHelp("Log z and log colours at first: on, off or auto (on for losses and perplexity when every value is positive).", valueName: "mode"))
    var log: String = "auto"

    func validate() throws {
        if let out { try OptionCheck.outputs(files: [out]) }
    }

    func run() throws {
        try failing {
            guard !surfaces.isEmpty else { throw ValidationError("name at least one surface file or run folder") }
            if surfaces.contains(where: Plot.isFolder) { return try writeRunPage() }
            guard let map = ColorMap.named(colormap) else {
                throw ValidationError("--colormap takes \(ColorMap.all.map(\.name).joined(separator: ", "))")
            }
            let files = try surfaces.map { (Plot.stem(of: $0), try SurfaceFile.read(from: $0, allowingStacks: true)) }
            let pageTitle = title ?? (frames ? "\(files[0].0) … \(files[files.count - 1].0)" : files.map(\.0).joined(separator: ", "))
            var document: ViewerDocument
            if frames {
                let frameLabels = labels.map { $0.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
                if let frameLabels, frameLabels.count != files.count {
                    throw ValidationError("--labels names \(frameLabels.count) frames for \(files.count) files")
                }
                document = ViewerDocument(title: pageTitle, surfaces: [try .stack(name: pageTitle, files: files, labels: frameLabels)])
            } else {
                guard labels == nil else { throw ValidationError("--labels goes with --frames") }
                document = try ViewerPage.document(surfaces: files, asFrames: false, title: pageTitle)
            }
            if let quantity {
                let known = Set(document.surfaces.flatMap { $0.frames.flatMap { $0.quantities.map(\.name) } })
                guard known.contains(quantity) else {
                    throw ValidationError("--quantity \(quantity): the files hold \(known.sorted().joined(separator: ", "))")
                }
                document.quantity = quantity
            }
            document.colorMap = map
            switch log.lowercased() {
            case "auto": document.logarithmic = nil
            case "on", "true", "yes": document.logarithmic = true
            case "off", "false", "no": document.logarithmic = false
            default: throw ValidationError("--log takes on, off or auto")
            }
            let path = out ?? URL(fileURLWithPath: surfaces[0]).deletingPathExtension().appendingPathExtension("html").path
            try ViewerPage.write(document, to: path)
            print("written \(path)")
        }
    }

    /// The page of run folders (`RunPage`): NAME.html beside the first run's folder.
    func writeRunPage() throws {
        let files = surfaces.filter { !Plot.isFolder($0) }
        guard files.isEmpty else {
            throw ValidationError("give run folders or surface files, not both (\(files.joined(separator: ", ")) not a folder)")
        }
        guard !frames, labels == nil, quantity == nil else { throw ValidationError("--frames, --labels and --quantity are for surface files") }
        let runs = try surfaces.map { try RunLog(folder: $0) }
        let pageTitle = title ?? (runs.count == 1 ? "run \(runs[0].name)" : "runs " + RunFigures.distinctlyNamed(runs).map(\.name).joined(separator: ", "))
        let standardized = URL(fileURLWithPath: surfaces[0]).standardizedFileURL
        let path = out ?? standardized.deletingLastPathComponent().appendingPathComponent(standardized.lastPathComponent + ".html").path
        try AtomicFile.write(Data(try RunPage.html(runs, title: pageTitle).utf8), to: URL(fileURLWithPath: path))
        print("written \(path)")
    }
}
