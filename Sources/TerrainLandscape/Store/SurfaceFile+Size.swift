import Foundation
import TerrainIO

extension SurfaceFile {
    /// The number of values in the largest dataset of the HDF5 file at `path` (at its root or in
    /// the groups `read(from:)` keeps), from the datasets' shapes alone (nothing is read):
    /// len(y) × len(x) for a surface, times the number of frames for a stack. `read(from:)` reads
    /// every root dataset and those of its groups, so this bounds what
    /// reading the file would load; a caller with a budget (the server) asks it first and refuses
    /// a file that declares a huge grid before any of it is read. A product that overflows is
    /// `Int.max`.
    public static func largestDatasetCount(at path: String) throws -> Int {
        do {
            let file = try HDF5File(path: path, mode: .readOnly)
            defer { file.close() }
            var largest = 0
            // The groups `read(from:)` keeps (`SurfaceFileGroup`), as deep as it reads them.
            func visit(_ group: String, depth: Int) throws {
                for name in try file.datasetNames(in: group) {
                    let shape = try file.datasetShape(group == "/" ? name : group + "/" + name)
                    var count = 1
                    for dimension in shape {
                        let (product, overflow) = count.multipliedReportingOverflow(by: max(dimension, 0))
                        count = overflow ? Int.max : product
                    }
                    largest = max(largest, count)
                }
                guard depth < SurfaceFileGroup.maximumDepth else { return }
                for name in try file.groupNames(in: group) {
                    try visit(group == "/" ? name : group + "/" + name, depth: depth + 1)
                }
            }
            try visit("/", depth: 0)
            return largest
        } catch {
            throw LandscapeError.incompatibleFile(path, "cannot read the surface: \(error)")
        }
    }
}
