import Foundation
import Testing
import TerrainIO
import TerrainTestSupport

/// A path for a new file in a fresh temporary folder; `body` runs, then the folder is removed.
private func withTemporaryPath<T>(_ name: String = "test.h5", _ body: (String) throws -> T) throws -> T {
    let folder = try makeTemporaryFolder("io-tests")
    defer { try? FileManager.default.removeItem(at: folder) }
    return try body(folder.appendingPathComponent(name).path)
}

/// The error `body` throws, which must be an `HDF5Error` whose description contains every
/// phrase in `phrases`.
private func expectFailure(_ phrases: String..., sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    let error = #expect(throws: HDF5Error.self, sourceLocation: sourceLocation) { try body() }
    guard let error else { return }
    for phrase in phrases {
        #expect(error.description.contains(phrase), "\(error.description) should contain \(phrase)", sourceLocation: sourceLocation)
    }
}

private func bits(_ values: [Double]) -> [UInt64] { values.map(\.bitPattern) }

// MARK: - Round trips

@Suite struct HDF5RoundTripTests {
    @Test func doubleDatasetsOfEveryRank() throws {
        try withTemporaryPath { path in
            let nx = 4, ny = 3
            // A (len(y), len(x)) grid: values[j * nx + i] is the point (x[i], y[j]).
            let grid = (0..<ny).flatMap { j in (0..<nx).map { i in Double(i) + 10 * Double(j) } }
            let special: [Double] = [1.0 / 3.0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
            let cube = (0..<24).map { Double($0) * 0.5 - 3 }
            do {
                let file = try HDF5File(path: path, mode: .create)
                try file.write(special, shape: [special.count], to: "rank1")
                try file.write(grid, shape: [ny, nx], to: "train_loss")
                try file.write(cube, shape: [2, 3, 4], to: "cube")
                try file.write([42.5], shape: [], to: "scalar")
                try file.write([], shape: [0, 3], to: "empty")
            }
            let file = try HDF5File(path: path, mode: .readOnly)
            let rank1 = try file.readDoubles("rank1")
            #expect(rank1.shape == [special.count])
            #expect(bits(rank1.values) == bits(special))
            let loss = try file.readDoubles("train_loss")
            #expect(loss.shape == [ny, nx])
            #expect(loss.values == grid)
            #expect(loss.values[2 * nx + 1] == 21)
            let readCube = try file.readDoubles("/cube")
            #expect(readCube.shape == [2, 3, 4] && readCube.values == cube)
            #expect(try file.readDoubles("scalar") == ([], [42.5]))
            #expect(try file.readDoubles("empty") == ([0, 3], []))
            #expect(try file.datasetNames() == ["cube", "empty", "rank1", "scalar", "train_loss"])
            // Shapes without reading: what the server checks before it loads a surface.
            #expect(try file.datasetShape("cube") == [2, 3, 4])
            #expect(try file.datasetShape("train_loss") == [ny, nx])
            #expect(try file.datasetShape("scalar") == [])
            #expect(try file.datasetShape("empty") == [0, 3])
            expectFailure("there is no dataset missing") { _ = try file.datasetShape("missing") }
        }
    }

    @Test func floatDatasetsReadBackExactly() throws {
        try withTemporaryPath { path in
            let values: [Float] = [1.1, -2.5, .pi, 3e-8, -0.0, 65504, .leastNonzeroMagnitude, .infinity]
            let file = try HDF5File(path: path, mode: .create)
            try file.write(values, shape: [values.count], to: "v")
            try file.write(values, shape: [2, 4], to: "m")
            try file.write(values, shape: [2, 2, 2], to: "c")
            for (name, shape) in [("v", [8]), ("m", [2, 4]), ("c", [2, 2, 2])] {
                let read = try file.readDoubles(name)
                #expect(read.shape == shape)
                #expect(bits(read.values) == bits(values.map(Double.init)))
            }
        }
    }

    @Test func nestedPathsCreateGroups() throws {
        try withTemporaryPath { path in
            let file = try HDF5File(path: path, mode: .create)
            try file.write([1, 2], shape: [2], to: "xdirection/0")
            try file.write([3], shape: [1], to: "/xdirection/1")
            try file.write([4.0], shape: [], to: "a/b/c/d")
            #expect(file.exists("xdirection") && file.exists("/xdirection/0") && file.exists("a/b/c/d"))
            #expect(!file.exists("xdirection/2") && !file.exists("missing/deeper") && !file.exists("a/b/c/d/e"))
            #expect(file.exists("/") && file.exists(""))
            #expect(try file.groupNames() == ["a", "xdirection"])
            #expect(try file.datasetNames() == [])
            #expect(try file.groupNames(in: "a/b") == ["c"])
            #expect(try file.datasetNames(in: "a/b/c") == ["d"])
            #expect(try file.datasetNames(in: "xdirection/") == ["0", "1"])
            #expect(try file.readDoubles("a//b/c/d").values == [4])
        }
    }

    @Test func stringDatasets() throws {
        try withTemporaryPath { path in
            let file = try HDF5File(path: path, mode: .create)
            try file.writeString("dirs/resnet56 ✓/directions.h5", to: "dir_file")
            try file.writeString("", to: "meta/empty")
            #expect(try file.readString("dir_file") == "dirs/resnet56 ✓/directions.h5")
            #expect(try file.readString("meta/empty") == "")
            try file.writeString("replaced", to: "dir_file")
            #expect(try file.readString("dir_file") == "replaced")
            file.close()
            #expect(try HDF5File(path: path, mode: .readOnly).readString("dir_file") == "replaced")
        }
    }

    @Test func stringListDatasets() throws {
        try withTemporaryPath { path in
            let file = try HDF5File(path: path, mode: .create)
            let names = ["checkpoints/epoch-0000.safetensors", "", "ünïcode ✓", String(repeating: "long ", count: 300)]
            try file.writeStrings(names, to: "frame_checkpoint")
            try file.writeStrings([], to: "meta/none")
            try file.writeString("one", to: "single")
            try file.write([1, 2], shape: [2], to: "numbers")
            #expect(try file.readStrings("frame_checkpoint") == names)
            #expect(try file.readStrings("meta/none") == [])
            #expect(try file.readStrings("single") == ["one"])
            #expect(throws: HDF5Error.self) { try file.readStrings("numbers") }
            #expect(throws: HDF5Error.self) { try file.writeStrings(["a\u{0}b"], to: "bad") }
            try file.writeStrings(["replaced"], to: "frame_checkpoint")
            file.close()
            #expect(try HDF5File(path: path, mode: .readOnly).readStrings("frame_checkpoint") == ["replaced"])
        }
    }

    @Test func attributesOfEveryType() throws {
        try withTemporaryPath { path in
            do {
                let file = try HDF5File(path: path, mode: .create)
                try file.write([1, 2, 3], shape: [3], to: "xcoordinates")
                try file.write([0.5], shape: [1], to: "group/data")
                try file.setAttribute("terrain.version", "1 ✓")
                try file.setAttribute("alpha", 0.25)
                try file.setAttribute("seed", 123)
                try file.setAttribute("negative", -9_007_199_254_740_993)
                try file.setAttribute("ratios", [0.6, 0.25, 0.15])
                try file.setAttribute("none", [Double]())
                try file.setAttribute("range", "-1:1:51", on: "xcoordinates")
                try file.setAttribute("count", 51, on: "/xcoordinates")
                try file.setAttribute("norm", 2.5, on: "group")
                try file.setAttribute("bounds", [-1, 1], on: "group/data")
                try file.setAttribute("seed", "now a string")  // replaces an attribute of another type
            }
            let file = try HDF5File(path: path, mode: .readOnly)
            #expect(try file.attribute("terrain.version") == .string("1 ✓"))
            #expect(try file.attribute("alpha") == .double(0.25))
            #expect(try file.attribute("negative") == .int(-9_007_199_254_740_993))
            #expect(try file.attribute("ratios") == .doubles([0.6, 0.25, 0.15]))
            #expect(try file.attribute("none") == .doubles([]))
            #expect(try file.attribute("seed") == .string("now a string"))
            #expect(try file.attribute("range", on: "xcoordinates") == .string("-1:1:51"))
            #expect(try file.attribute("count", on: "xcoordinates")?.int == 51)
            #expect(try file.attribute("norm", on: "group")?.double == 2.5)
            #expect(try file.attribute("bounds", on: "group/data")?.doubles == [-1, 1])
            #expect(try file.attribute("absent") == nil)
            #expect(try file.attributeNames() == ["alpha", "negative", "none", "ratios", "seed", "terrain.version"])
            #expect(try file.attributeNames(on: "xcoordinates") == ["count", "range"])
            expectFailure("there is no object missing") { _ = try file.attribute("x", on: "missing") }
            expectFailure("read-only") { try file.setAttribute("x", 1.0) }
        }
    }

    @Test func writeBlockChangesExactlyThatBlock() throws {
        try withTemporaryPath { path in
            let file = try HDF5File(path: path, mode: .create)
            let ny = 4, nx = 5
            try file.write([Double](repeating: -1, count: ny * nx), shape: [ny, nx], to: "train_loss")
            // Rows 1...2, columns 2...4.
            try file.writeBlock([1, 2, 3, 4, 5, 6], shape: [2, 3], offset: [1, 2], in: "train_loss")
            // One point (x[0], y[3]).
            try file.writeBlock([7], shape: [1, 1], offset: [3, 0], in: "train_loss")
            var expected = [Double](repeating: -1, count: ny * nx)
            for (k, (j, i)) in [(1, 2), (1, 3), (1, 4), (2, 2), (2, 3), (2, 4)].enumerated() { expected[j * nx + i] = Double(k + 1) }
            expected[3 * nx + 0] = 7
            #expect(try file.readDoubles("train_loss").values == expected)

            try file.write([Float](repeating: 0, count: 6), shape: [6], to: "line")
            try file.writeBlock([0.5, 1.5], shape: [2], offset: [3], in: "line")
            try file.writeBlock([], shape: [0], offset: [6], in: "line")
            #expect(try file.readDoubles("line").values == [0, 0, 0, 0.5, 1.5, 0])

            expectFailure("does not fit in dimension 1") { try file.writeBlock([1, 2], shape: [1, 2], offset: [0, 4], in: "train_loss") }
            expectFailure("does not fit in dimension 0") { try file.writeBlock([1], shape: [1, 1], offset: [-1, 0], in: "train_loss") }
            expectFailure("holds 2 values, but 3 were given") { try file.writeBlock([1, 2, 3], shape: [1, 2], offset: [0, 0], in: "train_loss") }
            expectFailure("needs 2 sizes and offsets") { try file.writeBlock([1], shape: [1], offset: [0], in: "train_loss") }
            expectFailure("there is no dataset surface") { try file.writeBlock([1], shape: [1], offset: [0], in: "surface") }
            #expect(try file.readDoubles("train_loss").values == expected)
        }
    }

    @Test func overwritingKeepsOrReplacesTheDataset() throws {
        try withTemporaryPath { path in
            let file = try HDF5File(path: path, mode: .create)
            try file.write([1, 2, 3, 4, 5, 6], shape: [2, 3], to: "z")
            try file.setAttribute("kept", 1, on: "z")
            // Same shape and type: the dataset stays (its attribute too) and gets new values.
            try file.write([6, 5, 4, 3, 2, 1], shape: [2, 3], to: "z")
            #expect(try file.readDoubles("z") == ([2, 3], [6, 5, 4, 3, 2, 1]))
            #expect(try file.attribute("kept", on: "z") == .int(1))
            // A different shape: replaced.
            try file.write([1, 2, 3, 4, 5, 6], shape: [3, 2], to: "z")
            #expect(try file.readDoubles("z").shape == [3, 2])
            #expect(try file.attribute("kept", on: "z") == nil)
            // A different element type: replaced, stored as float32.
            try file.write([Float(0.1), 0.2, 0.3, 0.4, 0.5, 0.6], shape: [3, 2], to: "z")
            #expect(try file.readDoubles("z").values[0] == Double(Float(0.1)))
            // A string dataset over a numeric one and back.
            try file.writeString("text", to: "z")
            #expect(try file.readString("z") == "text")
            try file.write([1], shape: [1], to: "z")
            #expect(try file.readDoubles("z").values == [1])
            // Rewriting in place many times does not grow the file.
            try file.write([Double](repeating: 0, count: 10_000), shape: [100, 100], to: "big")
            try file.flush()
            let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
            for round in 0..<5 { try file.write([Double](repeating: Double(round), count: 10_000), shape: [100, 100], to: "big") }
            try file.flush()
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == size)
            // A group is never replaced by a dataset.
            try file.write([1], shape: [1], to: "g/child")
            expectFailure("cannot write dataset g: it is a group") { try file.write([1], shape: [1], to: "g") }
            expectFailure("g/child is not a group") { try file.write([1], shape: [1], to: "g/child/deeper") }
            #expect(try file.readDoubles("g/child").values == [1])
        }
    }

    @Test func datasetNamesAreInNaturalOrder() throws {
        try withTemporaryPath { path in
            let file = try HDF5File(path: path, mode: .create)
            for index in [7, 11, 0, 3, 10, 1, 9, 2, 5, 8, 4, 6] {
                try file.write([Double(index)], shape: [1], to: "xdirection/\(index)")
            }
            #expect(try file.datasetNames(in: "xdirection") == (0...11).map(String.init))
            for name in ["layer10", "layer9", "b", "a", "layer1.bias", "layer1", "02", "1"] {
                try file.write([0], shape: [1], to: "mixed/\(name)")
            }
            #expect(try file.datasetNames(in: "mixed") == ["1", "02", "a", "b", "layer1", "layer1.bias", "layer9", "layer10"])
        }
    }

    @Test func modesAndClosing() throws {
        try withTemporaryPath { path in
            do {
                let file = try HDF5File(path: path, mode: .create)
                try file.write([1], shape: [1], to: "first")
            }
            do {
                let file = try HDF5File(path: path, mode: .readWrite)
                try file.write([2], shape: [1], to: "second")
                file.close()
                file.close()
                #expect(!file.isOpen && !file.exists("first"))
                expectFailure("the file is closed") { _ = try file.readDoubles("first") }
            }
            do {
                let file = try HDF5File(path: path, mode: .readOnly)
                #expect(try file.datasetNames() == ["first", "second"])
                try file.flush()
                // A second reader of the same file in this process.
                #expect(try HDF5File(path: path, mode: .readOnly).readDoubles("second").values == [2])
                expectFailure("cannot write dataset third: the file is open read-only") { try file.write([3], shape: [1], to: "third") }
                expectFailure("read-only") { try file.writeBlock([3], shape: [1], offset: [0], in: "first") }
                expectFailure("read-only") { try file.writeString("x", to: "s") }
            }
            // .create truncates.
            _ = try HDF5File(path: path, mode: .create)
            #expect(try HDF5File(path: path, mode: .readOnly).datasetNames() == [])
        }
    }

    /// Two files written and read from two threads at once stay intact: the library lock
    /// serializes HDF5's calls.
    @Test func filesOnTwoThreads() throws {
        let folder = try makeTemporaryFolder("io-tests")
        defer { try? FileManager.default.removeItem(at: folder) }
        let failures = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            do {
                let path = folder.appendingPathComponent("thread\(worker).h5").path
                let file = try HDF5File(path: path, mode: .create)
                for index in 0..<100 {
                    try file.write([Double(worker), Double(index)], shape: [2], to: "d/\(index)")
                    try file.setAttribute("n", index, on: "d/\(index)")
                }
                for index in 0..<100 {
                    let values = try file.readDoubles("d/\(index)").values
                    if values != [Double(worker), Double(index)] { failures.withLock { $0.append("worker \(worker) dataset \(index)") } }
                }
                if try file.datasetNames(in: "d").count != 100 { failures.withLock { $0.append("worker \(worker) count") } }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 } == [])
    }
}

// MARK: - Errors

@Suite struct HDF5ErrorTests {
    @Test func missingFileAndFolders() throws {
        try withTemporaryPath { path in
            expectFailure(path, "no such file") { _ = try HDF5File(path: path, mode: .readOnly) }
            expectFailure("no such file") { _ = try HDF5File(path: path, mode: .readWrite) }
            let folder = (path as NSString).deletingLastPathComponent
            expectFailure("it is a folder") { _ = try HDF5File(path: folder, mode: .readOnly) }
            expectFailure("it is a folder") { _ = try HDF5File(path: folder, mode: .create) }
            expectFailure("does not exist") { _ = try HDF5File(path: folder + "/no/such/folder/x.h5", mode: .create) }
            expectFailure("empty") { _ = try HDF5File(path: "", mode: .readOnly) }
        }
    }

    @Test func filesThatAreNotHDF5() throws {
        try withTemporaryPath { path in
            try Data("xcoordinates,ycoordinates\n1,2\n".utf8).write(to: URL(fileURLWithPath: path))
            expectFailure(path, "not an HDF5 file") { _ = try HDF5File(path: path, mode: .readOnly) }
            try Data().write(to: URL(fileURLWithPath: path))
            expectFailure("not an HDF5 file: it is empty") { _ = try HDF5File(path: path, mode: .readWrite) }
            // The signature followed by garbage.
            var generator = SplitMix64(seed: 7)
            let garbage = (0..<2048).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try Data([0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A] + garbage).write(to: URL(fileURLWithPath: path))
            expectFailure(path, "truncated or damaged") { _ = try HDF5File(path: path, mode: .readOnly) }
        }
    }

    @Test func truncatedFiles() throws {
        try withTemporaryPath { path in
            do {
                let file = try HDF5File(path: path, mode: .create)
                try file.write((0..<2000).map(Double.init), shape: [40, 50], to: "train_loss")
                try file.setAttribute("note", "complete")
            }
            let whole = try Data(contentsOf: URL(fileURLWithPath: path))
            for length in [whole.count - 1, whole.count / 2, 600, 100, 9] {
                let truncated = path + ".\(length)"
                try whole.prefix(length).write(to: URL(fileURLWithPath: truncated))
                expectFailure(truncated, "truncated") { _ = try HDF5File(path: truncated, mode: .readOnly) }
            }
        }
    }

    /// Files with random bytes overwritten in their first 2 KiB (superblock, object headers,
    /// heaps) are either rejected with an error or read, with errors for what is damaged; none
    /// crashes the process. (This checks HDF5's own defences as well as ours, on this build.)
    @Test func damagedFilesNeverTrap() throws {
        try withTemporaryPath { path in
            do {
                let file = try HDF5File(path: path, mode: .create)
                try file.write((0..<300).map(Double.init), shape: [15, 20], to: "train_loss")
                try file.write((0..<20).map(Float.init), shape: [20], to: "xdirection/0")
                try file.writeString("dirs/x.h5", to: "dir_file")
                try file.setAttribute("note", "hello")
                try file.setAttribute("ratios", [1, 2])
            }
            let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            var generator = SplitMix64(seed: 2024)
            var rejected = 0
            for round in 0..<60 {
                var bytes = whole
                for _ in 0..<Int.random(in: 1...8, using: &generator) {
                    bytes[Int.random(in: 0..<min(bytes.count, 2048), using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
                let damaged = path + ".\(round)"
                try Data(bytes).write(to: URL(fileURLWithPath: damaged))
                guard let file = try? HDF5File(path: damaged, mode: .readOnly) else {
                    rejected += 1
                    continue
                }
                for group in (try? file.groupNames()) ?? [] { _ = try? file.datasetNames(in: group) }
                _ = try? file.readDoubles("train_loss")
                _ = try? file.readDoubles("xdirection/0")
                _ = try? file.readString("dir_file")
                for name in (try? file.attributeNames()) ?? [] { _ = try? file.attribute(name) }
            }
            #expect(rejected > 0)
        }
    }

    @Test func missingObjectsAndWrongKinds() throws {
        try withTemporaryPath { path in
            let file = try HDF5File(path: path, mode: .create)
            try file.write([1, 2], shape: [2], to: "xdirection/0")
            try file.writeString("dirs/a.h5", to: "dir_file")
            expectFailure(path, "there is no dataset train_loss") { _ = try file.readDoubles("train_loss") }
            expectFailure("there is no dataset ydirection/0") { _ = try file.readDoubles("ydirection/0") }
            expectFailure("there is no dataset xdirection/0/x: xdirection/0 is not a group") { _ = try file.readDoubles("xdirection/0/x") }
            expectFailure("xdirection is a group, not a dataset") { _ = try file.readDoubles("xdirection") }
            expectFailure("xdirection/0 is a dataset, not a group") { _ = try file.datasetNames(in: "xdirection/0") }
            expectFailure("there is no group ydirection") { _ = try file.groupNames(in: "ydirection") }
            expectFailure("dataset dir_file holds string values, not numbers") { _ = try file.readDoubles("dir_file") }
            expectFailure("dataset xdirection/0 holds floating-point values, not a string") { _ = try file.readString("xdirection/0") }
            expectFailure("there is no dataset nothing") { _ = try file.readString("nothing") }
            expectFailure("root group") { try file.write([1], shape: [], to: "/") }
            expectFailure("\".\" component") { _ = try file.readDoubles("./xdirection/0") }
            expectFailure("NUL character") { try file.writeString("a\u{0}b", to: "s") }
        }
    }

    @Test func valuesThatDoNotFitTheShape() throws {
        try withTemporaryPath { path in
            let file = try HDF5File(path: path, mode: .create)
            expectFailure(path, "cannot write dataset train_loss: shape [5, 3] holds 15 values, but 14 were given") {
                try file.write([Double](repeating: 0, count: 14), shape: [5, 3], to: "train_loss")
            }
            expectFailure("shape [] holds 1 value, but 0 were given") { try file.write([Float](), shape: [], to: "s") }
            expectFailure("not a valid HDF5 shape") { try file.write([Double](), shape: [-1, 0], to: "n") }
            expectFailure("not a valid HDF5 shape") { try file.write([Double](), shape: [Int.max, Int.max, 0], to: "n") }
            #expect(!file.exists("train_loss") && !file.exists("s") && !file.exists("n"))
        }
    }
}

// MARK: - h5py

/// Files agree with h5py (the library the loss-landscape reference code uses), in both directions.
@Suite struct HDF5PythonCrossCheckTests {
    static let hasH5py = Python.checksRun(importing: "h5py, numpy")

    /// Writes a surface file and a direction file in the reference layout.
    static func writeReferenceFiles(surface: String, directions: String) throws {
        let x = (0..<5).map { -1 + 0.5 * Double($0) }  // linspace(-1, 1, 5)
        let y = (0..<3).map { -1 + 1.0 * Double($0) }  // linspace(-1, 1, 3)
        var loss: [Double] = [], accuracy: [Double] = []
        for j in y.indices {
            for i in x.indices {
                loss.append(x[i] * x[i] + 10 * y[j])
                accuracy.append(50 + x[i] - y[j])
            }
        }
        let file = try HDF5File(path: surface, mode: .create)
        try file.writeString(directions, to: "dir_file")
        try file.write(x, shape: [x.count], to: "xcoordinates")
        try file.write(y, shape: [y.count], to: "ycoordinates")
        try file.write([Double](repeating: -1, count: loss.count), shape: [y.count, x.count], to: "train_loss")
        try file.write(accuracy, shape: [y.count, x.count], to: "train_acc")
        // Fill the loss point by point, as a surface computation does.
        for j in y.indices {
            for i in x.indices { try file.writeBlock([loss[j * x.count + i]], shape: [1, 1], offset: [j, i], in: "train_loss") }
        }
        try file.setAttribute("terrain.model", "resnet20 ✓")
        try file.setAttribute("alpha", 0.5)
        try file.setAttribute("seed", 123)
        try file.setAttribute("ratios", [0.6, 0.4])
        file.close()

        let directionFile = try HDF5File(path: directions, mode: .create)
        let shapes = [[4, 3, 3, 3], [4], [4], [10, 4], [10]]
        for (group, scale) in [("xdirection", 1.0), ("ydirection", -2.0)] {
            for (index, shape) in shapes.enumerated() {
                let count = shape.reduce(1, *)
                let values = (0..<count).map { Float(scale * Double($0 % 7) + Double(index)) }
                try directionFile.write(values, shape: shape, to: "\(group)/\(index)")
            }
        }
        try directionFile.write([0.7, 0.2], shape: [2], to: "explained_variance_ratio_")
    }

    @Test(.enabled(if: hasH5py, "needs h5py and numpy"))
    func h5pyReadsSwiftFiles() throws {
        let folder = try makeTemporaryFolder("io-tests")
        defer { try? FileManager.default.removeItem(at: folder) }
        let surface = folder.appendingPathComponent("surface.h5").path
        let directions = folder.appendingPathComponent("directions.h5").path
        try Self.writeReferenceFiles(surface: surface, directions: directions)

        let script = """
        import json, sys, h5py, numpy as np
        out = {}
        with h5py.File(sys.argv[1], "r") as f:
            x, y = f["xcoordinates"][:], f["ycoordinates"][:]
            Z, A = f["train_loss"][:], f["train_acc"][:]
            X, Y = np.meshgrid(x, y)
            out["dtypes"] = [str(f[k].dtype) for k in ("xcoordinates", "ycoordinates", "train_loss", "train_acc")]
            out["shape"] = list(Z.shape)
            out["loss_error"] = float(np.max(np.abs(Z - (X ** 2 + 10 * Y))))
            out["acc_error"] = float(np.max(np.abs(A - (50 + X - Y))))
            out["point"] = [float(x[1]), float(y[2]), float(Z[2, 1])]
            raw = f["dir_file"][()]
            out["dir_file"] = raw.decode() if isinstance(raw, bytes) else raw
            out["dir_file_asstr"] = f["dir_file"].asstr()[()]
            out["attrs"] = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in f.attrs.items()}
            out["attr_types"] = {k: type(v).__name__ for k, v in f.attrs.items()}
        with h5py.File(out["dir_file"], "r") as d:
            out["keys"] = sorted(d.keys())
            for g in ("xdirection", "ydirection"):
                tensors = [np.asarray(d[g][str(i)]) for i in range(len(d[g].keys()))]
                out[g] = [[list(t.shape), str(t.dtype), float(t.sum())] for t in tensors]
        print(json.dumps(out))
        """
        let output = try Python.run(script, arguments: [surface])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect(report["dtypes"] as? [String] == ["float64", "float64", "float64", "float64"])
        #expect(report["shape"] as? [Int] == [3, 5])
        #expect(report["loss_error"] as? Double == 0)
        #expect(report["acc_error"] as? Double == 0)
        #expect(report["point"] as? [Double] == [-0.5, 1, 10.25])
        #expect(report["dir_file"] as? String == directions)
        #expect(report["dir_file_asstr"] as? String == directions)
        let attributes = try #require(report["attrs"] as? [String: Any])
        #expect(attributes["terrain.model"] as? String == "resnet20 ✓")
        #expect(attributes["alpha"] as? Double == 0.5)
        #expect(attributes["seed"] as? Int == 123)
        #expect(attributes["ratios"] as? [Double] == [0.6, 0.4])
        #expect(report["attr_types"] as? [String: String] == ["terrain.model": "str", "alpha": "float64", "seed": "int64", "ratios": "ndarray"])
        #expect(report["keys"] as? [String] == ["explained_variance_ratio_", "xdirection", "ydirection"])

        let shapes = [[4, 3, 3, 3], [4], [4], [10, 4], [10]]
        for (group, scale) in [("xdirection", 1.0), ("ydirection", -2.0)] {
            let tensors = try #require(report[group] as? [[Any]])
            #expect(tensors.count == shapes.count)
            for (index, tensor) in tensors.enumerated() where index < shapes.count {
                let count = shapes[index].reduce(1, *)
                let sum = (0..<count).reduce(0.0) { $0 + Double(Float(scale * Double($1 % 7) + Double(index))) }
                #expect(tensor[0] as? [Int] == shapes[index], "\(group)/\(index)")
                #expect(tensor[1] as? String == "float32", "\(group)/\(index)")
                #expect(tensor[2] as? Double == sum, "\(group)/\(index)")
            }
        }
    }

    @Test(.enabled(if: hasH5py, "needs h5py and numpy"))
    func swiftReadsH5pyFiles() throws {
        try withTemporaryPath("h5py.h5") { path in
            let script = """
            import sys, h5py, numpy as np
            with h5py.File(sys.argv[1], "w") as f:
                f["f32"] = np.arange(6, dtype=np.float32).reshape(2, 3) / 4
                f["f64"] = np.linspace(-1, 1, 5)
                f["i32"] = np.array([[1, -2], [3, 4]], dtype=np.int32)
                f["u8"] = np.array([0, 255], dtype=np.uint8)
                f["f16"] = np.array([1.5, -2], dtype=np.float16)
                f.create_dataset("gzip", data=np.arange(1000, dtype=np.float64).reshape(10, 100), chunks=(5, 10), compression="gzip")
                for i in range(3):
                    f[f"xdirection/{i}"] = np.full((i + 1, 2), i, dtype=np.float32)
                f["dir_file"] = "dirs/model ✓.h5"
                f["bytes_file"] = np.bytes_(b"dirs/old.h5")
                f.attrs["note"] = "written by h5py ✓"
                f.attrs["bytes_note"] = np.bytes_(b"fixed")
                f.attrs["scale"] = 0.5
                f.attrs["count"] = 7
                f.attrs["ratios"] = np.array([0.6, 0.3])
                f.attrs["grid"] = np.array([[1, 2], [3, 4]], dtype=np.int16)
                f.attrs["flag"] = True
                f["xdirection"].attrs["norm"] = "filter"
            """
            try Python.run(script, arguments: [path])
            let file = try HDF5File(path: path, mode: .readOnly)
            #expect(try file.readDoubles("f32") == ([2, 3], [0, 0.25, 0.5, 0.75, 1, 1.25]))
            #expect(try file.readDoubles("f64") == ([5], [-1, -0.5, 0, 0.5, 1]))
            #expect(try file.readDoubles("i32") == ([2, 2], [1, -2, 3, 4]))
            #expect(try file.readDoubles("u8").values == [0, 255])
            #expect(try file.readDoubles("f16").values == [1.5, -2])
            #expect(try file.readDoubles("gzip") == ([10, 100], (0..<1000).map(Double.init)))
            #expect(try file.groupNames() == ["xdirection"])
            #expect(try file.datasetNames(in: "xdirection") == ["0", "1", "2"])
            for index in 0..<3 {
                #expect(try file.readDoubles("xdirection/\(index)") == ([index + 1, 2], [Double](repeating: Double(index), count: 2 * (index + 1))))
            }
            #expect(try file.readString("dir_file") == "dirs/model ✓.h5")
            #expect(try file.readString("bytes_file") == "dirs/old.h5")
            #expect(try file.attribute("note") == .string("written by h5py ✓"))
            #expect(try file.attribute("bytes_note") == .string("fixed"))
            #expect(try file.attribute("scale") == .double(0.5))
            #expect(try file.attribute("count") == .int(7))
            #expect(try file.attribute("ratios") == .doubles([0.6, 0.3]))
            #expect(try file.attribute("grid") == .doubles([1, 2, 3, 4]))
            #expect(try file.attribute("norm", on: "xdirection") == .string("filter"))
            expectFailure("attribute \"flag\" of / holds enum values") { _ = try file.attribute("flag") }
            #expect(try file.attributeNames() == ["bytes_note", "count", "flag", "grid", "note", "ratios", "scale"])
        }
    }
}
