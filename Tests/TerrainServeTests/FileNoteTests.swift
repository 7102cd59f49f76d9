import Foundation
import Testing
import TerrainIO
@testable import TerrainServe

/// The listing's note on each kind of HDF5 file Terrain writes, from the file's contents.
@Suite("What the listing says an HDF5 file is")
struct FileNoteTests {
    /// A file at a fresh path with the given datasets (shape → zeros) and string attributes.
    static func file(_ name: String, datasets: [String: [Int]], attributes: [String: String] = [:]) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-notes-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + name
        let file = try HDF5File(path: path, mode: .create)
        defer { file.close() }
        for (dataset, shape) in datasets {
            try file.write([Double](repeating: 0, count: shape.reduce(1, *)), shape: shape, to: dataset)
        }
        for (key, value) in attributes { try file.setAttribute(key, value) }
        return path
    }

    static func note(_ path: String) -> String {
        var item = FolderListing.Item(path: (path as NSString).lastPathComponent, kind: .hdf5, size: 0)
        FolderListing.describeHDF5(&item, at: path)
        return item.note
    }

    @Test func surfacesStacksCurvesAndSpectraAreToldApart() throws {
        let surface = try Self.file("s.h5", datasets: ["xcoordinates": [5], "ycoordinates": [3], "train_loss": [3, 5]])
        #expect(Self.note(surface) == "2D surface 5x3")
        let path = try Self.file("t.h5", datasets: ["xcoordinates": [4], "ycoordinates": [4], "train_loss": [4, 4],
                                                     "path_x": [7], "path_y": [7]])
        #expect(Self.note(path) == "2D surface 4x4, training path")
        let convexity = try Self.file("c.h5", datasets: ["xcoordinates": [3], "ycoordinates": [3], "train_loss": [3, 3],
                                                          "max_eig": [3, 3], "min_eig": [3, 3]])
        #expect(Self.note(convexity) == "2D surface 3x3, curvature map")
        let stack = try Self.file("e.h5", datasets: ["xcoordinates": [11], "ycoordinates": [9], "train_loss": [6, 9, 11],
                                                      "frame_epoch": [6]])
        #expect(Self.note(stack) == "evolve stack: 6 surfaces of 11x9")
        let line = try Self.file("i.h5", datasets: ["xcoordinates": [41], "train_loss": [41]],
                                 attributes: ["terrain.from": "a.safetensors", "terrain.to": "b.safetensors"])
        #expect(Self.note(line) == "interpolation, 41 points")
        let curve = try Self.file("d.h5", datasets: ["xcoordinates": [21], "train_loss": [21]])
        #expect(Self.note(curve) == "1D surface, 21 points")
        let spectrum = try Self.file("h.h5", datasets: ["eigenvalues": [4], "residuals": [4], "trace": [1],
                                                         "density": [100], "density_x": [100]])
        #expect(Self.note(spectrum) == "Hessian spectrum: 4 extreme eigenvalues, trace, spectral density")
        let top = try Self.file("top.h5", datasets: ["eigenvalues": [1], "residuals": [1]])
        #expect(Self.note(top) == "Hessian spectrum: 1 extreme eigenvalue")
        let other = try Self.file("o.h5", datasets: ["weights": [3]])
        #expect(Self.note(other) == "HDF5, not a surface")
        let ensemble = try Self.file("r.h5", datasets: ["xcoordinates": [9], "train_loss": [9], "repeats/0/train_loss": [9]])
        let file = try HDF5File(path: ensemble, mode: .readWrite)
        try file.setAttribute("members", 3.0, on: "repeats")
        try file.setAttribute("kind", "subsets", on: "repeats")
        file.close()
        #expect(Self.note(ensemble) == "1D surface, 9 points, ensemble of 3 data subsets")
    }

    /// Each figure once: a thumbnail of its PNG with its formats linked in the caption, a figure
    /// without a PNG one row with its formats; no format listed on its own row.
    @Test func eachFigureIsListedOnceWithItsFormats() {
        func item(_ path: String) -> FolderListing.Item { FolderListing.Item(path: path, kind: FileKind(fileName: path)!, size: 2048) }
        let folder = FolderListing.Folder(path: "run", run: nil, items: [
            item("run/loss.pdf"), item("run/loss.png"), item("run/loss.svg"), item("run/only.svg"),
            item("run/only.pdf"), item("run/metrics.csv")])
        let listing = FolderListing(folders: [folder])
        let page = ListingPage.html(listing, title: "t")
        #expect(page.components(separatedBy: "<img ").count == 2)
        #expect(page.contains("<img src=\"/files/run/loss.png\""))
        #expect(page.contains("<figcaption>loss <a href=\"/files/run/loss.png\" title=\"2.0 kB\">PNG</a> · "
                              + "<a href=\"/files/run/loss.svg\" title=\"2.0 kB\">SVG</a> · <a href=\"/files/run/loss.pdf\" title=\"2.0 kB\">PDF</a></figcaption>"))
        #expect(page.contains("<tr><td>only</td><td class=\"note\">figure</td><td><a href=\"/files/run/only.svg\""))
        #expect(!page.contains(">loss.svg<") && !page.contains(">only.pdf<"))
        #expect(page.contains(">metrics.csv<"))
    }
}
