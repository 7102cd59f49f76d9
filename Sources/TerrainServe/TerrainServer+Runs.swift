import Foundation
import TerrainPlot
import TerrainReport

/// Training runs on the server, as a TensorBoard user finds them: each run's page with its
/// numbers and curves, several runs overlaid, and the curves alone as images for the listing's
/// thumbnails. Everything is drawn from the run's logs (`RunLog`) when asked, so a run that is
/// still training shows its latest epoch on every reload.
///
///     GET /run/PATH                 one run's page (RunPage)
///     GET /runs?r=A&r=B             runs overlaid on one page
///     GET /run-figure/NAME.svg?r=A[&r=B]   one figure (loss, accuracy, weight_norm,
///                                   weight_norm_iterations) as SVG or .png
extension TerrainServer {
    /// The most runs one page overlays.
    public static let maximumRuns = 12
    /// The largest log (metrics.csv, iterations.csv, run.json) a page reads: a long run's
    /// iterations.csv is a few MB, and a larger one is not a log the server should parse
    /// inside a request.
    public static let maximumLogBytes = 64 << 20

    /// The real path of a run folder named by a path under the served folder, its logs checked
    /// for size: read nothing yet.
    func runFolder(_ relative: String) throws -> String {
        let real = try folder.resolve(relative)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: real, isDirectory: &isFolder), isFolder.boolValue else {
            throw ServeError.notFound("\(relative): not a run folder")
        }
        let logs = ["metrics.csv", "iterations.csv", "run.json"]
        guard logs.contains(where: { FileManager.default.fileExists(atPath: real + "/" + $0) }) else {
            throw ServeError.notFound("\(relative): not a run folder (no metrics.csv or run.json)")
        }
        for log in logs {
            let path = real + "/" + log
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { continue }
            guard ServedFolder.isRegularFile(path) else { throw ServeError.unprocessable("\(relative)/\(log) is not a regular file") }
            let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
            guard size <= Self.maximumLogBytes else {
                throw ServeError.tooLarge("\(relative)/\(log) has \(Self.grouped(size)) bytes; this server reads logs of at most \(Self.grouped(Self.maximumLogBytes))")
            }
        }
        return real
    }

    /// The runs a query names (`r=PATH`, repeated), checked.
    func runFolders(_ query: String?) throws -> [(relative: String, real: String)] {
        guard let pairs = URLPath.query(query) else { throw ServeError.badRequest("the query is not valid percent-encoding") }
        let paths = pairs.filter { $0.name == "r" }.map(\.value)
        guard !paths.isEmpty else { throw ServeError.badRequest("tick at least one run (?r=PATH&r=PATH)") }
        guard paths.count <= Self.maximumRuns else { throw ServeError.badRequest("at most \(Self.maximumRuns) runs at once") }
        return try paths.map { ($0, try runFolder($0)) }
    }

    /// Reads the runs' logs, naming each by its path under the folder when two share a name.
    func runLogs(_ runs: [(relative: String, real: String)]) throws -> [RunLog] {
        try runs.map { relative, real in
            do { return try RunLog(folder: real) } catch {
                throw ServeError.unprocessable(hidingRoot("\(error)"))
            }
        }
    }

    func runPagePlan(relative: String) throws -> Plan {
        let real = try runFolder(relative)
        return .load(what: "reading the run \(relative)") { [self] in
            let page = try RunPage.html(try runLogs([(relative, real)]), title: "run \(relative.isEmpty ? "./" : relative)",
                                        links: [("← all runs and surfaces", "/")])
            return ServerReply(status: 200, contentType: "text/html; charset=utf-8", body: Array(page.utf8),
                               contentSecurityPolicy: Self.listingPolicy)
        }
    }

    func runsPagePlan(_ query: String?) throws -> Plan {
        let runs = try runFolders(query)
        return .load(what: "reading \(runs.count) runs") { [self] in
            let title = runs.count == 1 ? "run \(runs[0].relative)" : "runs " + runs.map(\.relative).joined(separator: ", ")
            let page = try RunPage.html(try runLogs(runs), title: title, links: [("← all runs and surfaces", "/")])
            return ServerReply(status: 200, contentType: "text/html; charset=utf-8", body: Array(page.utf8),
                               contentSecurityPolicy: Self.listingPolicy)
        }
    }

    func runFigurePlan(_ file: String, query: String?) throws -> Plan {
        let name = (file as NSString).deletingPathExtension
        let format: FigureFormat
        switch (file as NSString).pathExtension.lowercased() {
        case "svg": format = .svg
        case "png": format = .png
        default: throw ServeError.notFound("\(file): run figures are .svg or .png")
        }
        guard RunPage.figureNames.contains(name) else {
            throw ServeError.notFound("\(name): a run's figures are \(RunPage.figureNames.joined(separator: ", "))")
        }
        let runs = try runFolders(query)
        return .load(what: "drawing \(name)") { [self] in
            guard let bytes = try RunPage.figure(name, of: try runLogs(runs), format: format) else {
                throw ServeError.notFound("\(runs.map(\.relative).joined(separator: ", ")): the logs hold nothing for \(name)")
            }
            return ServerReply(status: 200, contentType: format == .svg ? "image/svg+xml" : "image/png", body: bytes,
                               contentSecurityPolicy: Self.filePolicy)
        }
    }
}
