import Testing
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TerrainLandscape

/// The VTK exports, read back with an XML parser: counts, connectivity, values, the rule for
/// points that cannot be drawn.
@Suite("VTK export")
struct VTKTests {
    /// A 2D surface on a non-square grid (nx = 4, ny = 3) whose values are not short decimals,
    /// so that the text must round-trip exactly.
    func surface(nx: Int = 4, ny: Int = 3, trainLoss: ((Int, Int) -> Double)? = nil) -> SurfaceFile {
        let xs: [Double] = (0..<nx).map { -1 + 2 * Double($0) / Double(nx - 1) }
        let ys: [Double] = (0..<ny).map { 0.5 + Double($0) / 3 }
        let grid = SurfaceGrid(x: xs, y: ys)
        func values(_ f: (Int, Int) -> Double) -> [Double] { (0..<grid.pointCount).map { f($0 % nx, $0 / nx) } }
        func defaultLoss(_ i: Int, _ j: Int) -> Double { 1.0 / 3 + Double(i) * 0.7 + Double(j * j) * 1.1 }
        func accuracy(_ i: Int, _ j: Int) -> Double { 100 - Double(i + j) * 7.5 }
        func testLoss(_ i: Int, _ j: Int) -> Double { 2 + sin(Double(i)) * cos(Double(j)) }
        let loss = trainLoss.map { values($0) } ?? values(defaultLoss)
        return SurfaceFile(grid: grid, values: [.trainLoss: loss, .trainAccuracy: values(accuracy), .testLoss: values(testLoss)],
                           directionFile: "d.h5")
    }

    /// The parsed document and its arrays.
    struct Parsed {
        let document: XMLDocument

        init(_ text: String) throws { document = try XMLDocument(xmlString: text, options: []) }

        func element(_ path: String) throws -> XMLElement {
            let nodes = try document.nodes(forXPath: path)
            try #require(nodes.count == 1, "\(path): \(nodes.count) matches")
            return try #require(nodes[0] as? XMLElement)
        }

        func attribute(_ path: String, _ name: String) throws -> String {
            try #require(try element(path).attribute(forName: name)?.stringValue)
        }

        /// The numbers of the `DataArray` named `name` under `parent` (PointData, CellData, Points, Polys).
        func numbers(_ parent: String, _ name: String) throws -> [Double] {
            let text = try element("//\(parent)/DataArray[@Name='\(name)']").stringValue ?? ""
            return try text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { try #require(Double(String($0)), "\($0)") }
        }

        func names(_ parent: String) throws -> [String] {
            try document.nodes(forXPath: "//\(parent)/DataArray").compactMap { ($0 as? XMLElement)?.attribute(forName: "Name")?.stringValue }
        }
    }

    /// Checks the points (grid order, z) and returns them as (x, y, z) triples.
    func checkPoints(_ parsed: Parsed, _ file: SurfaceFile, z expected: [Double]) throws {
        let points = try parsed.numbers("Points", "Points")
        #expect(try parsed.attribute("//Points/DataArray", "NumberOfComponents") == "3")
        try #require(points.count == 3 * file.grid.pointCount)
        for k in 0..<file.grid.pointCount {
            let (alpha, beta) = file.grid.coordinates(of: k)
            #expect(points[3 * k] == alpha && points[3 * k + 1] == beta && points[3 * k + 2] == expected[k], "point \(k)")
        }
    }

    @Test func polyDataOfACompleteGrid() throws {
        let file = surface()
        let nx = 4, ny = 3
        let parsed = try Parsed(try file.vtp())
        #expect(try parsed.attribute("/VTKFile", "type") == "PolyData")
        #expect(try parsed.attribute("//Piece", "NumberOfPoints") == "\(nx * ny)")
        #expect(try parsed.attribute("//Piece", "NumberOfPolys") == "\((nx - 1) * (ny - 1))")
        let loss = file.values[.trainLoss]!
        try checkPoints(parsed, file, z: loss)
        let z = try parsed.numbers("PointData", "zvalue")
        #expect(z == loss)   // bit for bit
        #expect(try parsed.numbers("PointData", "valid") == Array(repeating: 1, count: nx * ny))

        let connectivity = try parsed.numbers("Polys", "connectivity").map { Int($0) }
        let offsets = try parsed.numbers("Polys", "offsets").map { Int($0) }
        let averages = try parsed.numbers("CellData", "averaged zvalue")
        #expect(offsets == (1...(nx - 1) * (ny - 1)).map { 4 * $0 })
        #expect(connectivity.count == offsets.last && averages.count == offsets.count)
        var cell = 0
        for j in 0..<ny - 1 {
            for i in 0..<nx - 1 {
                let quad = Array(connectivity[4 * cell..<4 * cell + 4])
                let k = j * nx + i
                #expect(quad == [k, k + 1, k + nx + 1, k + nx], "cell (\(i), \(j))")
                #expect(averages[cell] == (z[quad[0]] + z[quad[1]] + z[quad[2]] + z[quad[3]]) / 4)
                cell += 1
            }
        }
    }

    @Test func quantityLogAndClip() throws {
        let file = surface()
        let options = VTKExportOptions(quantity: .testLoss, logarithmic: true, zmax: 2.5)
        let parsed = try Parsed(try file.vtp(options))
        let expected = file.values[.testLoss]!.map { log(min($0, 2.5) + 0.1) }
        #expect(file.values[.testLoss]!.contains { $0 > 2.5 } && file.values[.testLoss]!.contains { $0 < 2.5 })
        let z = try parsed.numbers("PointData", "zvalue")
        #expect(z == expected)
        try checkPoints(parsed, file, z: expected)
        // The clip alone, on the training loss, and zmax <= 0 leaving values as they are.
        let clipped = try Parsed(try file.vtp(VTKExportOptions(zmax: 3)))
        #expect(try clipped.numbers("PointData", "zvalue") == file.values[.trainLoss]!.map { min($0, 3) })
        let unclipped = try Parsed(try file.vtp(VTKExportOptions(zmax: -1)))
        #expect(try unclipped.numbers("PointData", "zvalue") == file.values[.trainLoss]!)
    }

    /// NaN at an interior point and +∞ at a corner of a 4×4 grid: the 4 cells around the NaN
    /// and the corner cell are left out, nothing non-finite is written, `valid` marks the two.
    @Test func pointsThatCannotBeDrawnLeaveTheirCellsOut() throws {
        let nan = (1, 1), diverged = (3, 3)
        let file = surface(nx: 4, ny: 4) { i, j in
            (i, j) == nan ? .nan : (i, j) == diverged ? .infinity : Double(i + 4 * j) / 8
        }
        let text = try file.vtp()
        #expect(!text.contains("nan") && !text.contains("inf"))
        let parsed = try Parsed(text)
        #expect(try parsed.attribute("//Piece", "NumberOfPolys") == "4")
        let connectivity = try parsed.numbers("Polys", "connectivity").map { Int($0) }
        #expect(Set(connectivity).isDisjoint(with: [5, 15]))
        #expect(stride(from: 0, to: connectivity.count, by: 4).map { connectivity[$0] } == [2, 6, 8, 9])
        let valid = try parsed.numbers("PointData", "valid")
        #expect(valid.enumerated().filter { $0.element == 0 }.map(\.offset) == [5, 15])
        // Stand-in heights: the largest drawable one, so bounds and colour range are the surface's.
        let z = try parsed.numbers("PointData", "zvalue")
        #expect(z[5] == 14.0 / 8 && z[15] == 14.0 / 8 && z[14] == 14.0 / 8 && z[0] == 0)
        #expect(try parsed.numbers("Points", "Points")[3 * 15 + 2] == 14.0 / 8)
        #expect(try parsed.numbers("CellData", "averaged zvalue").count == 4)

        // A clip draws the diverged point at zmax, as the reference does: only the NaN's cells go.
        let clipped = try Parsed(try file.vtp(VTKExportOptions(zmax: 1.5)))
        #expect(try clipped.attribute("//Piece", "NumberOfPolys") == "5")
        let zc = try clipped.numbers("PointData", "zvalue")
        #expect(zc[15] == 1.5 && zc[14] == 1.5 && zc[5] == 1.5)
        #expect(try clipped.numbers("PointData", "valid").enumerated().filter { $0.element == 0 }.map(\.offset) == [5])

        // Nothing drawable at all: a valid file without cells.
        let empty = surface(nx: 2, ny: 2) { _, _ in .nan }
        let none = try Parsed(try empty.vtp())
        #expect(try none.attribute("//Piece", "NumberOfPolys") == "0")
        #expect(try none.numbers("PointData", "zvalue") == [0, 0, 0, 0])
    }

    @Test func structuredGridCarriesEveryQuantity() throws {
        let file = surface()
        let parsed = try Parsed(try file.vts(VTKExportOptions(logarithmic: true)))
        #expect(try parsed.attribute("/VTKFile", "type") == "StructuredGrid")
        #expect(try parsed.attribute("//StructuredGrid", "WholeExtent") == "0 3 0 2 0 0")
        #expect(try parsed.attribute("//Piece", "Extent") == "0 3 0 2 0 0")
        #expect(try parsed.names("PointData") == ["zvalue", "valid", "train_loss", "train_acc", "test_loss"])
        let expected = file.values[.trainLoss]!.map { log($0 + 0.1) }
        #expect(try parsed.numbers("PointData", "zvalue") == expected)
        try checkPoints(parsed, file, z: expected)
        for q in [SurfaceQuantity.trainLoss, .trainAccuracy, .testLoss] {
            #expect(try parsed.numbers("PointData", q.rawValue) == file.values[q]!, "\(q)")
        }
        #expect(try parsed.document.nodes(forXPath: "//Cells").isEmpty)
    }

    @Test func structuredGridBlanksPointsThatCannotBeDrawn() throws {
        var file = surface { i, j in (i, j) == (2, 1) ? .nan : Double(i + j) }
        file.values[.trainAccuracy]![1] = .nan
        let text = try file.vts()
        #expect(!text.contains("nan") && !text.contains("inf"))
        let parsed = try Parsed(text)
        #expect(try parsed.names("PointData") == ["zvalue", "valid", "vtkGhostType", "train_loss", "train_loss valid",
                                                  "train_acc", "train_acc valid", "test_loss"])
        let ghost = try parsed.numbers("PointData", "vtkGhostType")
        #expect(ghost.enumerated().filter { $0.element != 0 }.map(\.offset) == [6] && ghost[6] == 2)
        #expect(try parsed.numbers("PointData", "train_loss")[6] == 5)
        #expect(try parsed.numbers("PointData", "train_acc")[1] == 100 && (try parsed.numbers("PointData", "train_acc valid"))[1] == 0)
    }

    @Test func refusals() throws {
        let line = SurfaceFile(grid: SurfaceGrid(x: [0, 1, 2]), values: [.trainLoss: [1, 2, 3]], directionFile: "")
        #expect(throws: LandscapeError.self) { try line.vtp() }
        #expect(throws: LandscapeError.self) { try line.vts() }
        #expect(throws: LandscapeError.invalidRequest("the surface has no test_acc; it has: train_loss, train_acc, test_loss")) {
            try surface().vtp(VTKExportOptions(quantity: .testAccuracy))
        }
    }

    @Test func exportChoosesTheFormatByExtension() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-vtk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = surface()
        let options = VTKExportOptions(quantity: .testLoss, zmax: 2)
        for (name, expected) in [("s.vtp", try file.vtp(options)), ("s.VTS", try file.vts(options))] {
            let path = dir.appendingPathComponent(name).path
            try file.export(to: path, vtk: options)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == expected)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["s.VTS", "s.vtp"])
    }

    /// CSV: a column per quantity, then one per grid-shaped extra dataset (a curvature map's
    /// eigenvalues), never a list such as a trajectory's path, even one as long as the grid.
    @Test func csvCarriesCurvatureColumnsButNotThePath() {
        var file = SurfaceFile(grid: SurfaceGrid(x: [0, 1], y: [0, 1]), values: [.trainLoss: [1, 2, .nan, .infinity]], directionFile: "")
        file.extraDatasets = ["max_eig": [4, 3, 2, 1], "min_eig": [-1, 0, 1, 2], "path_x": [9, 9, 9, 9]]
        #expect(file.csv() == """
            x,y,train_loss,max_eig,min_eig
            0.0,0.0,1.0,4.0,-1.0
            1.0,0.0,2.0,3.0,0.0
            0.0,1.0,nan,2.0,1.0
            1.0,1.0,inf,1.0,2.0

            """)
    }
}
