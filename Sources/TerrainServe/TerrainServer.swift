import Foundation
import TerrainLandscape
import TerrainReport

/// `terrain serve`: a local web server over one folder (Hummingbird, HTTP/1.1).
///
///     GET /                  the listing (ListingPage)
///     GET /view/PATH.h5      the viewer for one surface, made on the fly (ViewerPage)
///     GET /compare?f=A&f=B[&mode=frames]   several surfaces side by side, or as frames
///     GET /files/PATH        the file itself, for the types in FileKind
///     GET /run/PATH, /runs?r=A&r=B, /run-figure/NAME.svg?r=A   training runs
///                            (TerrainServer+Runs.swift)
///
/// HEAD is answered for each of them. Every path goes through `ServedFolder.resolve`, so nothing
/// outside the folder is read; any failure becomes a short error page with its status (400,
/// 403, 404, 413, 421, 422, 503), never a crash. A request plans its work first (path checks,
/// cheap) and then does it: the listing at once, anything that reads a surface or a file on a
/// `WorkerPool` within `ServerLimits.requestTimeout` (see `reply(path:query:headOnly:)`).
public struct TerrainServer: Sendable {
    public let folder: ServedFolder
    public let limits: ServerLimits
    /// Surfaces, viewer pages and raw files.
    let loads: WorkerPool
    /// The listing's descriptions of HDF5 files it has not seen before: a worker of its own, so
    /// that loads never delay the listing.
    let probes: WorkerPool
    let notes = HDF5NoteCache()
    /// The most files one comparison page takes.
    public static let maximumCompared = 12

    public init(folder: ServedFolder, limits: ServerLimits = ServerLimits()) {
        self.folder = folder
        self.limits = limits
        loads = WorkerPool(threads: limits.concurrentLoads, name: "load")
        probes = WorkerPool(threads: 1, name: "listing")
    }

    /// Every reply carries a Content-Security-Policy starting from `default-src 'none'`, so the
    /// viewer provably loads nothing from anywhere: viewer pages may run their own inline script
    /// only, the listing no script at all.
    static let viewerPolicy = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    static let listingPolicy = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    /// Raw files (a report's HTML, an SVG figure): no script, images from this server only.
    static let filePolicy = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// What a request needs done, decided from its path and query alone.
    enum Plan {
        /// Answered already (a HEAD of a file, from its size).
        case ready(ServerReply)
        case listing
        /// Reads files: `what` names it in messages.
        case load(what: String, work: @Sendable () throws -> ServerReply)
        /// A raw file of `size` bytes: read whole here, streamed by the HTTP server (`size`
        /// is unbounded, so it never sits in memory there).
        case file(real: String, size: Int, reply: ServerReply)
    }

    /// The reply to `GET path?query` (or HEAD), `path` still percent-encoded as it came, with all
    /// the work done on the calling thread (tests call this; the HTTP server calls `reply`).
    public func respond(path: String, query: String?, headOnly: Bool = false) -> ServerReply {
        do {
            let reply: ServerReply
            switch try plan(path: path, query: query, headOnly: headOnly) {
            case .ready(let ready): reply = ready
            case .listing: reply = listingReply(FolderListing.scan(folder))
            case .load(_, let work): reply = try work()
            case .file(let real, _, var file):
                guard let data = FileManager.default.contents(atPath: real) else {
                    throw ServeError.notFound("\(folder.relative(real)): not readable")
                }
                file.body = Array(data)
                file.bodyLength = data.count
                reply = file
            }
            return headOnly ? reply.withoutBody() : reply
        } catch {
            return errorReply(error)
        }
    }

    /// The same reply, with the work off the calling task: the listing's new HDF5 files are
    /// described by `probes` (waiting at most `listingProbeWait`), anything else that reads
    /// files runs on `loads` within `requestTimeout`, past which the answer is 503.
    public func reply(path: String, query: String?, headOnly: Bool = false) async -> ServerReply {
        do {
            let reply: ServerReply
            switch try plan(path: path, query: query, headOnly: headOnly) {
            case .ready(let ready): reply = ready
            case .listing: reply = await listingWithProbes()
            case .load(let what, let work): reply = try await loads.run(what, timeout: limits.requestTimeout, work)
            case .file(let real, let size, var file):
                file.streamedFile = real
                file.bodyLength = size
                reply = file
            }
            return headOnly ? reply.withoutBody() : reply
        } catch is CancellationError {
            return errorReply(ServeError.unavailable("the request was cancelled"))
        } catch {
            return errorReply(error)
        }
    }

    func plan(path: String, query: String?, headOnly: Bool) throws -> Plan {
        if path == "/" || path.isEmpty { return .listing }
        if path.hasPrefix("/files/") { return try filePlan(path.dropFirst("/files/".count), headOnly: headOnly) }
        if path.hasPrefix("/view/") {
            guard let relative = URLPath.decode(path.dropFirst("/view/".count)) else {
                throw ServeError.badRequest("the path is not valid percent-encoding")
            }
            let real = try surfacePath(relative)
            return .load(what: "reading \(relative)") { [self] in
                let entries = try surfaces([(relative, real)])
                return try viewerReply(ViewerPage.document(surfaces: entries, asFrames: false, title: relative))
            }
        }
        if path == "/compare" { return try comparePlan(query) }
        if path.hasPrefix("/run/") || path == "/run" {
            guard let relative = URLPath.decode(path.dropFirst("/run".count).drop { $0 == "/" }) else {
                throw ServeError.badRequest("the path is not valid percent-encoding")
            }
            return try runPagePlan(relative: relative)
        }
        if path == "/runs" { return try runsPagePlan(query) }
        if path.hasPrefix("/run-figure/") {
            guard let file = URLPath.decode(path.dropFirst("/run-figure/".count)), !file.contains("/") else {
                throw ServeError.badRequest("/run-figure/ takes NAME.svg or NAME.png")
            }
            return try runFigurePlan(file, query: query)
        }
        throw ServeError.notFound("no such page")
    }

    func listingReply(_ listing: FolderListing) -> ServerReply {
        let page = ListingPage.html(listing, title: "Terrain: \(folder.root)")
        return ServerReply(status: 200, contentType: "text/html; charset=utf-8", body: Array(page.utf8), contentSecurityPolicy: Self.listingPolicy)
    }

    func filePlan(_ encoded: Substring, headOnly: Bool) throws -> Plan {
        let real = try folder.resolve(encoded: encoded)
        let name = (real as NSString).lastPathComponent
        guard FileKind(fileName: name) != nil else { throw ServeError.notFound("\(name): files of this type are not served") }
        guard ServedFolder.isRegularFile(real) else { throw ServeError.notFound("\(folder.relative(real)): not a file") }
        let type = FileKind.contentType(of: name)
        let policy = type == "application/pdf" ? nil : Self.filePolicy
        let size = ((try? FileManager.default.attributesOfItem(atPath: real))?[.size] as? NSNumber)?.intValue ?? 0
        var reply = ServerReply(status: 200, contentType: type, body: [], contentSecurityPolicy: policy)
        reply.bodyLength = size
        return headOnly ? .ready(reply) : .file(real: real, size: size, reply: reply)
    }

    /// The real path of a surface file named by a path under the folder: checked, not opened.
    func surfacePath(_ relative: String) throws -> String {
        let real = try folder.resolve(relative)
        guard FileKind(fileName: real) == .hdf5 else { throw ServeError.notFound("\(relative): the viewer opens .h5 surface files") }
        guard ServedFolder.isRegularFile(real) else { throw ServeError.notFound("\(relative): not a file") }
        return real
    }

    /// Reads surface files, after checking from their datasets' shapes alone that together they
    /// hold at most `limits.maxGridPoints` grid values (413 beyond).
    func surfaces(_ files: [(relative: String, real: String)]) throws -> [(name: String, file: SurfaceFile)] {
        var total = 0
        var sizes: [Int] = []
        for (relative, real) in files {
            let count: Int
            do { count = try SurfaceFile.largestDatasetCount(at: real) } catch {
                throw ServeError.unprocessable("\(relative) is not a surface file: \(hidingRoot("\(error)"))")
            }
            sizes.append(count)
            let (sum, overflow) = total.addingReportingOverflow(count)
            total = overflow ? .max : sum
        }
        guard total <= limits.maxGridPoints else {
            let what = files.count == 1
                ? "\(files[0].relative) holds \(Self.grouped(total)) grid values (its largest dataset)"
                : "these \(files.count) surfaces hold \(Self.grouped(total)) grid values together (" +
                  zip(files, sizes).map { "\($0.relative): \(Self.grouped($1))" }.joined(separator: ", ") + ")"
            throw ServeError.tooLarge("\(what); this server loads at most \(Self.grouped(limits.maxGridPoints)) per request (terrain serve --max-grid-points)")
        }
        return try files.map { relative, real in
            do {
                let file = try SurfaceFile.read(from: real, allowingStacks: true)
                return (((folder.relative(real) as NSString).lastPathComponent as NSString).deletingPathExtension, file)
            } catch {
                throw ServeError.unprocessable("\(relative) is not a surface file: \(hidingRoot("\(error)"))")
            }
        }
    }

    func comparePlan(_ query: String?) throws -> Plan {
        guard let pairs = URLPath.query(query) else { throw ServeError.badRequest("the query is not valid percent-encoding") }
        let paths = pairs.filter { $0.name == "f" }.map(\.value)
        guard !paths.isEmpty else { throw ServeError.badRequest("tick at least one surface to compare (?f=PATH&f=PATH)") }
        guard paths.count <= Self.maximumCompared else { throw ServeError.badRequest("at most \(Self.maximumCompared) surfaces at once") }
        let asFrames = pairs.contains { $0.name == "mode" && $0.value == "frames" }
        let files = try paths.map { ($0, try surfacePath($0)) }
        let title = asFrames ? "\(paths[0]) … \(paths[paths.count - 1])" : paths.joined(separator: ", ")
        return .load(what: "reading \(paths.count == 1 ? paths[0] : "\(paths.count) surfaces")") { [self] in
            let entries = try surfaces(files)
            do {
                return try viewerReply(ViewerPage.document(surfaces: entries, asFrames: asFrames, title: title))
            } catch {
                throw ServeError.unprocessable(hidingRoot("\(error)"))
            }
        }
    }

    func viewerReply(_ document: ViewerDocument) throws -> ServerReply {
        do {
            return ServerReply(status: 200, contentType: "text/html; charset=utf-8", body: Array(try ViewerPage.html(for: document).utf8),
                               contentSecurityPolicy: Self.viewerPolicy)
        } catch {
            throw ServeError.unprocessable(hidingRoot("\(error)"))
        }
    }

    func errorReply(_ error: any Error) -> ServerReply {
        errorPage(error as? ServeError ?? .unprocessable(hidingRoot("\(error)")))
    }

    func errorPage(_ error: ServeError) -> ServerReply {
        let page = """
        <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>\(error.status)</title><link rel="icon" href="data:,"></head>
        <body style="font: 14px sans-serif; margin: 2em"><h1>\(error.status)</h1><p>\(escapeHTML(error.description))</p>
        <p><a href="/">back to the listing</a></p></body></html>

        """
        return ServerReply(status: error.status, contentType: "text/html; charset=utf-8", body: Array(page.utf8),
                           contentSecurityPolicy: Self.listingPolicy)
    }

    /// Messages name files relative to the served folder, never by their absolute path.
    func hidingRoot(_ message: String) -> String {
        message.replacingOccurrences(of: folder.root + "/", with: "")
    }

    /// 1234567 → "1,234,567".
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }
}
