import Foundation
import Testing
import TerrainIO
import TerrainLandscape

/// What a damaged surface file, a refused request or a killed write can and cannot do to the
/// files of a surface (issue 16): damaged files are refused with an error or repaired by a
/// resume, never adopted, never a crash or a hang; a refused request changes no file; stale
/// temporary files are cleaned up.
@Suite("Stored surface integrity", .serialized)
struct StoredSurfaceIntegrityTests {
    /// A 2-parameter function cheap enough to recompute a surface hundreds of times.
    static func objective() -> ClosureObjective {
        ClosureObjective(groups: .tiling([("w", [2], .weight)]), initial: [0.3, -0.2]) { w, _ in
            ObjectiveValue(loss: sin(3 * w[0]) * cos(2 * w[1]) + w[0] * w[0], accuracy: 50 + 10 * w[1])
        }
    }

    static let dx = Direction(values: [1, 0.2]), dy = Direction(values: [-0.3, 1])

    static func runner(path: String, directionWriter: (() throws -> Void)? = nil, data: String = "bumpy") throws -> SurfaceRunner {
        let objective = objective()
        let grid = SurfaceGrid(x: try Axis.parse("-1:1:9").coordinates, y: try Axis.parse("-1:1:7").coordinates)
        let computation = try SurfaceComputation(objective: objective, center: objective.parameters(), xDirection: dx,
                                                 yDirection: dy, grid: grid, sets: [.train])
        let r = SurfaceRunner(computation: computation, path: path,
                              fingerprint: SurfaceRunner.fingerprint(center: objective.parameters(), directions: [dx, dy], grid: grid,
                                                                     sets: [.train], data: data),
                              options: .quiet {
                                  $0.directionFile = "s.directions.h5"
                                  $0.textAttributes = ["terrain.note": "a variable-length string attribute"]
                                  $0.writeRequestFiles = directionWriter
                              })
        return r
    }

    static func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-integrity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    static func bits(_ file: SurfaceFile) -> [[UInt64]] {
        [SurfaceQuantity.trainLoss, .trainAccuracy].map { file.values[$0]!.map(\.bitPattern) }
    }

    @Test func everyPointCarriesAChecksumThatCatchesAFlippedValue() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("s.h5").path
        let whole = try Self.runner(path: path).run()
        let file = try HDF5File(path: path, mode: .readOnly)
        let (shape, sums) = try file.readDoubles("point_checksum")
        #expect(shape == [7, 9])
        #expect(sums.allSatisfy { $0 >= 0 && $0 < 4_294_967_296 && $0 == $0.rounded() })
        #expect(try file.attribute("terrain.point_checksum_covers")?.string == "train_loss,train_acc")
        file.close()
        #expect(try SurfaceFile.read(from: path).damagedPoints == 0)

        // Change one stored loss in place, as a flipped bit on the disk would.
        let edit = try HDF5File(path: path, mode: .readWrite)
        try edit.writeBlock([whole.values[.trainLoss]![9 + 4] + 1e-9], shape: [1, 1], offset: [1, 4], in: "train_loss")
        edit.close()
        let read = try SurfaceFile.read(from: path)
        #expect(read.damagedPoints == 1)
        #expect(read.values[.trainLoss]![13].isNaN && read.values[.trainAccuracy]![13].isNaN)

        let resumer = try Self.runner(path: path)
        let resumed = try resumer.run()
        #expect(resumer.damagedPoints == 1 && resumer.resumedPoints == 62)
        #expect(Self.bits(resumed) == Self.bits(whole))
    }

    /// Bytes of a real surface file flipped, then zeroed, one at a time: reading it and
    /// resuming onto it either fail with an error naming the file or end with exactly the
    /// values of an undamaged run. The process survives every one (a crash or a hang in the
    /// HDF5 library stays in the checking child).
    @Test func damagedBytesAreRefusedOrRepairedNeverAdopted() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let clean = folder.appendingPathComponent("clean.h5").path
        let whole = try Self.runner(path: clean).run()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: clean)))

        var refused = 0, repaired = 0, intact = 0, refusedReasons = Set<String>()
        let damaged = folder.appendingPathComponent("s.h5").path
        // Every 13th byte, both ways: over a thousand files, each read and resumed.
        for offset in stride(from: 0, to: bytes.count, by: 13) {
            for change in [{ (b: UInt8) in b ^ 0xff }, { (_: UInt8) in UInt8(0) }] {
                var copy = bytes
                copy[offset] = change(copy[offset])
                if copy[offset] == bytes[offset] { continue }
                try? FileManager.default.removeItem(atPath: damaged)
                try Data(copy).write(to: URL(fileURLWithPath: damaged))
                do {
                    let resumer = try Self.runner(path: damaged)
                    let resumed = try resumer.run()
                    #expect(Self.bits(resumed) == Self.bits(whole), "byte \(offset): a resume kept a damaged value")
                    if resumer.damagedPoints > 0 { repaired += 1 } else { intact += 1 }
                } catch {
                    let text = "\(error)"
                    #expect(text.contains(damaged), "byte \(offset): \(text)")
                    if text.contains("the file is damaged") { refusedReasons.insert("crash or hang") }
                    refused += 1
                }
            }
        }
        #expect(repaired > 0 && refused > 0 && intact > 0)
        print("damaged surface files: \(refused) refused, \(repaired) repaired by the checksums, \(intact) read intact (\(refusedReasons))")
    }

    @Test func aRefusedRequestTouchesNoFile() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("s.h5").path
        let directions = folder.appendingPathComponent("s.directions.h5").path
        var writes = 0
        try Self.runner(path: path, directionWriter: { writes += 1; try Data("first".utf8).write(to: URL(fileURLWithPath: directions)) }).run()
        #expect(writes == 1)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))

        let other = try Self.runner(path: path, directionWriter: { writes += 1 }, data: "another data set")
        #expect { try other.run() } throws: { "\($0)".contains("different request") }
        #expect(writes == 1, "the refused request wrote its direction file")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try String(contentsOfFile: directions, encoding: .utf8) == "first")
        #expect(!FileManager.default.fileExists(atPath: path + ".journal"))
    }

    @Test func directionFilesAreFoundBesideAMovedSurfaceAndCheckedAgainstIt() throws {
        let groups: [ParameterGroup] = .tiling([("w", [2], .weight)])
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = folder.appendingPathComponent("runs/a")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        let directions = run.appendingPathComponent("s.directions.h5").path
        try DirectionFile.write([Self.dx, Self.dy], groups: groups, type: .weights, to: directions)
        var surface = SurfaceFile(grid: SurfaceGrid(x: [0, 1], y: [0, 1]), values: [:], directionFile: "runs/a/s.directions.h5")
        surface.textAttributes[DirectionFile.digestAttribute] = DirectionFile.digest([Self.dx, Self.dy], groups: groups, type: .weights)

        // The surface's folder moved: dir_file, relative to where the run started, no longer
        // resolves from here; it does relative to the surface.
        let moved = folder.appendingPathComponent("moved")
        try FileManager.default.createDirectory(at: moved, withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: folder.appendingPathComponent("runs"), to: moved.appendingPathComponent("runs"))
        let surfacePath = moved.appendingPathComponent("s.h5").path
        let found = try DirectionFile.read(for: surface, at: surfacePath, groups: groups, type: .weights)
        #expect(found.path == moved.appendingPathComponent("runs/a/s.directions.h5").path)
        #expect(found.directions == [Self.dx, Self.dy])

        // A direction file rewritten for another request is refused, not used.
        try DirectionFile.write([Self.dy, Self.dx], groups: groups, type: .weights, to: found.path)
        #expect { try DirectionFile.read(for: surface, at: surfacePath, groups: groups, type: .weights) } throws: {
            "\($0)".contains("does not hold the directions")
        }
    }

    @Test func staleTemporaryFilesOfKilledWritesAreRemoved() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("s.h5").path
        // A process that has exited: its pid is free (until reused, when its file is kept).
        let exited = Process()
        exited.executableURL = URL(fileURLWithPath: "/bin/true")
        try exited.run()
        exited.waitUntilExit()
        let dead = folder.appendingPathComponent(".s.h5.\(exited.processIdentifier).partial").path
        let alive = folder.appendingPathComponent(".s.h5.1.partial").path   // init is always alive
        let unrelated = folder.appendingPathComponent(".t.h5.\(exited.processIdentifier).partial").path
        for p in [dead, alive, unrelated] { try Data("torn".utf8).write(to: URL(fileURLWithPath: p)) }
        try Self.runner(path: path).run()
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(FileManager.default.fileExists(atPath: alive))
        #expect(FileManager.default.fileExists(atPath: unrelated))
    }
}
