import ArgumentParser
import Foundation
import TerrainTensor
import TerrainRequests

@main
struct Terrain: AsyncParsableCommand {
    static let version = TerrainVersion.current

    static let configuration = CommandConfiguration(
        commandName: "terrain",
        abstract: "Loss landscapes of neural networks: train, record, measure and draw.",
        version: version,
        subcommands: [Train.self, Evaluate.self, Surface.self, Interpolate.self, Align.self, Plane.self, Connect.self, Trajectory.self, Evolve.self, Hessian.self, HessianMap.self, SharpnessCommand.self, Analyze.self, Plot.self, Animate.self, View.self] + serverCommands + [Export.self, Info.self, Models.self, Demo.self]
    )

    /// `serve` exists when the package trait `Server` is on (the default; the distributed build
    /// leaves it out).
    static var serverCommands: [any ParsableCommand.Type] {
        #if Server
        [Serve.self]
        #else
        []
        #endif
    }
}

/// Options every command that computes shares.
struct ComputeOptions: ParsableArguments {
    @Option(help: "Worker threads (default: the number of cores, or $TERRAIN_THREADS).")
    var threads: Int?

    func validate() throws {
        if let threads, !(1...Parallel.maximumThreadCount).contains(threads) {
            throw ValidationError("--threads must be between 1 and \(Parallel.maximumThreadCount), got \(threads)")
        }
    }

    func apply() throws {
        try validate()
        if let threads { Parallel.threadCount = threads }
    }
}

/// Runs a command's work: a usage mistake (`ValidationError`) keeps argument-parser's usage
/// hint; any other error (a bad file, a diverged run) is printed as `error: …` on standard
/// error and exits with status 1. Never a trap.
func failing<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as ValidationError {
        throw error
    } catch let error as RequestError {
        // The library's word for a request that cannot be carried out as asked: a usage error.
        throw ValidationError(error.description)
    } catch let error as CleanExit {
        throw error
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}
