/// Which Host headers the server answers: a defence against DNS rebinding.
///
/// A page on any web site can make its own name resolve to 127.0.0.1 and then read
/// `http://its-name:8080/` with the visitor's browser: same origin to the browser, the user's
/// runs to the attacker. The browser still sends `Host: its-name:8080`, so the server answers
/// only Host headers that name itself: the address it is bound to, with its port; when bound
/// to a loopback address also `localhost`, `127.0.0.1` and `[::1]`; when bound to every address
/// (`0.0.0.0`, `::`), any IP literal (no name, hence nothing to rebind) and `localhost`; and the
/// names given with `--allow-host` (a bare name with the server's port, or `name:port`).
public struct HostCheck: Sendable {
    public let boundHost: String
    public let allowed: [String]

    public init(boundHost: String, allowed: [String] = []) {
        self.boundHost = Self.bare(boundHost.lowercased())
        self.allowed = allowed.map { $0.lowercased() }
    }

    static let loopbackNames: Set<String> = ["localhost", "127.0.0.1", "::1"]

    var isLoopback: Bool { Self.loopbackNames.contains(boundHost) || boundHost.hasPrefix("127.") }
    var isWildcard: Bool { boundHost == "0.0.0.0" || boundHost == "::" || boundHost.isEmpty }

    /// Nil when a request with `Host: host` may be answered by a server listening on `port`;
    /// otherwise why not (the reply is 400 without a Host, 421 for another name).
    public func problem(host: String?, port: Int) -> ServeError? {
        guard let host, !host.isEmpty else { return .badRequest("the request has no Host header") }
        let lowered = host.lowercased()
        guard let (name, hostPort) = Self.split(lowered) else {
            return .badRequest("the Host header \(printable(host)) is not a host name with an optional port")
        }
        if allowed.contains(lowered) { return nil }
        guard hostPort == port else { return misdirected(host, port: port) }
        if allowed.contains(name) || name == boundHost { return nil }
        if (isLoopback || isWildcard) && Self.loopbackNames.contains(name) { return nil }
        if isWildcard && Self.isIPLiteral(name) { return nil }
        return misdirected(host, port: port)
    }

    private func misdirected(_ host: String, port: Int) -> ServeError {
        .misdirected("this server does not answer for the host \(printable(host)); it answers for \(describeAccepted(port: port)) (terrain serve --allow-host NAME adds a name)")
    }

    private func describeAccepted(port: Int) -> String {
        var names = isWildcard ? ["any IP address"] : [boundHost.contains(":") ? "[\(boundHost)]" : boundHost]
        if isLoopback || isWildcard { names += ["localhost"] }
        names += allowed
        return names.map { $0.contains(":") || $0 == "any IP address" ? $0 : "\($0):\(port)" }.joined(separator: ", ")
    }

    /// `name[:port]` or `[v6][:port]` → (name without brackets or a final dot, port (80 when
    /// absent)); nil when malformed.
    static func split(_ host: String) -> (String, Int)? {
        var name: Substring, portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            name = host[host.index(after: host.startIndex)..<close]
            let rest = host[host.index(after: close)...]
            if rest.isEmpty { portText = nil } else {
                guard rest.hasPrefix(":") else { return nil }
                portText = rest.dropFirst()
            }
        } else {
            let parts = host.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return nil }
            name = parts[0]
            portText = parts.count == 2 ? parts[1] : nil
        }
        if name.hasSuffix(".") { name = name.dropLast() }
        guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "@") }) else { return nil }
        guard let portText else { return (String(name), 80) }
        guard portText.count <= 5, portText.utf8.allSatisfy({ (48...57).contains($0) }), let port = Int(portText), port <= 65535 else { return nil }
        return (String(name), port)
    }

    static func bare(_ host: String) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }

    /// A dotted IPv4 address or an IPv6 address (hex digits, colons, dots).
    static func isIPLiteral(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ part in
            !part.isEmpty && part.utf8.count <= 3 && part.utf8.allSatisfy { (48...57).contains($0) } && (Int(part) ?? 256) <= 255
        }) { return true }
        return name.contains(":") && name.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }
}

/// A header value for a message: at most 100 characters, control characters as '?'.
func printable(_ text: String) -> String {
    let shown = String(text.prefix(100).map { $0.isASCII && ($0.asciiValue! < 32 || $0.asciiValue! == 127) ? "?" : $0 })
    return "'" + shown + (text.count > 100 ? "…" : "") + "'"
}
