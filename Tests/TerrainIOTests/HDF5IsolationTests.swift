import Foundation
import Testing
@testable import TerrainIO
import TerrainTestSupport

/// Existing HDF5 files are read by a child process into a snapshot (`HDF5FileCheck`): a damaged
/// file can crash or hang only the child; the caller gets values or an `HDF5Error`.
@Suite("HDF5 files read in a separate process", .serialized)
struct HDF5IsolationTests {
    /// A file with every kind of object the readers handle: numeric datasets of several ranks
    /// and types, a string, a string list, groups, and string, number and array attributes.
    static func writeSample(to path: String) throws {
        let file = try HDF5File(path: path, mode: .create)
        try file.write((0..<35).map { Double($0) / 7 }, shape: [5, 7], to: "train_loss")
        try file.write((0..<7).map(Float.init), shape: [7], to: "xcoordinates")
        try file.write([1, 2, 3], shape: [3], to: "xdirection/0")
        try file.write([4, 5], shape: [2], to: "xdirection/1")
        try file.writeString("s.directions.h5", to: "dir_file")
        try file.writeStrings(["a.safetensors", "b.safetensors", ""], to: "frame_checkpoint")
        try file.setAttribute("terrain.request", "0123456789abcdef")
        try file.setAttribute("terrain.seconds", 1.25)
        try file.setAttribute("terrain.count", 42)
        try file.setAttribute("ratios", [0.5, 0.25])
        try file.setAttribute("note", "on a dataset", on: "train_loss")
        file.close()
    }

    /// Everything the readers can be asked, asked; errors must be `HDF5Error`s naming the file.
    static func readEverything(_ path: String) -> [String] {
        var problems: [String] = []
        func attempt(_ body: () throws -> Void) {
            do { try body() } catch let error as HDF5Error {
                if error.source != path { problems.append("error names \(error.source), not the file") }
            } catch { problems.append("not an HDF5Error: \(error)") }
        }
        attempt {
            let file = try HDF5File(path: path, mode: .readOnly)
            for name in (try? file.attributeNames()) ?? [] { attempt { _ = try file.attribute(name) } }
            attempt { _ = try file.attribute("note", on: "train_loss") }
            for group in ["/"] + ((try? file.groupNames()) ?? []) {
                for name in (try? file.datasetNames(in: group)) ?? [] {
                    let full = group == "/" ? name : "\(group)/\(name)"
                    attempt { _ = try file.readDoubles(full) }
                    attempt { _ = try file.readString(full) }
                    attempt { _ = try file.readStrings(full) }
                    attempt { _ = try file.attributeNames(on: full) }
                }
            }
            _ = file.exists("xdirection/1")
        }
        return problems
    }

    @Test func readOnlyFilesAnswerFromTheSnapshotLikeTheLibrary() throws {
        let folder = try makeTemporaryFolder("io-tests")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("s.h5").path
        try Self.writeSample(to: path)
        let file = try HDF5File(path: path, mode: .readOnly)
        #expect(file.snapshot != nil)
        #expect(try file.readDoubles("train_loss").shape == [5, 7])
        #expect(try file.readDoubles("xcoordinates").values == (0..<7).map(Double.init))
        #expect(try file.readString("dir_file") == "s.directions.h5")
        #expect(try file.readStrings("frame_checkpoint") == ["a.safetensors", "b.safetensors", ""])
        #expect(try file.attribute("terrain.request") == .string("0123456789abcdef"))
        #expect(try file.attribute("terrain.seconds") == .double(1.25))
        #expect(try file.attribute("terrain.count") == .int(42))
        #expect(try file.attribute("ratios") == .doubles([0.5, 0.25]))
        #expect(try file.attribute("missing") == nil)
        #expect(try file.attribute("note", on: "train_loss") == .string("on a dataset"))
        #expect(try file.attributeNames() == ["ratios", "terrain.count", "terrain.request", "terrain.seconds"])
        #expect(try file.datasetNames() == ["dir_file", "frame_checkpoint", "train_loss", "xcoordinates"])
        #expect(try file.groupNames() == ["xdirection"])
        #expect(try file.datasetNames(in: "xdirection") == ["0", "1"])
        #expect(file.exists("xdirection/1") && !file.exists("xdirection/2") && !file.exists("train_loss/x"))
        #expect(throws: HDF5Error.self) { try file.readDoubles("xdirection/0/x") }
        file.close()
        #expect(!file.isOpen)
    }

    /// What reading in a child costs: printed (the README's and the report's number), and
    /// bounded loosely (a busy machine shares its cores).
    @Test func costOfReadingInAChild() throws {
        let folder = try makeTemporaryFolder("io-tests")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("s.h5").path
        try Self.writeSample(to: path)
        let started = Date()
        let opens = 50
        for _ in 0..<opens {
            // A file changed less than 2 s ago is never taken from the cache: each open forks.
            let file = try HDF5File(path: path, mode: .readOnly)
            _ = try file.readDoubles("train_loss")
        }
        let each = Date().timeIntervalSince(started) / Double(opens)
        print(String(format: "HDF5 read in a child process: %.2f ms per file (fork, walk, snapshot, parse)", 1000 * each))
        #expect(each < 0.5)
    }

    /// Datasets larger than the snapshot keeps are read when asked for, by a child of their own.
    @Test func largeDatasetsAreReadOnDemand() throws {
        let folder = try makeTemporaryFolder("io-tests")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("big.h5").path
        let values = (0..<300_000).map { Double($0) * 0.5 }
        let writer = try HDF5File(path: path, mode: .create)
        try writer.write(values, shape: [600, 500], to: "train_loss")
        try writer.write([1, 2], shape: [2], to: "xcoordinates")
        writer.close()
        let file = try HDF5File(path: path, mode: .readOnly)
        guard case .success(let stored)? = file.snapshot?.datasets["/train_loss"] else { Issue.record("no snapshot entry"); return }
        #expect(stored.content.isDeferred && stored.shape == [600, 500])
        let read = try file.readDoubles("train_loss")
        #expect(read.shape == [600, 500] && read.values == values)
        #expect(try file.readDoubles("xcoordinates").values == [1, 2])
        // A file changed between the snapshot and the deferred read is not mixed.
        let again = try HDF5File(path: path, mode: .readOnly)
        usleep(50_000)  // past the file system's timestamp granularity
        let rewrite = try HDF5File(path: path, mode: .readWrite)
        try rewrite.write([3, 4], shape: [2], to: "xcoordinates")
        rewrite.close()
        #expect { _ = try again.readDoubles("train_loss") } throws: { "\($0)".contains("changed while it was being read") }
    }

    @Test func aWriterInThisProcessIsSeenByAReader() throws {
        let folder = try makeTemporaryFolder("io-tests")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("s.h5").path
        let writer = try HDF5File(path: path, mode: .create)
        try writer.write([1, 2], shape: [2], to: "a")
        try writer.flush()
        try writer.write([3], shape: [1], to: "b")
        #expect(try HDF5File(path: path, mode: .readOnly).datasetNames() == ["a", "b"])
        writer.close()
    }

    /// Bytes of the sample flipped, then zeroed, then the file cut at every 64th length:
    /// each copy is read in full. The test process surviving is the point: crashes and loops of
    /// the library stay in the child.
    @Test func everyDamagedByteIsAnErrorOrARead() throws {
        let folder = try makeTemporaryFolder("io-tests")
        defer { try? FileManager.default.removeItem(at: folder) }
        let clean = folder.appendingPathComponent("clean.h5").path
        try Self.writeSample(to: clean)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: clean)))
        var copies: [[UInt8]] = []
        // Every seventh byte (every byte takes minutes: each read forks a child).
        for offset in stride(from: 0, to: bytes.count, by: 7) {
            for change in [bytes[offset] ^ 0xff, 0] where change != bytes[offset] {
                var copy = bytes
                copy[offset] = change
                copies.append(copy)
            }
        }
        for length in stride(from: 1, to: bytes.count, by: 64) { copies.append(Array(bytes.prefix(length))) }
        var problems: [String] = []
        for (index, copy) in copies.enumerated() {
            // A new name each time: damage verdicts are remembered per file identity.
            let path = folder.appendingPathComponent("d\(index).h5").path
            try Data(copy).write(to: URL(fileURLWithPath: path))
            problems += Self.readEverything(path).map { "copy \(index): \($0)" }
            try? FileManager.default.removeItem(atPath: path)
        }
        #expect(problems.isEmpty, "\(problems.prefix(5))")
    }

    /// A read that never finishes (here: a FIFO nobody writes to, which the child blocks
    /// opening) is stopped at the time limit and reported, without holding the library lock:
    /// other files are read meanwhile.
    @Test func aReadThatHangsIsStoppedAtTheTimeLimit() throws {
        let folder = try makeTemporaryFolder("io-tests")
        defer { try? FileManager.default.removeItem(at: folder) }
        let fifo = folder.appendingPathComponent("hangs.h5").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let good = folder.appendingPathComponent("good.h5").path
        try Self.writeSample(to: good)
        usleep(2_100_000)  // settled: only files unchanged for 2 s are remembered

        let started = Date()
        let otherReads = Locked(0)
        let reader = Thread {
            while Date().timeIntervalSince(started) < 1.5 {
                if (try? HDF5File(path: good, mode: .readOnly).readDoubles("train_loss")) != nil { otherReads.withLock { $0 += 1 } }
            }
        }
        reader.start()
        let error = #expect(throws: HDF5Error.self) { _ = try HDF5FileCheck.snapshot(fifo, seconds: 2) }
        let elapsed = Date().timeIntervalSince(started)
        #expect(error?.problem.contains("did not finish") == true, "\(String(describing: error))")
        #expect(elapsed >= 2 && elapsed < 10)
        while Date().timeIntervalSince(started) < 1.6 { usleep(10_000) }
        #expect(otherReads.withLock { $0 } > 0, "other files could not be read while the child hung")
        // Remembered while the file is unchanged: the second refusal is immediate.
        let again = Date()
        #expect(throws: HDF5Error.self) { _ = try HDF5FileCheck.snapshot(fifo, seconds: 2) }
        #expect(Date().timeIntervalSince(again) < 1)
    }
}
