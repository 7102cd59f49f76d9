import Testing
import Foundation
import TerrainNN
import TerrainTensor
import TerrainLandscape
import TerrainRequests

@Suite("File attributes from metadata")
struct FileAttributesTests {
    /// The attributes `terrain surface --checkpoint C --orthogonalize` has always written.
    @Test func aRandomSurfacesMetadataIsTheProgramsAttributes() throws {
        var metadata = SurfaceMetadata()
        metadata.checkpoint = "run/final.safetensors"
        metadata.spacing = .linear
        metadata.seed = 123
        metadata.xnorm = .filter
        metadata.xignore = .leftOut
        metadata.ynorm = .layer
        metadata.yignore = .included
        metadata.orthogonalize = true
        metadata.data = "blobs train 10 test 10"
        metadata.version = "0.1.0"
        metadata.directionType = .weights
        metadata.directionCosine = 0.25
        let attributes = try FileAttributes(encoding: metadata)
        #expect(attributes.text == [
            "terrain.checkpoint": "run/final.safetensors", "terrain.spacing": "linear", "terrain.seed": "123",
            "terrain.xnorm": "filter", "terrain.xignore": "biasbn", "terrain.ynorm": "layer", "terrain.yignore": "none",
            "terrain.orthogonalize": "1", "terrain.data": "blobs train 10 test 10", "terrain.version": "0.1.0",
            "terrain.dir_type": "weights",
        ])
        #expect(attributes.numbers == ["terrain.direction_cosine": 0.25])
        #expect(try attributes.decode(SurfaceMetadata.self) == metadata)
    }

    /// A plane's surface and direction file share one origin: its attributes are written flat,
    /// under the names they always had, in both files, and read back.
    @Test func theSharedOriginIsWrittenFlatInBothFiles() throws {
        var origin = DirectionOrigin()
        origin.a = "a.safetensors"
        origin.b = "b.safetensors"
        origin.c = "c.safetensors"
        var surface = SurfaceMetadata(origin: origin)
        surface.directionCosine = 0.5
        let expected = ["terrain.a": "a.safetensors", "terrain.b": "b.safetensors", "terrain.c": "c.safetensors"]
        let surfaceAttributes = try FileAttributes(encoding: surface)
        #expect(surfaceAttributes.text == expected)
        #expect(surfaceAttributes.numbers == ["terrain.direction_cosine": 0.5])
        #expect(try surfaceAttributes.decode(SurfaceMetadata.self) == surface)
        let directions = DirectionMetadata(origin: origin)
        let directionAttributes = try FileAttributes(encoding: directions)
        #expect(directionAttributes == FileAttributes(text: expected))
        #expect(try directionAttributes.decode(DirectionMetadata.self).b == "b.safetensors")
    }

    /// Absent optionals and a false flag write nothing; numbers keep every bit.
    @Test func absentValuesWriteNothingAndNumbersRoundTrip() throws {
        var metadata = CurvatureMapMetadata()
        metadata.iterations = 20
        metadata.tolerance = 1e-3 + 1e-19
        metadata.seed = .max
        let attributes = try FileAttributes(encoding: metadata)
        #expect(attributes.text == ["terrain.hessian.seed": "18446744073709551615"])
        #expect(attributes.numbers == ["terrain.hessian.iterations": 20, "terrain.hessian.tolerance": 1e-3 + 1e-19])
        #expect(try attributes.decode(CurvatureMapMetadata.self) == metadata)
        var plain = SurfaceMetadata()
        plain.orthogonalize = false
        #expect(try FileAttributes(encoding: plain) == FileAttributes())
    }

    /// A closure objective's surface through the request: the program's attributes, its resume
    /// fingerprint, its direction file.
    @Test func aClosureObjectivesSurfaceCarriesTheProgramsMetadata() throws {
        let groups: [ParameterGroup] = .tiling([("w", [2, 2], .weight), ("b", [2], .bias)])
        let objective = ClosureObjective(groups: groups, initial: [1, -0.5, 0.25, 2, 0.1, -0.1]) { theta, _ in
            ObjectiveValue(loss: theta.reduce(0) { $0 + $1 * $1 })
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-requests-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let axis = Axis(minimum: -1, maximum: 1, count: 5)
        let request = SurfaceRequest(model: .objective(objective, data: "squares"), x: axis, y: axis,
                                     directions: .random(RandomDirections(seed: 4)), output: folder + "/s.h5")
        let surface = try request.run(progress: .silent)
        let directions = RandomDirections(seed: 4).recipe.directions(count: 2, for: objective.parameters(), groups: groups)
        let grid = SurfaceGrid(x: axis.coordinates, y: axis.coordinates)
        #expect(surface.textAttributes[SurfaceRunner.fingerprintKey]
                == SurfaceRunner.fingerprint(center: objective.parameters(), directions: directions, grid: grid, sets: [.train], data: "squares"))
        let metadata = try SurfaceMetadata(of: try SurfaceFile.read(from: request.output))
        #expect(metadata.data == "squares")
        #expect(metadata.seed == 4)
        #expect(metadata.directionsDigest == DirectionFile.digest(directions, groups: groups, type: .weights))
        #expect(metadata.checkpoint == nil && metadata.onnx == nil)
        #expect(FileManager.default.fileExists(atPath: request.directionOutput))
    }

    /// bf16 runs a network's compiled evaluation only: a closure objective's bf16 surface is
    /// refused before any file is written, on every CPU. A bf16 run's own error keeps its names.
    @Test func aClosureObjectiveRefusesBFloat16() throws {
        let groups: [ParameterGroup] = .tiling([("w", [2], .weight)])
        let objective = ClosureObjective(groups: groups, initial: [1, -0.5]) { theta, _ in ObjectiveValue(loss: theta[0] * theta[1]) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("terrain-requests-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let request = SurfaceRequest(model: .objective(objective, data: "product"), data: EvaluationData(precision: .bf16),
                                     x: Axis(minimum: -1, maximum: 1, count: 3), output: folder + "/s.h5")
        let error = #expect(throws: RequestError.self) { try request.run(progress: .silent) }
        #expect(error?.description.contains("objective given in Swift") == true, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: folder + "/s.h5"))

        var found = PrecisionMetadata()
        found.checkedPoints = "0 -1 1"
        found.maxAbsoluteError = 0.5
        found.maxErrorInContourSpacings = 0.25
        let attributes = try FileAttributes(encoding: found)
        #expect(attributes.text == ["terrain.bf16.checked_points": "0 -1 1"])
        #expect(attributes.numbers == ["terrain.bf16.max_abs_error": 0.5, "terrain.bf16.max_error_in_contour_spacings": 0.25])
        #expect(try attributes.decode(PrecisionMetadata.self) == found)
        #expect(found.speed == nil && !found.summary.contains("as fast"))

        // The check's timings: stored, read back, and said (with advice where bf16 was slower).
        found.checkSecondsBF16 = 2
        found.checkSecondsFP32 = 1
        let timed = try FileAttributes(encoding: found)
        #expect(timed.numbers["terrain.bf16.check_seconds_bf16"] == 2 && timed.numbers["terrain.bf16.check_seconds_fp32"] == 1)
        #expect(try timed.decode(PrecisionMetadata.self) == found)
        #expect(found.summary.hasSuffix("; bf16 0.50x as fast as fp32 at those points (2 s against 1 s): slower here, fp32 (the default) is the faster choice on this machine"))
        found.checkSecondsFP32 = 8
        #expect(found.speed == "bf16 4.00x as fast as fp32 at those points (2 s against 8 s)")
    }

    /// Hessian attributes spell the tensors `all` or `matrices`, and read `matrices-only` too.
    @Test func hessianTensorsUseTheHessiansSpelling() throws {
        var metadata = CurvatureMapMetadata()
        metadata.parameters = HessianTensors(.leftOut)
        let attributes = try FileAttributes(encoding: metadata)
        #expect(attributes.text["terrain.hessian.parameters"] == "matrices")
        #expect(try attributes.decode(CurvatureMapMetadata.self) == metadata)
        let old = FileAttributes(text: ["terrain.hessian.parameters": "matrices-only"])
        #expect(try old.decode(CurvatureMapMetadata.self).parameters == HessianTensors(.leftOut))
        #expect(HessianTensors(name: "biasbn") == nil)
    }
}
