import Foundation

/// What the VTK exports draw as height, as the reference's `h5_to_vtp` options do.
public struct VTKExportOptions: Sendable, Equatable {
    /// The quantity that gives z (and `zvalue`); the file must hold it.
    public var quantity: SurfaceQuantity
    /// z = ln(value + 0.1), the reference's log scale (after the clip).
    public var logarithmic: Bool
    /// Values above `zmax` are drawn at `zmax` (before the log); `zmax <= 0` draws them as they are.
    public var zmax: Double

    public init(quantity: SurfaceQuantity = .trainLoss, logarithmic: Bool = false, zmax: Double = 0) {
        self.quantity = quantity; self.logarithmic = logarithmic; self.zmax = zmax
    }

    /// The height drawn for `value`: clipped, then ln(z + 0.1) when logarithmic. Not finite
    /// when the point cannot be drawn (NaN, or +∞ without a clip).
    public func height(_ value: Double) -> Double {
        var z = value
        if zmax > 0, z > zmax { z = zmax }
        return logarithmic ? log(z + 0.1) : z
    }
}

/// A 2D surface for ParaView and other VTK readers, as ASCII XML:
///
/// - `.vtp` (the reference's format): `PolyData` with one point (x, y, z) per grid point, in the
///   grid's order (point k is (x[k % nx], y[k / nx])), one quad per grid cell (`Polys`:
///   connectivity and offsets), point data `zvalue` (z) and cell data `averaged zvalue` (the mean
///   z of the cell's 4 corners).
/// - `.vts`: a `StructuredGrid` with `WholeExtent="0 nx-1 0 ny-1 0 0"` and the same points, point
///   data `zvalue` and every quantity the file holds (`train_loss`, `train_acc`, …) unchanged.
///
/// **Points that cannot be drawn.** Older VTK readers parse ASCII numbers with C++ streams,
/// which stop at `nan` or `inf`, so no non-finite number is ever written. A point whose height
/// is not finite (NaN: not computed; +∞: diverged, unless `zmax` clips it, as the reference
/// does) gets 0 in the point data array `valid` (1 elsewhere), and its z and `zvalue` are the
/// largest drawable height (0 when there is none), so the bounds and colour range stay the drawn
/// surface's. In `.vtp` a cell with such a corner is left out of `Polys` (and of
/// `averaged zvalue`); in `.vts`, whose cells cannot be left out, such points are also marked
/// hidden (2) in VTK's blanking array `vtkGhostType`, so ParaView leaves out the cells around
/// them. A quantity array of `.vts` with non-finite values writes its largest finite value there
/// instead, and comes with a `<quantity> valid` array.
///
/// A 1D surface has no VTK form here: the exports refuse it (`LandscapeError.invalidRequest`).
/// Numbers are written with Swift's shortest round-trip form, so they read back bit for bit.
extension SurfaceFile {
    /// The surface as `PolyData` (`.vtp`): the reference's file, with the rule above for points
    /// that cannot be drawn.
    public func vtp(_ options: VTKExportOptions = VTKExportOptions()) throws -> String {
        let surface = try VTKSurface(self, options)
        let nx = grid.x.count, ny = grid.y.count
        // Cells whose 4 corners are drawable, corners counter-clockwise from (x[i], y[j]).
        var connectivity: [Int] = [], averages: [Double] = []
        for j in 0..<max(ny - 1, 0) {
            for i in 0..<max(nx - 1, 0) {
                let k = j * nx + i
                let corners = [k, k + 1, k + nx + 1, k + nx]
                guard corners.allSatisfy({ surface.valid[$0] }) else { continue }
                connectivity += corners
                averages.append(corners.reduce(0) { $0 + surface.z[$1] / 4 })   // quarters: no overflow, same bits
            }
        }
        let cells = averages.count
        var xml = VTKDocument(type: "PolyData")
        xml.open("PolyData")
        xml.open("Piece", ["NumberOfPoints": "\(grid.pointCount)", "NumberOfVerts": "0", "NumberOfLines": "0",
                           "NumberOfStrips": "0", "NumberOfPolys": "\(cells)"])
        xml.open("PointData", ["Scalars": "zvalue"])
        xml.array("zvalue", surface.z.map(text), perLine: nx)
        xml.array("valid", type: "UInt8", surface.valid.map { $0 ? "1" : "0" }, perLine: nx)
        xml.close("PointData")
        xml.open("CellData", ["Scalars": "averaged zvalue"])
        xml.array("averaged zvalue", averages.map(text), perLine: max(nx - 1, 1))
        xml.close("CellData")
        surface.points(into: &xml)
        xml.open("Polys")
        xml.array("connectivity", type: "Int64", connectivity.map(String.init), perLine: 4)
        xml.array("offsets", type: "Int64", (0..<cells).map { String(4 * ($0 + 1)) }, perLine: max(nx - 1, 1))
        xml.close("Polys")
        xml.close("Piece")
        xml.close("PolyData")
        return xml.finish()
    }

    /// The surface as a `StructuredGrid` (`.vts`) carrying every quantity of the file.
    public func vts(_ options: VTKExportOptions = VTKExportOptions()) throws -> String {
        let surface = try VTKSurface(self, options)
        let nx = grid.x.count, ny = grid.y.count
        let extent = "0 \(nx - 1) 0 \(ny - 1) 0 0"
        var xml = VTKDocument(type: "StructuredGrid")
        xml.open("StructuredGrid", ["WholeExtent": extent])
        xml.open("Piece", ["Extent": extent])
        xml.open("PointData", ["Scalars": "zvalue"])
        xml.array("zvalue", surface.z.map(text), perLine: nx)
        xml.array("valid", type: "UInt8", surface.valid.map { $0 ? "1" : "0" }, perLine: nx)
        if surface.valid.contains(false) {
            xml.array("vtkGhostType", type: "UInt8", surface.valid.map { $0 ? "0" : "2" }, perLine: nx)
        }
        for q in SurfaceQuantity.allCases {
            guard let v = values[q] else { continue }
            let standIn = v.filter(\.isFinite).max() ?? 0
            xml.array(q.rawValue, v.map { text($0.isFinite ? $0 : standIn) }, perLine: nx)
            if v.contains(where: { !$0.isFinite }) {
                xml.array("\(q.rawValue) valid", type: "UInt8", v.map { $0.isFinite ? "1" : "0" }, perLine: nx)
            }
        }
        xml.close("PointData")
        surface.points(into: &xml)
        xml.close("Piece")
        xml.close("StructuredGrid")
        return xml.finish()
    }
}

/// The heights of a 2D surface under the export options, with the rule for points that
/// cannot be drawn applied; shared by both formats.
private struct VTKSurface {
    let grid: SurfaceGrid
    /// Every entry finite: the drawable height, or the stand-in.
    let z: [Double]
    let valid: [Bool]

    init(_ file: SurfaceFile, _ options: VTKExportOptions) throws {
        guard file.grid.isTwoDimensional else {
            throw LandscapeError.invalidRequest("VTK files (.vtp, .vts) need a 2D surface; this one is 1D: export it as .csv or .npz")
        }
        guard let values = file.values[options.quantity] else {
            let held = SurfaceQuantity.allCases.filter { file.values[$0] != nil }.map(\.rawValue)
            throw LandscapeError.invalidRequest("the surface has no \(options.quantity.rawValue); it has: \(held.isEmpty ? "nothing" : held.joined(separator: ", "))")
        }
        guard (file.grid.x + file.grid.y).allSatisfy(\.isFinite) else {
            throw LandscapeError.invalidRequest("the surface's coordinates are not all finite numbers")
        }
        let heights = values.map(options.height)
        let standIn = heights.filter(\.isFinite).max() ?? 0
        grid = file.grid
        valid = heights.map(\.isFinite)
        z = heights.map { $0.isFinite ? $0 : standIn }
    }

    /// `<Points>`: (x, y, z) per grid point, one grid row of points at a time.
    func points(into xml: inout VTKDocument) {
        xml.open("Points")
        let coordinates = (0..<grid.pointCount).map { k -> String in
            let (alpha, beta) = grid.coordinates(of: k)
            return "\(text(alpha)) \(text(beta)) \(text(z[k]))"
        }
        xml.array("Points", coordinates, components: 3, perLine: 1)
        xml.close("Points")
    }
}

/// A finite number in its shortest round-trip form (`1.0`, `0.1`, `1e-05`), which C++ streams read.
private func text(_ value: Double) -> String {
    precondition(value.isFinite, "VTK's ASCII reader cannot read \(value)")
    return "\(value)"
}

/// An indented ASCII VTK XML document under construction.
private struct VTKDocument {
    private var lines: [String]
    private var depth = 1

    init(type: String) {
        lines = ["<?xml version=\"1.0\"?>",
                 "<VTKFile type=\"\(type)\" version=\"1.0\" byte_order=\"LittleEndian\" header_type=\"UInt64\">"]
    }

    private var indent: String { String(repeating: "  ", count: depth) }

    mutating func open(_ element: String, _ attributes: KeyValuePairs<String, String> = [:]) {
        let text = attributes.map { " \($0.key)=\"\($0.value)\"" }.joined()
        lines.append("\(indent)<\(element)\(text)>")
        depth += 1
    }

    mutating func close(_ element: String) {
        depth -= 1
        lines.append("\(indent)</\(element)>")
    }

    /// A `DataArray` of tuples already written as text, `perLine` tuples to a line.
    mutating func array(_ name: String, type: String = "Float64", _ tuples: [String], components: Int = 1, perLine: Int) {
        lines.append("\(indent)<DataArray type=\"\(type)\" Name=\"\(name)\" NumberOfComponents=\"\(components)\" format=\"ascii\">")
        let step = max(perLine, 1)
        for start in stride(from: 0, to: tuples.count, by: step) {
            lines.append(indent + "  " + tuples[start..<min(start + step, tuples.count)].joined(separator: " "))
        }
        lines.append("\(indent)</DataArray>")
    }

    func finish() -> String { (lines + ["</VTKFile>"]).joined(separator: "\n") + "\n" }
}
