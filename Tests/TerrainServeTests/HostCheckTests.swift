import Testing
@testable import TerrainServe

/// Which Host headers the server answers (DNS rebinding), for each kind of bound address.
@Suite("Host check")
struct HostCheckTests {
    @Test func loopbackAcceptsItsOwnNamesWithItsPort() {
        let check = HostCheck(boundHost: "127.0.0.1")
        for host in ["127.0.0.1:8080", "localhost:8080", "LOCALHOST:8080", "localhost.:8080", "[::1]:8080"] {
            #expect(check.problem(host: host, port: 8080) == nil, "\(host)")
        }
        // Another port, another name, an IP literal that is not the bound one.
        for host in ["127.0.0.1:8081", "localhost", "evil.example:8080", "evil.example", "192.168.1.5:8080", "127.0.0.1.evil.example:8080"] {
            #expect(check.problem(host: host, port: 8080)?.status == 421, "\(host)")
        }
        // Port 80 may be left out.
        #expect(check.problem(host: "localhost", port: 80) == nil)
        let message = check.problem(host: "evil.example:8080", port: 8080)?.description ?? ""
        #expect(message.contains("'evil.example:8080'") && message.contains("127.0.0.1:8080") && message.contains("--allow-host"))
    }

    @Test func missingOrMalformedHostsAreBadRequests() {
        let check = HostCheck(boundHost: "127.0.0.1")
        for host in [nil, "", "a:b:c", "localhost:99999", "localhost:-1", "[::1", "[::1]x", "user@localhost:8080", "a b:8080", "localhost:80a"] {
            #expect(check.problem(host: host, port: 8080)?.status == 400, "\(String(describing: host))")
        }
    }

    @Test func allowedNamesAndOtherBindings() {
        let named = HostCheck(boundHost: "127.0.0.1", allowed: ["laptop.local", "proxy.example:443"])
        #expect(named.problem(host: "laptop.local:8080", port: 8080) == nil)
        #expect(named.problem(host: "Laptop.Local:8080", port: 8080) == nil)
        #expect(named.problem(host: "laptop.local:9000", port: 8080)?.status == 421)
        #expect(named.problem(host: "proxy.example:443", port: 8080) == nil)
        #expect(named.problem(host: "proxy.example:8080", port: 8080)?.status == 421)

        let wildcard = HostCheck(boundHost: "0.0.0.0")
        for host in ["192.168.1.5:8080", "10.0.0.1:8080", "[fe80::1]:8080", "localhost:8080"] {
            #expect(wildcard.problem(host: host, port: 8080) == nil, "\(host)")
        }
        #expect(wildcard.problem(host: "evil.example:8080", port: 8080)?.status == 421)
        #expect(wildcard.problem(host: "999.1.1.1:8080", port: 8080)?.status == 421)

        let v6 = HostCheck(boundHost: "::1")
        #expect(v6.problem(host: "[::1]:8080", port: 8080) == nil)
        #expect(v6.problem(host: "localhost:8080", port: 8080) == nil)

        let lan = HostCheck(boundHost: "192.168.1.5")
        #expect(lan.problem(host: "192.168.1.5:8080", port: 8080) == nil)
        #expect(lan.problem(host: "localhost:8080", port: 8080)?.status == 421)
    }
}
