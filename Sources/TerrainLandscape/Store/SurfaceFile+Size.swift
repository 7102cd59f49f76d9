import Foundation
import TerrainIO

extension SurfaceFile {
    /// The number of values in the largest dataset at the root of the HDF5 file at `path`, from
    /// the datasets' shapes alone (nothing is read): len(y) × len(x) for a surface, times the
    /// number of frames for a stack. `read(from:)` reads every root dataset, so this bounds what
    /// reading the file would load; a caller with a budget (the server) asks it first and refuses
    /// a file that declares a huge grid before any of it is read. A product that overflows is
    /// `Int.max`.
    public static func largestDatasetCount(at path: String) throws -> Int {
        do {
            let file = try HDF5File(path: path, mode: .readOnly)
            defer { file.close() }
            var largest = 0
            for name in try file.datasetNames() {
                let shape = try file.datasetShape(name)
                var count = 1
                for dimension in shape {
                    let (product, overflow) = count.multipliedReportingOverflow(by: max(dimension, 0))
                    count = overflow ? Int.max : product
                }
                largest = max(largest, count)
            }
            return largest
        } catch {
            throw LandscapeError.incompatibleFile(path, "cannot read the surface: \(error)")
        }
    }
}
