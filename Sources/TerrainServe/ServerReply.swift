/// A response before it meets HTTP: what `TerrainServer.respond` returns, so that routing,
/// path checks and pages are tested without a socket.
public struct ServerReply: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    /// The length of the full body: `body.count`, except in the answer to HEAD, which carries
    /// no body but says how long it would be.
    public var bodyLength: Int
    /// Sent with every page: the server's own pages may run their own inline script and
    /// nothing else and load nothing from anywhere; raw HTML and SVG files may run no script at all.
    public var contentSecurityPolicy: String?
    /// A regular file sent as the body, read in chunks as the connection takes them (raw
    /// files from `reply`; `body` is then empty and `bodyLength` the file's size).
    public var streamedFile: String?

    public init(status: Int, contentType: String, body: [UInt8], contentSecurityPolicy: String? = nil) {
        self.status = status; self.contentType = contentType; self.body = body; self.bodyLength = body.count
        self.contentSecurityPolicy = contentSecurityPolicy
    }

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The answer to HEAD: the same status and headers, no body.
    public func withoutBody() -> ServerReply {
        var reply = self
        reply.body = []
        return reply
    }
}
