import ArgumentParser
import Foundation
import TerrainLandscape

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a surface file (HDF5) to NumPy's .npz or to .csv.")

    @Argument(help: "A surface file written by surface, interpolate, plane or trajectory.") var surface: String
    @Argument(help: "Output files: .npz and/or .csv.") var outputs: [String]

    func run() throws {
        try failing {
            guard !outputs.isEmpty else { throw ValidationError("name at least one output (.npz or .csv)") }
            let file = try SurfaceFile.read(from: surface)
            for path in outputs {
                try file.export(to: path)
                print("written \(path)")
            }
        }
    }
}
