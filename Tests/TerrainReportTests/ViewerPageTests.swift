import Foundation
import Testing
import TerrainLandscape
import TerrainPlot
@testable import TerrainReport

/// The viewer page's contents: what it embeds and that it needs nothing from outside. Whether
/// it draws is checked in a real browser by tests/browser.sh.
@Suite("Viewer page")
struct ViewerPageTests {
    func surface(_ f: (Double, Double) -> Double) -> SurfaceFile {
        let x = [-1.0, -0.5, 0, 0.5, 1], y = [-1.0, 0, 1]
        let loss = y.flatMap { b in x.map { a in f(a, b) } }
        return SurfaceFile(grid: SurfaceGrid(x: x, y: y), values: [.trainLoss: loss, .trainAccuracy: loss.map { $0.isFinite ? 100 / (1 + $0) : $0 }],
                           directionFile: "")
    }

    /// The embedded JSON, parsed back.
    func payload(_ html: String) throws -> [String: Any] {
        let start = try #require(html.range(of: "<script type=\"application/json\" id=\"terrain-data\">"))
        let end = try #require(html.range(of: "</script>", range: start.upperBound..<html.endIndex))
        let json = try JSONSerialization.jsonObject(with: Data(html[start.upperBound..<end.lowerBound].utf8))
        return try #require(json as? [String: Any])
    }

    /// What the page's `TV.decodeFloat32` does: little-endian float32 from base64.
    func floats(_ base64: Any?) throws -> [Float] {
        let text = try #require(base64 as? String)
        let bytes = [UInt8](try #require(Data(base64Encoded: text)))
        return stride(from: 0, to: bytes.count, by: 4).map { k -> Float in
            let b0 = UInt32(bytes[k]), b1 = UInt32(bytes[k + 1]) << 8
            let b2 = UInt32(bytes[k + 2]) << 16, b3 = UInt32(bytes[k + 3]) << 24
            return Float(bitPattern: b0 | b1 | b2 | b3)
        }
    }

    /// `terrain analyze`'s findings reach the page for the contour view, keyed by quantity; a
    /// surface without them has no `topology` key at all (its page is as before).
    @Test func storedTopologyReachesThePage() throws {
        var file = surface { a, b in a * a + b * b + 0.5 }
        func frame(_ file: SurfaceFile) throws -> [String: Any] {
            let html = try ViewerPage.html(for: try ViewerPage.document(surfaces: [("s", file)], asFrames: false, title: "one"))
            let surfaces = try #require(try payload(html)["surfaces"] as? [[String: Any]])
            return try #require((surfaces[0]["frames"] as? [[String: Any]])?.first)
        }
        #expect(try frame(file)["topology"] == nil)
        file = file.storing(SurfaceTopology(quantity: "train_loss", field: GridField(grid: file.grid, values: file.values[.trainLoss]!)))
        let topology = try #require(try frame(file)["topology"] as? [String: Any])
        #expect(Array(topology.keys) == ["train_loss"])
        let loss = try #require(topology["train_loss"] as? [String: Any])
        #expect(loss["minima"] as? [[Double]] == [[0, 0]])
        #expect(loss["saddles"] as? [[Double]] == [])
        #expect((loss["maxima"] as? [[Double]])?.count == 4)
        // The basin's outline at +10% of the range (0.2 above the minimum): closed, around (0, 0).
        let outlines = try #require(loss["outlines"] as? [[[Double]]])
        #expect(outlines.count == 1 && outlines[0].first == outlines[0].last && outlines[0].count > 3)
    }

    @Test func valuesNaNAndInfinityReachThePage() throws {
        var file = surface { a, b in a * a + b * b + 0.5 }
        file.values[.trainLoss]![3] = .nan
        file.values[.trainLoss]![8] = .infinity
        file.values[.trainLoss]![9] = -.nan  // computed, and NaN (sign bit set)
        file.extraDatasets = ["path_x": [1, 0.5, .nan, 0], "path_y": [1, 0.2, 0.1, 0], "path_lr_drop": [0, 1, 0, 0], "path_iteration": [0, 5, 10, 15]]
        let html = try ViewerPage.html(for: try ViewerPage.document(surfaces: [("s", file)], asFrames: false, title: "one"))
        let data = try payload(html)
        let surfaces = try #require(data["surfaces"] as? [[String: Any]])
        let frame = try #require((surfaces[0]["frames"] as? [[String: Any]])?.first)
        #expect(frame["order"] as? [String] == ["train_loss", "train_acc"])
        #expect(frame["x"] as? [Double] == [-1, -0.5, 0, 0.5, 1])
        let loss = try floats((frame["values"] as? [String: Any])?["train_loss"])
        #expect(loss.count == 15)
        #expect(loss[3].isNaN && loss[8] == .infinity)
        // A NaN keeps its sign bit, which tells the page "NaN" from "not computed".
        #expect(loss[3].sign == .plus && loss[9].isNaN && loss[9].sign == .minus)
        #expect(data["invalidColor"] as? [Double] != nil)
        #expect(loss[0] == Float(2.5) && loss[12] == Float(1.5))
        // The path keeps its finite points; the drop at index 1 stays at index 1.
        let path = try #require(frame["path"] as? [String: Any])
        #expect(path["x"] as? [Double] == [1, 0.5, 0])
        #expect(path["drops"] as? [Int] == [1])
        #expect(path["iterations"] as? [Double] == [0, 5, 15])
        #expect(frame["label"] as? String == "loss 0.5 · accuracy 66.7 %")
        // The same colour maps as the figures.
        let maps = try #require(data["colorMaps"] as? [String: [[Double]]])
        #expect(Set(maps.keys) == Set(ColorMap.all.map(\.name)))
        let viridis = try #require(maps["viridis"])
        #expect(viridis.count == ColorMap.viridis.anchors.count)
        #expect(abs(viridis[0][0] - ColorMap.viridis.anchors[0].red) < 1e-4)
    }

    @Test func thePageNeedsNothingFromOutside() throws {
        let html = try ViewerPage.html(for: try ViewerPage.document(surfaces: [("a", surface { a, b in a + b + 3 })], asFrames: false, title: "t"))
        for outside in ["http://", "https://", "<link", "<img", " src=", "<iframe", "import("] {
            #expect(!html.contains(outside), "the page refers to \(outside)")
        }
        #expect(html.contains("<canvas") == false, "canvases are made by the script")
        #expect(html.contains("TV.Surface3D") && html.contains("TV.ContourView") && html.contains("id=\"terrain-selfcheck\""))
    }

    /// A name holding `</script>` cannot end the data element early, and is escaped in the title.
    @Test func namesCannotBreakThePage() throws {
        let name = "</script><script>alert(1)</script>"
        let html = try ViewerPage.html(for: try ViewerPage.document(surfaces: [(name, surface { a, _ in a + 2 })], asFrames: false, title: name))
        #expect(html.components(separatedBy: "</script>").count == 4)  // errorCapture, data, viewer
        #expect(html.contains("<title>&lt;/script&gt;"))
        let data = try payload(html)
        let surfaces = try #require(data["surfaces"] as? [[String: Any]])
        #expect(surfaces[0]["name"] as? String == name)
    }

    @Test func aStackIsOneSurfaceWithAFramePerFile() throws {
        var files: [(name: String, file: SurfaceFile)] = []
        for k in 0..<3 {
            var f = surface { a, b in Double(k + 1) * (a * a + b * b) + 0.1 }
            f.numberAttributes["terrain.epoch"] = Double(k * 2)
            files.append(("epoch\(k)", f))
        }
        let stack = try ViewerSurface.stack(name: "training", files: files)
        #expect(stack.frames.count == 3)
        #expect(stack.frames.map(\.label) == ["epoch0 · epoch 0 · loss 0.1 · accuracy 90.9 %", "epoch1 · epoch 2 · loss 0.1 · accuracy 90.9 %",
                                              "epoch2 · epoch 4 · loss 0.1 · accuracy 90.9 %"])
        let labelled = try ViewerSurface.stack(name: "training", files: files, labels: ["a", "b", "c"])
        #expect(labelled.frames.map(\.label) == ["a", "b", "c"])
        #expect(throws: LandscapeError.self) { try ViewerSurface.stack(name: "t", files: files, labels: ["a"]) }
        let oneD = SurfaceFile(grid: SurfaceGrid(x: [0, 1]), values: [.trainLoss: [1, 2]], directionFile: "")
        #expect(throws: LandscapeError.self) { try ViewerSurface.stack(name: "t", files: files + [("line", oneD)]) }
        #expect(throws: LandscapeError.self) { try ViewerSurface.stack(name: "t", files: []) }
        let html = try ViewerPage.html(for: ViewerDocument(title: "stack", surfaces: [stack]))
        let data = try payload(html)
        let surfaces = try #require(data["surfaces"] as? [[String: Any]])
        #expect(surfaces.count == 1 && (surfaces[0]["frames"] as? [Any])?.count == 3)
    }

    @Test func curvatureMapsBecomeQuantities() throws {
        var file = surface { a, b in a * a + b * b + 1 }
        file.extraDatasets["max_eig"] = [Double](repeating: 4, count: 15)
        file.extraDatasets["min_eig"] = [Double](repeating: -1, count: 15)
        let frame = ViewerFrame(file: file, name: "c")
        #expect(frame.quantities.map(\.name) == ["train_loss", "train_acc", "max_eig", "min_eig", "eig_ratio"])
        #expect(frame.quantities.last?.values.allSatisfy { $0 == -0.25 } == true)
    }

    /// A next-token loss's surface: perplexity follows the four quantities, and the frame's label
    /// says it, with the accuracy named as over tokens.
    @Test func perplexityBecomesAQuantityAndIsInTheLabel() throws {
        var file = surface { a, b in a * a + b * b + 2 }
        SurfacePerplexity.add(to: &file)
        let frame = ViewerFrame(file: file, name: "gpt")
        #expect(frame.quantities.map(\.name) == ["train_loss", "train_acc", "train_perplexity"])
        #expect(frame.label == "gpt · loss 2 · perplexity 7.389 · token accuracy 33.3 %")
        // Without perplexity (a classifier), the label is as it was.
        #expect(ViewerFrame(file: surface { a, b in a * a + b * b + 2 }, name: "cnn").label == "cnn · loss 2 · accuracy 33.3 %")
    }

    /// Each data set has its own colour scale: the group is the data's name, without a folder.
    @Test func scaleGroupsAreDataSets() throws {
        var file = surface { a, b in a * a + b * b + 2 }
        #expect(ViewerSurface.dataSet(of: file) == "")
        file.textAttributes["terrain.data"] = "fortunes context 32 train 128 test 128 subset 128 seed 0"
        #expect(ViewerSurface.dataSet(of: file) == "fortunes")
        file.textAttributes["terrain.data"] = "/tmp/runs/story.txt train 176 test 44"
        #expect(ViewerSurface.dataSet(of: file) == "story.txt")
        file.textAttributes["terrain.data"] = "fashion-mnist train 1000 test 1000 subset 1000 seed 0"
        let html = try ViewerPage.html(for: try ViewerPage.document(surfaces: [("s", file)], asFrames: false, title: "one"))
        let surfaces = try #require(try payload(html)["surfaces"] as? [[String: Any]])
        #expect(surfaces[0]["scaleGroup"] as? String == "fashion-mnist")
    }

    @Test func writesAtomically() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-viewer-\(getpid()).html").path
        try ViewerPage.write(surfaces: [("a", surface { a, b in a * b + 1 })], title: "written", to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("<!DOCTYPE html>") && text.contains("<title>written</title>"))
        #expect(!FileManager.default.fileExists(atPath: path + ".partial"))
        #expect(throws: LandscapeError.self) { try ViewerPage.html(for: ViewerDocument(title: "none", surfaces: [])) }
    }
}
