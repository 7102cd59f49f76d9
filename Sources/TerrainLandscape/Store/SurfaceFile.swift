import Foundation
import TerrainIO

/// A surface in the HDF5 layout that Li et al.'s scripts and h5py read:
///
///     xcoordinates  float64 [nx]          ycoordinates  float64 [ny]   (2D only)
///     train_loss, train_acc, test_loss, test_acc   float64 (ny, nx), or (nx) in 1D
///     dir_file      string: the direction file
///
/// Z[j, i] is the point (x[i], y[j]), so `contour(meshgrid(x, y), Z)` is right for any grid.
/// NaN marks a point not computed yet (not the reference's `<= 0`, which a true zero loss would
/// hit); +∞ a diverged one. Root attributes describe the run.
public struct SurfaceFile {
    public var grid: SurfaceGrid
    public var values: [SurfaceQuantity: [Double]]
    public var directionFile: String
    public var textAttributes: [String: String]
    public var numberAttributes: [String: Double]
    /// Further datasets stored beside the surface: a trajectory's projected path (`path_*`, 1-D)
    /// and grid-shaped ones such as the curvature maps `max_eig` and `min_eig`.
    public var extraDatasets: [String: [Double]] = [:]

    public init(grid: SurfaceGrid, values: [SurfaceQuantity: [Double]], directionFile: String,
                textAttributes: [String: String] = [:], numberAttributes: [String: Double] = [:]) {
        self.grid = grid; self.values = values; self.directionFile = directionFile
        self.textAttributes = textAttributes; self.numberAttributes = numberAttributes
    }

    /// Writes to a temporary file beside `path` and renames it over `path`: a kill at any moment
    /// leaves either the previous complete file or the new one.
    public func write(to path: String) throws {
        try HDF5File.writeAtomically(to: path, what: "the surface") { file in
            try file.write(grid.x, shape: [grid.x.count], to: "xcoordinates")
            if grid.isTwoDimensional { try file.write(grid.y, shape: [grid.y.count], to: "ycoordinates") }
            for q in SurfaceQuantity.allCases {
                if let v = values[q] { try file.write(v, shape: grid.shape, to: q.rawValue) }
            }
            try file.writeString(directionFile, to: "dir_file")
            for (name, v) in extraDatasets {
                let gridShaped = !name.hasPrefix("path_") && v.count == grid.pointCount
                try file.write(v, shape: gridShaped ? grid.shape : [v.count], to: name)
            }
            for (k, v) in textAttributes { try file.setAttribute(k, v) }
            for (k, v) in numberAttributes { try file.setAttribute(k, v) }
        }
    }

    public static func read(from path: String) throws -> SurfaceFile {
        do {
            let file = try HDF5File(path: path, mode: .readOnly)
            defer { file.close() }
            let x = try file.readDoubles("xcoordinates").values
            let y = file.exists("ycoordinates") ? try file.readDoubles("ycoordinates").values : []
            let grid = SurfaceGrid(x: x, y: y)
            var values: [SurfaceQuantity: [Double]] = [:]
            for q in SurfaceQuantity.allCases where file.exists(q.rawValue) {
                let (shape, v) = try file.readDoubles(q.rawValue)
                guard v.count == grid.pointCount else {
                    throw LandscapeError.incompatibleFile(path, "\(q.rawValue) has shape \(shape), the grid is \(grid.shape)")
                }
                values[q] = v
            }
            var text: [String: String] = [:], numbers: [String: Double] = [:]
            for name in try file.attributeNames() {
                switch try file.attribute(name) {
                case .string(let s)?: text[name] = s
                case .double(let d)?: numbers[name] = d
                case .int(let i)?: numbers[name] = Double(i)
                default: break
                }
            }
            let dirFile = file.exists("dir_file") ? try file.readString("dir_file") : ""
            var surface = SurfaceFile(grid: grid, values: values, directionFile: dirFile, textAttributes: text, numberAttributes: numbers)
            // A trajectory's path (path_*) and grid-shaped extras such as curvature (max_eig, min_eig).
            let known = Set(SurfaceQuantity.allCases.map(\.rawValue) + ["xcoordinates", "ycoordinates", "dir_file"])
            for name in try file.datasetNames() where !known.contains(name) {
                guard let (_, v) = try? file.readDoubles(name) else { continue }
                if name.hasPrefix("path_") || v.count == grid.pointCount { surface.extraDatasets[name] = v }
            }
            return surface
        } catch let error as LandscapeError {
            throw error
        } catch {
            throw LandscapeError.incompatibleFile(path, "cannot read the surface: \(error)")
        }
    }
}
