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
        any free port. Stop it with Ctrl-C.
        """)

    @Argument(help: "The folder to serve, e.g. runs/.") var folder: String
    @Option(help: "Port to listen on (0: any free port).") var port: Int = 8080
    @Option(help: "Address to listen on; 0.0.0.0 opens the server to the network.") var host: String = "127.0.0.1"

    func run() async throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port takes 0 to 65535") }
        let served: ServedFolder
        do { served = try ServedFolder(path: folder) } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        let root = served.root, host = host
        do {
            try await TerrainServer(folder: served).run(host: host, port: port) { bound in
                let shown = host.contains(":") ? "[\(host)]" : host
                FileHandle.standardOutput.write(Data("serving \(root) at http://\(shown):\(bound)/\n".utf8))
            }
        } catch {
            FileHandle.standardError.write(Data("error: cannot serve on \(host):\(port): \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
#endif
