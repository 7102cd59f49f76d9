import Testing
import TerrainLandscape
import TerrainTensor

/// The fingerprints and digests stored files hold, pinned to the values Terrain computed before
/// the hashing was gathered into one hasher (tests/golden.sh checks the same on real files): a
/// resume of an older file must still find its request, and a hessian-map must still accept an
/// older surface's direction file.
@Suite("Pinned fingerprints")
struct FingerprintPinTests {
    /// w ↦ ½‖w‖²: gradient w, Hessian I; one 1×2 weight matrix.
    final class Bowl: TwiceDifferentiableObjective {
        var w: [Double] = [0.3, -0.2]
        let groups: [ParameterGroup] = .tiling([("w", [1, 2], .weight)])
        func parameters() -> [Double] { w }
        func setParameters(_ values: [Double]) { w = values }
        func evaluate(_ set: EvaluationSet) throws -> ObjectiveValue {
            ObjectiveValue(loss: 0.5 * (w[0] * w[0] + w[1] * w[1]), accuracy: nil)
        }
        func gradient(_ set: EvaluationSet) throws -> (value: ObjectiveValue, gradient: [Double]) {
            (try evaluate(set), w)
        }
        func hessianVectorProduct(_ set: EvaluationSet, _ v: [Double]) throws
            -> (value: ObjectiveValue, gradient: [Double], product: [Double]) {
            (try evaluate(set), w, v)
        }
    }

    static let center = [0.3, -0.2], other = [0.1, 0.4]
    static let dx = Direction(values: [1, 0.2]), dy = Direction(values: [-0.3, 1])
    static let grid = SurfaceGrid(x: [-1, 0, 1], y: [-0.5, 0.5])

    @Test func surfaceRequest() {
        #expect(SurfaceRunner.fingerprint(center: Self.center, directions: [Self.dx, Self.dy], grid: Self.grid,
                                          sets: [.train, .test], data: "bumpy") == "effdc1e13f2b8734")
    }

    @Test(arguments: [(OneDimensionalTensors.included, "81e7c54e8186f1e8"), (.leftOut, "67a2cea507d3a600")])
    func curvatureMapRequest(oneDimensional: OneDimensionalTensors, pinned: String) throws {
        let map = try CurvatureMapComputation(objective: Bowl(), center: Self.center, xDirection: Self.dx, yDirection: Self.dy,
                                              grid: Self.grid, set: .train, oneDimensional: oneDimensional, iterations: 7,
                                              tolerance: 1e-3, seed: 5)
        #expect(map.fingerprint(data: "blobs") == pinned)
    }

    @Test func stackRequest() throws {
        let layers = [Self.center, Self.other].map {
            SurfaceStackComputation.Layer(center: $0, xDirection: Self.dx, yDirection: Self.dy)
        }
        let frames = [Self.center, Self.other].enumerated().map { k, weights in
            SurfaceStackComputation.FrameSource(frame: StackFrame(checkpoint: "c\(k)", epoch: k, iteration: 10 * k),
                                                weights: weights, layer: k)
        }
        let stack = try SurfaceStackComputation(mode: "riding", objective: Bowl(), layers: layers, frames: frames,
                                                grid: Self.grid, sets: [.train])
        #expect(stack.fingerprint(data: "bumpy") == "bf4f212da20ae6ca")
    }

    @Test func directionsDigest() {
        #expect(DirectionFile.digest([Self.dx, Self.dy], groups: Bowl().groups, type: .weights) == "6be1520c926a39c4")
    }
}
