import Foundation
import TerrainIO

/// A surface in the HDF5 layout that Li et al.'s scripts and h5py read:
///
///     xcoordinates  float64 [nx]          ycoordinates  float64 [ny]   (2D only)
///     train_loss, train_acc, test_loss, test_acc   float64 (ny, nx), or (nx) in 1D
///     dir_file      string: the direction file
///     point_checksum  float64, shaped like the quantities: each point's checksum (`PointChecksums`)
///
/// Z[j, i] is the point (x[i], y[j]), so `contour(meshgrid(x, y), Z)` is right for any grid.
/// NaN marks a point not computed yet (not the reference's `<= 0`, which a true zero loss would
/// hit); +∞ a diverged one. Root attributes describe the run.
///
/// A *stack* (`frameCount` set; written by `terrain evolve`, read through `SurfaceStack`) holds
/// several surfaces over the same grid: each quantity is shaped (frames, len(y), len(x)), frame
/// k's surface being `train_loss[k]`, with 1-D `frame_*` datasets (numbers, and string lists such
/// as `frame_checkpoint`) describing the frames.
public struct SurfaceFile {
    public var grid: SurfaceGrid
    public var values: [SurfaceQuantity: [Double]]
    public var directionFile: String
    public var textAttributes: [String: String]
    public var numberAttributes: [String: Double]
    /// Further datasets stored beside the surface: a trajectory's projected path (`path_*`, 1-D)
    /// and grid-shaped ones such as the curvature maps `max_eig` and `min_eig`.
    public var extraDatasets: [String: [Double]] = [:]
    /// 1-D string datasets stored beside the surface (a stack's `frame_checkpoint`).
    public var textDatasets: [String: [String]] = [:]
    /// Groups stored beside the surface, by name (`analysis`, written by `terrain analyze`), kept
    /// when the file is read and written again (`SurfaceFileGroup`).
    public var groups: [String: SurfaceFileGroup] = [:]
    /// nil: one surface. n: a stack of n surfaces over `grid`; each quantity then holds
    /// n × `grid.pointCount` values, frame after frame.
    public var frameCount: Int?
    /// Points whose stored checksum failed when the file was read (`PointChecksums`): their values
    /// were damaged on the disk and now read as NaN (not computed). 0 for a file written here.
    public var damagedPoints = 0

    /// The shape of each quantity's dataset: (len(y), len(x)), (len(x)) in 1D, with the number
    /// of frames in front for a stack.
    public var valueShape: [Int] { frameCount.map { [$0] + grid.shape } ?? grid.shape }
    /// The number of values of each quantity.
    public var valueCount: Int { (frameCount ?? 1) * grid.pointCount }

    /// Whether an extra dataset is a 1-D list (a path, per-frame data) rather than grid-shaped.
    static func isList(_ name: String) -> Bool { name.hasPrefix("path_") || name.hasPrefix("frame_") }

    /// Whether an extra dataset of a stack holds a value for every point of every frame (a next-
    /// token loss's perplexity), shaped like the quantities, frames first (a stack holds no
    /// dataset shaped like one frame's grid, so a stack of one frame is read the same way).
    func isStackShaped(_ name: String, count: Int) -> Bool {
        frameCount != nil && !Self.isList(name) && count == valueCount
    }

    /// How an extra dataset is stored: like the quantities (a stack's per-point dataset), like
    /// the grid (curvature, a surface's perplexity), or as a list.
    func extraShape(_ name: String, count: Int) -> [Int] {
        if isStackShaped(name, count: count) { return valueShape }
        return !Self.isList(name) && count == grid.pointCount ? grid.shape : [count]
    }

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
                if let v = values[q] { try file.write(v, shape: valueShape, to: q.rawValue) }
            }
            try file.writeString(directionFile, to: "dir_file")
            for (name, v) in extraDatasets { try file.write(v, shape: extraShape(name, count: v.count), to: name) }
            for (name, v) in textDatasets { try file.writeStrings(v, to: name) }
            for (name, group) in groups { try group.write(to: file, at: name) }
            for (k, v) in textAttributes where k != PointChecksums.coversAttribute { try file.setAttribute(k, v) }
            for (k, v) in numberAttributes { try file.setAttribute(k, v) }
            let (covered, sums) = PointChecksums.compute(for: self)
            if sums.count == valueCount, valueCount > 0 {
                try file.write(sums, shape: valueShape, to: PointChecksums.datasetName)
                try file.setAttribute(PointChecksums.coversAttribute, covered.joined(separator: ","))
            }
        }
    }

    /// Reads a surface file. A stack (see the type's comment) is refused unless `allowingStacks`:
    /// code written for one surface would misread it; `SurfaceStack.read` reads stacks.
    public static func read(from path: String, allowingStacks: Bool = false) throws -> SurfaceFile {
        do {
            let file = try HDF5File(path: path, mode: .readOnly)
            defer { file.close() }
            let x = try file.readDoubles("xcoordinates").values
            let y = file.exists("ycoordinates") ? try file.readDoubles("ycoordinates").values : []
            let grid = SurfaceGrid(x: x, y: y)
            var values: [SurfaceQuantity: [Double]] = [:]
            var frameCount: Int?
            for q in SurfaceQuantity.allCases where file.exists(q.rawValue) {
                let (shape, v) = try file.readDoubles(q.rawValue)
                // One more dimension than the grid: a stack of surfaces, frames first.
                let frames = shape.count == grid.shape.count + 1 ? shape[0] : nil
                guard shape.dropFirst(frames == nil ? 0 : 1).elementsEqual(grid.shape), frames.map({ $0 >= 1 }) ?? true,
                      values.isEmpty || frames == frameCount else {
                    throw LandscapeError.incompatibleFile(path, "\(q.rawValue) has shape \(shape), the grid is \(grid.shape)")
                }
                frameCount = frames
                values[q] = v
            }
            if let frameCount, !allowingStacks {
                throw LandscapeError.incompatibleFile(path, "holds a stack of \(frameCount) surfaces (written by `terrain evolve`), not one surface: draw it with `terrain animate`")
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
            surface.frameCount = frameCount
            // A trajectory's path (path_*), a stack's frame data (frame_*) and grid-shaped extras
            // such as curvature (max_eig, min_eig).
            let known = Set(SurfaceQuantity.allCases.map(\.rawValue) + ["xcoordinates", "ycoordinates", "dir_file", PointChecksums.datasetName])
            for name in try file.datasetNames() where !known.contains(name) {
                if let (_, v) = try? file.readDoubles(name) {
                    if isList(name) || v.count == grid.pointCount || surface.isStackShaped(name, count: v.count) {
                        surface.extraDatasets[name] = v
                    }
                } else if isList(name), let v = try? file.readStrings(name) {
                    surface.textDatasets[name] = v
                }
            }
            // Groups are kept for rewriting (`SurfaceFileGroup`); one that cannot be read (a user's
            // own, of types Terrain does not write) is left out rather than failing the surface.
            for name in (try? file.groupNames()) ?? [] {
                if let group = try? SurfaceFileGroup.read(from: file, at: name) { surface.groups[name] = group }
            }
            if let covers = surface.textAttributes.removeValue(forKey: PointChecksums.coversAttribute) {
                // A missing or unreadable checksum dataset fails every point.
                let stored = file.exists(PointChecksums.datasetName) ? (try? file.readDoubles(PointChecksums.datasetName).values) ?? [] : []
                surface.damagedPoints = PointChecksums.verify(&surface, stored: stored, covers: covers)
            }
            return surface
        } catch let error as LandscapeError {
            throw error
        } catch {
            throw LandscapeError.incompatibleFile(path, "cannot read the surface: \(error)")
        }
    }
}
