import ArgumentParser
import Foundation
import TerrainLandscape
import TerrainPlot
import TerrainReport

struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a surface file's figures: 1D curves, contours, filled contours, heat maps, 3D views, trajectories, curvature maps; or a training run's curves.",
        discussion: """
        With no --kind, every figure that fits the file is drawn. Names follow the reference's: \
        S_train_loss_2dcontour.png, S_train_loss_2dcontourf.png, S_train_loss_2dheat.png, \
        S_train_loss_3dsurface.png, S_1d.png, …

        Several files and --compare draw them side by side on one colour scale (with vs without \
        shortcuts, small vs large batch).

        A run folder (written by train or the Python package's terrain.Recorder) draws the run's \
        own figures: RUN_loss.png and RUN_accuracy.png (train and test per epoch), \
        RUN_weight_norm.png (per epoch) and RUN_weight_norm_iterations.png (per iteration, from \
        iterations.csv), learning-rate drops dashed. Several run folders and --compare overlay \
        them (compare_loss.png, …), each run named by its folder.
        """)

    @Argument(help: "Surface files written by surface, interpolate, plane or trajectory; spectrum files written by hessian --out; or run folders written by train or terrain.Recorder.") var surfaces: [String]
    @Option(help: ArgumentHelp("Figures to draw, comma-separated: \(FigureKind.allCases.map(\.rawValue).joined(separator: ", ")) or all.", valueName: "kinds"))
    var kind: String = "all"
    @Option(help: "Output formats, comma-separated: png, svg, pdf.") var format: String = "png"
    @Option(help: "Folder for the figures (default: beside the first surface file or run folder).") var out: String?
    @Flag(help: "Compare two or more files: 2D side by side on one colour scale, 1D curves overlaid; or two or more runs, overlaid.") var compare = false
    @Option(help: "Quantity compared side by side.") var quantity: SurfaceQuantity = .trainLoss
    @OptionGroup var look: FigureStyleOptions
    @Flag(help: "Also write index.html: every figure with its caption and links to each format.") var index = false
    @Option(help: "Title of the index page.") var indexTitle: String = "Terrain figures"
    @Option(help: "A title over every figure drawn (before a figure's own overall title), naming the model or data they show.") var figureTitle: String?

    func validate() throws {
        if let out { try OptionCheck.outputs(folders: [out]) }
    }

    func run() throws {
        try failing { _ = try draw() }
    }

    /// Draws and writes every figure asked for, and index.html with `--index`; returns the
    /// figures as index entries (file names relative to the folder), for a page of several
    /// folders' figures (the demo's).
    @discardableResult
    func draw() throws -> [FigureIndex.Entry] {
        guard !surfaces.isEmpty else { throw ValidationError("name at least one surface file or run folder") }
        let kinds = try Self.kinds(kind)
        let formats = try format.split(separator: ",").map { try FigureFormat(name: String($0).trimmingCharacters(in: .whitespaces)) }
        guard !formats.isEmpty else { throw ValidationError("--format takes png, svg and/or pdf") }
        let style = try look.figureStyle()
        let folder = out ?? (URL(fileURLWithPath: surfaces[0]).deletingLastPathComponent().path)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var figures = try surfaces.contains(where: Self.isFolder) ? runFigures() : surfaceFigures(kinds: kinds, style: style)
        if let figureTitle {
            for k in figures.indices {
                figures[k].figure.title = figures[k].figure.title.map { "\(figureTitle): \($0)" } ?? figureTitle
            }
        }
        // Every file to be written is checked before the first is (no device or FIFO replaced).
        let targets = figures.flatMap { named in formats.map { (folder as NSString).appendingPathComponent(named.name) + "." + $0.rawValue } }
        try OptionCheck.outputs(files: targets + (index ? [(folder as NSString).appendingPathComponent("index.html")] : []))
        let start = Date()
        var entries: [FigureIndex.Entry] = []
        for named in figures {
            let paths = try named.figure.write(to: (folder as NSString).appendingPathComponent(named.name), formats: formats)
            for path in paths { print("written \(path)") }
            entries.append(FigureIndex.Entry(name: named.name, caption: named.caption,
                                             files: paths.map { ($0 as NSString).lastPathComponent }))
        }
        if index {
            let page = (folder as NSString).appendingPathComponent("index.html")
            try FigureIndex.write(entries, title: indexTitle, to: page)
            print("written \(page)")
        }
        print(String(format: "%d figures in %.2f s", figures.count * formats.count, Date().timeIntervalSince(start)))
        return entries
    }

    /// The figures of surface and spectrum files: every kind asked for that fits each file, or
    /// with --compare the files side by side.
    func surfaceFigures(kinds: Set<FigureKind>, style: FigureStyle) throws -> [NamedFigure] {
        // Surface files, and Hessian spectrum files (written by `terrain hessian --out`).
        var files: [(name: String, file: SurfaceFile)] = []
        var spectra: [(name: String, file: HessianSpectrumFile)] = []
        for path in surfaces {
            do {
                files.append((Self.stem(of: path), try SurfaceFile.read(from: path)))
            } catch {
                guard let spectrum = try? HessianSpectrumFile.read(from: path) else { throw error }
                spectra.append((Self.stem(of: path), spectrum))
            }
        }
        var figures: [NamedFigure] = []
        if kinds.contains(.spectrum) {
            for entry in spectra {
                if let figure = try SpectrumFigures.density(of: entry.file, name: entry.name) { figures.append(figure) }
                print("\(entry.name): \(SpectrumFigures.summary(of: entry.file))")
            }
        }
        if compare {
            guard files.count >= 2 else { throw ValidationError("--compare needs two or more surface files") }
            figures = try SurfaceFigures.comparison(files, quantity: quantity, style: style)
        } else {
            for entry in files {
                figures += try SurfaceFigures.figures(for: entry.file, name: entry.name, kinds: kinds, style: style)
            }
        }
        guard !figures.isEmpty else {
            throw ValidationError("none of the figures asked for (--kind \(kind)) fits \(surfaces.joined(separator: ", "))")
        }
        return figures
    }

    /// A run's own figures (`RunFigures`): loss, accuracy and weight norm per epoch, the weight
    /// norm per iteration, learning-rate drops marked; with --compare the runs overlaid. What a
    /// run did not log is printed as a note.
    func runFigures() throws -> [NamedFigure] {
        let files = surfaces.filter { !Self.isFolder($0) }
        guard files.isEmpty else {
            throw ValidationError("give run folders or surface files, not both (\(files.joined(separator: ", ")) not a folder)")
        }
        guard kind == "all" else { throw ValidationError("--kind chooses among a surface file's figures; a run folder's are all drawn") }
        let runs = RunFigures.distinctlyNamed(try surfaces.map { try RunLog(folder: $0) })
        let results: [RunFigures.Result]
        if compare {
            guard runs.count >= 2 else { throw ValidationError("--compare needs two or more run folders") }
            results = [RunFigures.comparison(runs)]
        } else {
            results = runs.map(RunFigures.figures(for:))
        }
        for note in results.flatMap(\.notes) { print("note: \(note)") }
        let figures = results.flatMap(\.figures)
        guard !figures.isEmpty else {
            throw ValidationError("nothing to draw: \(surfaces.joined(separator: ", ")) logged no loss, accuracy or weight norm")
        }
        return figures
    }

    static func isFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    static func kinds(_ text: String) throws -> Set<FigureKind> {
        var kinds = Set<FigureKind>()
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            if part == "all" { kinds.formUnion(FigureKind.allCases); continue }
            guard let k = FigureKind(rawValue: part) else {
                throw ValidationError("unknown --kind '\(part)': \(FigureKind.allCases.map(\.rawValue).joined(separator: ", ")) or all")
            }
            kinds.insert(k)
        }
        guard !kinds.isEmpty else { throw ValidationError("--kind names no figure") }
        return kinds
    }

    /// "runs/surface.h5" → "surface".
    static func stem(of path: String) -> String {
        (URL(fileURLWithPath: path).lastPathComponent as NSString).deletingPathExtension
    }
}

/// How figures look: levels, log scale, colour map, 3D view (`terrain plot`, `terrain animate`).
struct FigureStyleOptions: ParsableArguments {
    @Option(help: "Lowest contour level (with --vmax and --vlevel: the reference's levels).") var vmin: Double?
    @Option(help: "Contour levels stop below this.") var vmax: Double?
    @Option(help: "Step between contour levels.") var vlevel: Double?
    @Option(help: ArgumentHelp("Log-spaced levels and log colour scale for losses: on, off or auto (on when every loss is positive).", valueName: "mode"))
    var log: String = "auto"
    @Option(help: "Colour map: viridis, cividis, magma, diverging.") var colormap: String = "viridis"
    @Option(help: "3D view azimuth in degrees.") var azimuth: Double?
    @Option(help: "3D view elevation in degrees.") var elevation: Double?
    @Option(help: "3D: clip losses above this value.") var zmax: Double?

    func validate() throws { _ = try figureStyle() }

    func figureStyle() throws -> FigureStyle {
        var style = FigureStyle()
        switch (vmin, vmax, vlevel) {
        case (nil, nil, nil): break
        case let (lo?, hi?, step?):
            guard lo < hi, step > 0 else { throw ValidationError("--vmin must be below --vmax and --vlevel positive") }
            style.levels = try ContourLevels.stepped(from: lo, to: hi, step: step)
        default: throw ValidationError("--vmin, --vmax and --vlevel go together")
        }
        switch log.lowercased() {
        case "auto": style.logarithmic = nil
        case "on", "true", "yes": style.logarithmic = true
        case "off", "false", "no": style.logarithmic = false
        default: throw ValidationError("--log takes on, off or auto")
        }
        guard let map = ColorMap.named(colormap) else {
            throw ValidationError("--colormap takes \(ColorMap.all.map(\.name).joined(separator: ", "))")
        }
        style.colorMap = map
        if let azimuth { try OptionCheck.number(azimuth, "--azimuth", in: -360...360) }
        if let elevation { try OptionCheck.number(elevation, "--elevation", in: -90...90) }
        style.azimuth = azimuth
        style.elevation = elevation
        if let zmax, !(zmax > 0 && zmax.isFinite) { throw ValidationError("--zmax must be a positive finite number, got \(zmax)") }
        style.zClip = zmax
        return style
    }
}
