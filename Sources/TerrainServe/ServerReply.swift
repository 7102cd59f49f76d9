/// A response before it meets HTTP: what `TerrainServer.respond` returns, so that routing,
/// path checks and pages are tested without a socket.
public struct ServerReply: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    /// Sent with pages the server makes itself: the viewer may run its own inline script and
    /// nothing else, and may load nothing from anywhere.
    public var contentSecurityPolicy: String?

    public init(status: Int, contentType: String, body: [UInt8], contentSecurityPolicy: String? = nil) {
        self.status = status; self.contentType = contentType; self.body = body; self.contentSecurityPolicy = contentSecurityPolicy
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}
