import Testing
import Foundation
import TerrainTensor
import TerrainLandscape

@Suite("Trajectories")
struct TrajectoryTests {
    @Test func jacobiFindsKnownEigenpairs() {
        let m: [Double] = [4, 1, 0, 1, 3, 1, 0, 1, 2]
        let (values, vectors) = SymmetricEigen.decompose(m, size: 3)
        // Characteristic polynomial roots of this matrix: 3 + √3, 3, 3 − √3.
        #expect(abs(values[0] - (3 + 3.0.squareRoot())) < 1e-12)
        #expect(abs(values[1] - 3) < 1e-12)
        #expect(abs(values[2] - (3 - 3.0.squareRoot())) < 1e-12)
        for (lambda, v) in zip(values, vectors) {
            for r in 0..<3 {
                let mv = (0..<3).reduce(0.0) { $0 + m[r * 3 + $1] * v[$1] }
                #expect(abs(mv - lambda * v[r]) < 1e-12)
            }
        }
    }

    /// A synthetic path that lies in a known plane: PCA recovers the plane, explains all the
    /// variance with two components, and projects each point back to its planted coordinates.
    @Test func recoversAPlantedPlane() throws {
        let dims = 50
        var g = SeededGenerator(seed: 4)
        var u = Direction(values: (0..<dims).map { _ in g.nextNormal() })
        var v = Direction(values: (0..<dims).map { _ in g.nextNormal() })
        v.orthogonalize(against: u)
        u = Direction(values: u.values.map { $0 / u.norm }); v = Direction(values: v.values.map { $0 / v.norm })
        let final = (0..<dims).map { _ in g.nextNormal() }
        let coords = (0..<30).map { i -> (Double, Double) in let t = Double(i) / 29; return (3 * (1 - t) * cos(4 * t), 2 * (1 - t) * sin(5 * t)) }
        let checkpoints = coords.map { c in (0..<dims).map { final[$0] + c.0 * u.values[$0] + c.1 * v.values[$0] } }
        let groups = [ParameterGroup].tiling([("w", [5, 10], .weight)])
        let pca = try TrajectoryPCA(checkpoints: checkpoints, final: final, groups: groups, type: .weights, oneDimensional: .included)
        #expect(abs(pca.explainedVarianceRatio.reduce(0, +) - 1) < 1e-10)
        // The axes span the planted plane: each axis has no component outside it.
        for axis in pca.axes {
            let inPlane = pow(Direction.cosine(axis, u), 2) + pow(Direction.cosine(axis, v), 2)
            #expect(abs(inPlane - 1) < 1e-10)
        }
        // Projections reproduce the planted path up to a rotation/reflection of the plane: distances agree.
        for i in 0..<coords.count {
            let planted = (coords[i].0 * coords[i].0 + coords[i].1 * coords[i].1).squareRoot()
            let found = (pca.path[i].x * pca.path[i].x + pca.path[i].y * pca.path[i].y).squareRoot()
            #expect(abs(planted - found) < 1e-10)
        }
        #expect(pca.path.last!.x == 0 || abs(pca.path.last!.x) < 1e-12)
        let (ax, ay) = try pca.coveringAxes(points: 11)
        #expect(pca.path.allSatisfy { $0.x >= ax.minimum && $0.x <= ax.maximum && $0.y >= ay.minimum && $0.y <= ay.maximum })
    }

    @Test func tooFewCheckpoints() {
        let groups = [ParameterGroup].tiling([("w", [2], .weight)])
        #expect(throws: LandscapeError.self) {
            try TrajectoryPCA(checkpoints: [[0, 1], [1, 1]], final: [0, 0], groups: groups, type: .weights, oneDimensional: .included)
        }
    }
}

@Suite("Path projection")
struct PathProjectionTests {
    @Test func recoversCoordinatesAlongNonOrthogonalDirections() throws {
        let center: [Double] = [1, 2, 3]
        let dx = Direction(values: [1, 1, 0]), dy = Direction(values: [0, 1, 2])
        let planted: [(Double, Double)] = [(0.5, -1), (2, 3), (0, 0)]
        let points = planted.map { a, b in (0..<3).map { center[$0] + a * dx.values[$0] + b * dy.values[$0] } }
        let found = try PathProjection.project(points, center: center, x: dx, y: dy)
        for (p, f) in zip(planted, found) { #expect(abs(p.0 - f.x) < 1e-12 && abs(p.1 - f.y) < 1e-12) }
        #expect(throws: LandscapeError.self) { try PathProjection.project(points, center: center, x: dx, y: dx) }
    }
}
