import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

extension TerrainServer {
    /// Serves until SIGINT or SIGTERM; `ready` gets the port bound (useful with port 0).
    ///
    /// Each request's Host header is checked first (`HostCheck`: 400 without one, 421 for a
    /// name that is not this server's). Connections: at most `limits.maxConnections` open, a
    /// request head must arrive within `limits.headerTimeout` (`RequestHeadDeadline`), an idle
    /// keep-alive connection is closed after `limits.idleTimeout`. On a signal the workers are
    /// stopped first, so requests waiting for stuck work are answered 503 at once and the server
    /// can drain; if it still has not stopped after a few seconds, its tasks are cancelled.
    public func run(host: String, port: Int, allowedHosts: [String] = [], ready: @escaping @Sendable (Int) -> Void) async throws {
        let hostCheck = HostCheck(boundHost: host, allowed: allowedHosts)
        let boundPort = PortNumber(port)
        let router = Router()
        let server = self
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            let headOnly = request.method == .head
            let reply: ServerReply
            if let problem = hostCheck.problem(host: request.head.authority, port: boundPort.value) {
                reply = server.errorPage(problem)
            } else {
                reply = await server.reply(path: request.uri.path, query: request.uri.query, headOnly: headOnly)
            }
            return server.response(reply)
        }
        for path: RouterPath in ["/", "**"] {
            router.get(path, use: handler)
            router.head(path, use: handler)
        }
        let channelConfiguration = HTTP1Channel.Configuration(idleTimeout: TimeAmount(limits.idleTimeout))
        let headTimeout = TimeAmount(limits.headerTimeout)
        let app = Application(
            router: router,
            server: HTTPServerBuilder { responder in
                DeadlineHTTP1Channel(inner: HTTP1Channel(responder: responder, configuration: channelConfiguration), headTimeout: headTimeout)
            },
            configuration: .init(address: .hostname(host, port: port), serverName: "terrain",
                                 availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections)),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                boundPort.value = bound
                ready(bound)
            }
        )
        var logger = Logger(label: "terrain serve")
        logger.logLevel = .warning
        let stopper = StopWorkersOnShutdown(pools: [loads, probes])
        // Shut down in reverse order: the workers first, then the server.
        var configuration = ServiceGroupConfiguration(services: [app, stopper], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(5)
        configuration.maximumCancellationDuration = .seconds(2)
        do {
            try await ServiceGroup(configuration: configuration).run()
        } catch where stopper.signalled.value {
            // Stopping took longer than allowed (a request stuck in the HDF5 library): the
            // group gave up on it, which is what a signal asks for.
        }
    }

    /// Pieces of work still running on worker threads (stuck ones): the program leaves without
    /// running exit handlers when there are any, since they may hold the HDF5 library.
    public var workStillRunning: Int { loads.running + probes.running }

    func response(_ reply: ServerReply) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = reply.contentType
        headers[.cacheControl] = "no-store"
        headers[.contentLength] = String(reply.bodyLength)
        // HTTPField comes from swift-http-types, which Hummingbird uses but does not export by name.
        typealias Field = HTTPFields.Element
        if let nosniff = Field.Name("X-Content-Type-Options") { headers[nosniff] = "nosniff" }
        // Other sites' pages may not even embed these files.
        if let resource = Field.Name("Cross-Origin-Resource-Policy") { headers[resource] = "same-origin" }
        if let policy = reply.contentSecurityPolicy, let name = Field.Name("Content-Security-Policy") { headers[name] = policy }
        if reply.status == 503, let retry = Field.Name("Retry-After") { headers[retry] = "5" }
        if let path = reply.streamedFile {
            return Response(status: HTTPResponse.Status(code: reply.status), headers: headers,
                            body: Self.streaming(path, length: reply.bodyLength))
        }
        return Response(status: HTTPResponse.Status(code: reply.status), headers: headers,
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body)))
    }

    /// The first `length` bytes of a regular file, 256 kB at a time, each written before the
    /// next is read, so a large download holds one chunk of memory. A file that shrank in the
    /// meantime ends the body early, and the connection with it.
    static func streaming(_ path: String, length: Int) -> ResponseBody {
        ResponseBody(contentLength: length) { writer in
            guard let handle = FileHandle(forReadingAtPath: path) else { throw ServeError.notFound("the file went away") }
            defer { try? handle.close() }
            var left = length
            while left > 0 {
                guard let chunk = try handle.read(upToCount: min(left, 256 << 10)), !chunk.isEmpty else {
                    throw ServeError.notFound("the file became shorter while it was sent")
                }
                left -= chunk.count
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            try await writer.finish(nil)
        }
    }
}

/// The bound port, learnt once the server listens (port 0 picks one), read by every request's
/// Host check.
final class PortNumber: @unchecked Sendable {
    private let lock = NSLock()
    private var port: Int
    init(_ port: Int) { self.port = port }
    var value: Int {
        get { lock.withLock { port } }
        set { lock.withLock { port = newValue } }
    }
}

/// A service that waits for the signal to stop and then stops the worker pools, which answers
/// every request still waiting for work (stuck work included) with 503, so that the HTTP
/// server, stopped after it, has no request left to wait for.
struct StopWorkersOnShutdown: Service {
    let pools: [WorkerPool]
    let signalled = Flag()

    func run() async throws {
        // Cancelled instead (the server could not start): nothing to stop.
        guard (try? await gracefulShutdown()) != nil else { return }
        signalled.value = true
        for pool in pools { pool.stop() }
    }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var set = false
    var value: Bool {
        get { lock.withLock { set } }
        set { lock.withLock { set = newValue } }
    }
}
