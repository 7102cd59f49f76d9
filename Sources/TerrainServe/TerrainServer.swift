import Foundation
import Hummingbird
import TerrainLandscape
import TerrainReport

/// `terrain serve`: a local web server over one folder (Hummingbird, HTTP/1.1).
///
///     GET /                  the listing (ListingPage)
///     GET /view/PATH.h5      the viewer for one surface, made on the fly (ViewerPage)
///     GET /compare?f=A&f=B[&mode=frames]   several surfaces side by side, or as frames
///     GET /files/PATH        the file itself, for the types in FileKind
///
/// Every path goes through `ServedFolder.resolve`, so nothing outside the folder is read; any
/// failure becomes a short error page with its status (400, 403, 404, 422), never a crash.
public struct TerrainServer: Sendable {
    public let folder: ServedFolder
    /// The most files one comparison page takes.
    public static let maximumCompared = 12

    public init(folder: ServedFolder) { self.folder = folder }

    static let viewerPolicy = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    static let listingPolicy = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'"

    /// The reply to `GET path?query`, `path` still percent-encoded as it came.
    public func respond(path: String, query: String?) -> ServerReply {
        do {
            if path == "/" || path.isEmpty { return listing() }
            if path.hasPrefix("/files/") { return try file(path.dropFirst("/files/".count)) }
            if path.hasPrefix("/view/") { return try viewer(path.dropFirst("/view/".count)) }
            if path == "/compare" { return try compare(query) }
            throw ServeError.notFound("no such page")
        } catch let error as ServeError {
            return errorPage(error)
        } catch {
            return errorPage(.unprocessable(hidingRoot("\(error)")))
        }
    }

    func listing() -> ServerReply {
        let page = ListingPage.html(FolderListing.scan(folder), title: "Terrain: \(folder.root)")
        return ServerReply(status: 200, contentType: "text/html; charset=utf-8", body: Array(page.utf8), contentSecurityPolicy: Self.listingPolicy)
    }

    func file(_ encoded: Substring) throws -> ServerReply {
        let real = try folder.resolve(encoded: encoded)
        let name = (real as NSString).lastPathComponent
        guard FileKind(fileName: name) != nil else { throw ServeError.notFound("\(name): files of this type are not served") }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: real, isDirectory: &isFolder), !isFolder.boolValue,
              let data = FileManager.default.contents(atPath: real) else {
            throw ServeError.notFound("\(folder.relative(real)): not a file")
        }
        return ServerReply(status: 200, contentType: FileKind.contentType(of: name), body: Array(data))
    }

    /// A surface file named by a path under the folder, read with `SurfaceFile`.
    func surface(_ relative: String) throws -> (name: String, file: SurfaceFile) {
        let real = try folder.resolve(relative)
        guard FileKind(fileName: real) == .hdf5 else { throw ServeError.notFound("\(relative): the viewer opens .h5 surface files") }
        do {
            let file = try SurfaceFile.read(from: real, allowingStacks: true)
            return (((folder.relative(real) as NSString).lastPathComponent as NSString).deletingPathExtension, file)
        } catch {
            throw ServeError.unprocessable("\(relative) is not a surface file: \(hidingRoot("\(error)"))")
        }
    }

    func viewer(_ encoded: Substring) throws -> ServerReply {
        guard let relative = URLPath.decode(encoded) else { throw ServeError.badRequest("the path is not valid percent-encoding") }
        let entry = try surface(relative)
        let document = try ViewerPage.document(surfaces: [entry], asFrames: false, title: relative)
        return viewerReply(document)
    }

    func compare(_ query: String?) throws -> ServerReply {
        guard let pairs = URLPath.query(query) else { throw ServeError.badRequest("the query is not valid percent-encoding") }
        let paths = pairs.filter { $0.name == "f" }.map(\.value)
        guard !paths.isEmpty else { throw ServeError.badRequest("tick at least one surface to compare (?f=PATH&f=PATH)") }
        guard paths.count <= Self.maximumCompared else { throw ServeError.badRequest("at most \(Self.maximumCompared) surfaces at once") }
        let asFrames = pairs.contains { $0.name == "mode" && $0.value == "frames" }
        let entries = try paths.map(surface)
        let title = asFrames ? "\(paths[0]) … \(paths[paths.count - 1])" : paths.joined(separator: ", ")
        do {
            return viewerReply(try ViewerPage.document(surfaces: entries, asFrames: asFrames, title: title))
        } catch {
            throw ServeError.unprocessable(hidingRoot("\(error)"))
        }
    }

    func viewerReply(_ document: ViewerDocument) -> ServerReply {
        do {
            return ServerReply(status: 200, contentType: "text/html; charset=utf-8", body: Array(try ViewerPage.html(for: document).utf8),
                               contentSecurityPolicy: Self.viewerPolicy)
        } catch {
            return errorPage(.unprocessable(hidingRoot("\(error)")))
        }
    }

    func errorPage(_ error: ServeError) -> ServerReply {
        let page = """
        <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>\(error.status)</title><link rel="icon" href="data:,"></head>
        <body style="font: 14px sans-serif; margin: 2em"><h1>\(error.status)</h1><p>\(escape(error.description))</p>
        <p><a href="/">back to the listing</a></p></body></html>

        """
        return ServerReply(status: error.status, contentType: "text/html; charset=utf-8", body: Array(page.utf8),
                           contentSecurityPolicy: Self.listingPolicy)
    }

    /// Messages name files relative to the served folder, never by their absolute path.
    func hidingRoot(_ message: String) -> String {
        message.replacingOccurrences(of: folder.root + "/", with: "")
    }

    /// Serves until SIGINT or SIGTERM; `ready` gets the port bound (useful with port 0).
    public func run(host: String, port: Int, ready: @escaping @Sendable (Int) -> Void) async throws {
        let router = Router()
        let server = self
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            server.response(server.respond(path: request.uri.path, query: request.uri.query))
        }
        router.get("/", use: handler)
        router.get("**", use: handler)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "terrain"),
            onServerRunning: { channel in ready(channel.localAddress?.port ?? port) }
        )
        try await app.runService()
    }

    func response(_ reply: ServerReply) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = reply.contentType
        headers[.cacheControl] = "no-store"
        // HTTPField comes from swift-http-types, which Hummingbird uses but does not export by name.
        typealias Field = HTTPFields.Element
        if let nosniff = Field.Name("X-Content-Type-Options") { headers[nosniff] = "nosniff" }
        if let policy = reply.contentSecurityPolicy, let name = Field.Name("Content-Security-Policy") { headers[name] = policy }
        return Response(status: HTTPResponse.Status(code: reply.status), headers: headers,
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body)))
    }
}
