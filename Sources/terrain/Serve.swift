#if Server
import ArgumentParser
import Foundation
import TerrainServe

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a folder of runs in the browser: runs, surfaces (in the viewer), figures, metrics and reports.",
        discussion: """
        Only files under FOLDER are served (no '..', no symbolic link out of it, no hidden \
        files), and only these types: .h5, .png, .svg, .pdf, .html, .csv, .json, .jsonl, .txt, .log, .md, \
        .npz, .vtp, .vts. It listens on 127.0.0.1 unless --host says otherwise; --port 0 takes \
        any free port. It answers only requests addressed to itself (the Host header: the bound \
        address, localhost when bound to loopback, and the names given with --allow-host), so a \
        web page cannot read your runs by pointing a name of its own at this machine. Surfaces are \
        read and pages built on worker threads, each request within a time limit, so the listing \
        stays fast and a damaged file cannot wedge the server. Stop it with Ctrl-C.
        """)

    @Argument(help: "The folder to serve, e.g. runs/.") var folder: String
    @Option(help: "Port to listen on (0: any free port).") var port: Int = 8080
    @Option(help: "Address to listen on; 0.0.0.0 opens the server to the network.") var host: String = "127.0.0.1"
    @Option(name: .customLong("allow-host"), help: ArgumentHelp("Also answer requests for this host name (NAME or NAME:PORT; repeatable), e.g. the machine's name on your network.", valueName: "name"))
    var allowedHosts: [String] = []
    @Option(help: "The most grid values one request may load, summed over the surfaces it opens (frames of a stack count each).")
    var maxGridPoints: Int = ServerLimits().maxGridPoints
    @Option(help: "Seconds a request's work may take (reading surfaces, building the page) before the answer is 503.")
    var requestTimeout: Double = 60
    @Option(help: "Seconds a client may take to send a request's head (and a new connection to start one).")
    var headerTimeout: Double = 10
    @Option(help: "Seconds an idle keep-alive connection stays open.")
    var idleTimeout: Double = 60
    @Option(help: "The most connections open at once.")
    var maxConnections: Int = ServerLimits().maxConnections
    @Option(help: "How many surfaces or files are read at once (each on a worker thread).")
    var loads: Int = ServerLimits().concurrentLoads

    func limits() throws -> ServerLimits {
        var limits = ServerLimits()
        guard (1...1_000_000_000).contains(maxGridPoints) else { throw ValidationError("--max-grid-points takes 1 to 1000000000 (got \(maxGridPoints))") }
        guard (1...100_000).contains(maxConnections) else { throw ValidationError("--max-connections takes 1 to 100000 (got \(maxConnections))") }
        guard (1...64).contains(loads) else { throw ValidationError("--loads takes 1 to 64 (got \(loads))") }
        func seconds(_ value: Double, _ option: String) throws -> Duration {
            guard value.isFinite, value >= 0.001, value <= 86_400 else {
                throw ValidationError("\(option) takes 0.001 to 86400 seconds (got \(value))")
            }
            return .milliseconds(Int64((value * 1000).rounded()))
        }
        limits.maxGridPoints = maxGridPoints
        limits.maxConnections = maxConnections
        limits.concurrentLoads = loads
        limits.requestTimeout = try seconds(requestTimeout, "--request-timeout")
        limits.headerTimeout = try seconds(headerTimeout, "--header-timeout")
        limits.idleTimeout = try seconds(idleTimeout, "--idle-timeout")
        return limits
    }

    func run() async throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port takes 0 to 65535") }
        for name in allowedHosts where name.isEmpty || name.contains(where: { $0 == "/" || $0 == "@" || $0.isWhitespace }) {
            throw ValidationError("--allow-host takes a host name or NAME:PORT (got '\(name)')")
        }
        let limits = try limits()
        let served: ServedFolder
        do { served = try ServedFolder(path: folder) } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        let root = served.root, host = host
        let server = TerrainServer(folder: served, limits: limits)
        do {
            try await server.run(host: host, port: port, allowedHosts: allowedHosts) { bound in
                let shown = host.contains(":") ? "[\(host)]" : host
                FileHandle.standardOutput.write(Data("serving \(root) at http://\(shown):\(bound)/\n".utf8))
            }
        } catch {
            FileHandle.standardError.write(Data("error: cannot serve on \(host):\(port): \(error)\n".utf8))
            throw ExitCode.failure
        }
        let stuck = server.workStillRunning
        if stuck > 0 {
            // A worker is stuck (in the HDF5 library, most likely): exit handlers could wait
            // for it or race it, so leave without them.
            FileHandle.standardError.write(Data("stopped; \(stuck) request\(stuck == 1 ? "" : "s") still running left behind\n".utf8))
            _exit(0)
        }
    }
}
#endif
