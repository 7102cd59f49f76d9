import Foundation
import TerrainIO

/// A surface in the formats other tools read without HDF5.
extension SurfaceFile {
    /// NumPy's `.npz`: `xcoordinates`, `ycoordinates` and every quantity shaped (len(y), len(x)),
    /// plus the extra datasets (the projected path of a trajectory).
    public func npz() -> Data {
        var arrays: [(String, NumpyArray)] = [("xcoordinates", NumpyArray(grid.x, shape: [grid.x.count]))]
        if grid.isTwoDimensional { arrays.append(("ycoordinates", NumpyArray(grid.y, shape: [grid.y.count]))) }
        for q in SurfaceQuantity.allCases {
            if let v = values[q] { arrays.append((q.rawValue, NumpyArray(v, shape: grid.shape))) }
        }
        for name in extraDatasets.keys.sorted() { arrays.append((name, NumpyArray(extraDatasets[name]!, shape: [extraDatasets[name]!.count]))) }
        return NPZ.write(arrays: arrays)
    }

    /// One row per grid point: x, y (2D only), then each quantity, then each extra dataset with a
    /// value per grid point (a curvature map's `max_eig` and `min_eig`, a language model's
    /// perplexity; lists such as a trajectory's path are left out); NaN (not computed) and inf
    /// (diverged) are written as `nan` and `inf`, which numpy and pandas read.
    public func csv() -> String {
        let quantities = SurfaceQuantity.allCases.filter { values[$0] != nil }
        let perPoint = extraDatasets.keys.sorted().filter { extraShape($0, count: extraDatasets[$0]!.count) == grid.shape }
        let columns = quantities.map { values[$0]! } + perPoint.map { extraDatasets[$0]! }
        var lines = [((grid.isTwoDimensional ? ["x", "y"] : ["x"]) + quantities.map(\.rawValue) + perPoint).joined(separator: ",")]
        func text(_ v: Double) -> String { v.isNaN ? "nan" : v.isInfinite ? (v > 0 ? "inf" : "-inf") : "\(v)" }
        for point in 0..<grid.pointCount {
            let (alpha, beta) = grid.coordinates(of: point)
            let coordinates = grid.isTwoDimensional ? [alpha, beta] : [alpha]
            lines.append((coordinates.map(text) + columns.map { text($0[point]) }).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The extensions `export(to:)` writes.
    public static let exportExtensions = ["npz", "csv", "vtp", "vts"]

    /// Writes `.npz`, `.csv`, `.vtp` or `.vts` (see `vtp(_:)`; `vtk` applies to those two only),
    /// chosen by the extension of `path`, atomically.
    public func export(to path: String, vtk: VTKExportOptions = VTKExportOptions()) throws {
        let data: Data
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "npz": data = npz()
        case "csv": data = Data(csv().utf8)
        case "vtp": data = Data(try vtp(vtk).utf8)
        case "vts": data = Data(try vts(vtk).utf8)
        default: throw LandscapeError.invalidRequest("export writes .npz, .csv, .vtp or .vts files; got '\(path)'")
        }
        do { try AtomicFile.write(data, to: URL(fileURLWithPath: path)) } catch {
            throw LandscapeError.incompatibleFile(path, "\(error)")
        }
    }
}
