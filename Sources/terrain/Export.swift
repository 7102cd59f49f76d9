import ArgumentParser
import Foundation
import TerrainLandscape

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a surface file (HDF5) to NumPy's .npz, .csv, or VTK's .vtp/.vts for ParaView.",
        discussion: """
        The format follows each output's extension. .vtp is the reference's PolyData (points, \
        quads, zvalue, averaged zvalue); .vts a StructuredGrid with every quantity of the file. \
        Both need a 2D surface. Points not computed (NaN) or diverged (+inf, unless --zmax clips \
        them) have valid = 0 and leave out the cells around them.
        """)

    @Argument(help: "A surface file written by surface, interpolate, plane or trajectory.") var surface: String
    @Argument(help: "Output files: .npz, .csv, .vtp and/or .vts.") var outputs: [String]
    @Option(help: "VTK: the quantity drawn as height (train_loss, train_acc, test_loss, test_acc).") var quantity: SurfaceQuantity = .trainLoss
    @Flag(help: "VTK: draw ln(z + 0.1), as the reference's --log.") var log = false
    @Option(help: "VTK: clip values above this (before the log); 0 or less: no clip.") var zmax: Double = 0

    func validate() throws {
        try OptionCheck.outputs(files: outputs)
    }

    func run() throws {
        try failing {
            guard !outputs.isEmpty else { throw ValidationError("name at least one output (.npz, .csv, .vtp or .vts)") }
            let extensions = outputs.map { URL(fileURLWithPath: $0).pathExtension.lowercased() }
            if let bad = outputs.indices.first(where: { !SurfaceFile.exportExtensions.contains(extensions[$0]) }) {
                throw ValidationError("'\(outputs[bad])': outputs end in .npz, .csv, .vtp or .vts")
            }
            guard !zmax.isNaN, zmax != .infinity else { throw ValidationError("--zmax takes a finite number (0 or less: no clip), got \(zmax)") }
            let vtkOptionsGiven = quantity != .trainLoss || log || zmax != 0
            guard !vtkOptionsGiven || extensions.contains(where: { $0 == "vtp" || $0 == "vts" }) else {
                throw ValidationError("--quantity, --log and --zmax apply to .vtp and .vts outputs; none is named")
            }
            let file = try SurfaceFile.read(from: surface)
            let vtk = VTKExportOptions(quantity: quantity, logarithmic: log, zmax: zmax)
            for path in outputs {
                try file.export(to: path, vtk: vtk)
                print("written \(path)")
            }
        }
    }
}

extension SurfaceQuantity: ExpressibleByArgument {}
