import Testing
import TerrainLandscape

/// Requests that would allocate without bound or compute nothing meaningful are refused before
/// any work: grids whose product passes the limit, margins that are not finite, degenerate planes.
@Suite("Request limits")
struct RequestLimitsTests {
    @Test func aGridIsBoundedAsAWholeNotOnlyPerAxis() throws {
        let axis = try Axis.parse("-1:1:100000")
        let grid = SurfaceGrid(x: axis.coordinates, y: axis.coordinates)
        let error = #expect(throws: LandscapeError.self) { try grid.checkSize(fields: 4) }
        #expect(error.map { "\($0)".contains("10000000000 points") && "\($0)".contains("16777216") } == true)
        let small = SurfaceGrid(x: [0, 1, 2], y: [0, 1])
        try small.checkSize(fields: 4)
        // A stack multiplies the grid by its layers; the values by the quantities.
        let side = SurfaceGrid(x: Array(repeating: 0, count: 3000), y: Array(repeating: 0, count: 3000))
        try side.checkSize(fields: 1)
        #expect(throws: LandscapeError.self) { try side.checkSize(fields: 1, copies: 2) }
        #expect(throws: LandscapeError.self) { try side.checkSize(fields: 8) }
        #expect(throws: LandscapeError.self) { try SurfaceGrid(x: [0], y: [0]).checkSize(fields: 1, copies: .max) }
    }

    @Test func marginsAndStepsOfACoveringPlaneAreChecked() {
        for margin in [Double.nan, .infinity, -0.1, 1e308] {
            #expect(throws: LandscapeError.self) { try TrajectoryPCA.checkCovering(points: 21, margin: margin) }
        }
        for points in [0, 1, 100_001, Int.max] {
            #expect(throws: LandscapeError.self) { try TrajectoryPCA.checkCovering(points: points, margin: 0.15) }
        }
        #expect(throws: Never.self) { try TrajectoryPCA.checkCovering(points: 21, margin: 0.15) }
    }

    @Test func degenerateDirectionsAreRefused() throws {
        let zero = Direction(zeros: 3), a = Direction(values: [1, 2, 3]), b = Direction(values: [2, 4, 6]), c = Direction(values: [0, 1, 0])
        #expect(throws: LandscapeError.self) { try Direction.checkSpan([zero], names: ["B − A"]) }
        #expect(throws: LandscapeError.self) { try Direction.checkSpan([a, zero], names: ["B − A", "C − A"]) }
        #expect(throws: LandscapeError.self) { try Direction.checkSpan([a, b], names: ["B − A", "C − A"]) }
        #expect(throws: LandscapeError.self) { try Direction.checkSpan([Direction(values: [.nan, 0, 0])], names: ["B − A"]) }
        try Direction.checkSpan([a, c], names: ["B − A", "C − A"])
    }
}

@Suite("Lanczos memory")
struct LanczosMemoryTests {
    /// The basis of full reorthogonalization is k·n numbers: bounded before the first vector.
    @Test func aBasisBeyondTheLimitIsRefused() throws {
        let error = #expect(throws: LandscapeError.self) {
            try Lanczos.extremeEigenpairs(of: DiagonalOperator(count: 1 << 17), top: 1, maxIterations: 100_000, seed: 0)
        }
        #expect(error.map { "\($0)".contains("limit") } == true)
    }
}

/// A diagonal operator of any size, cheap to apply.
struct DiagonalOperator: SymmetricOperator {
    var count: Int
    var dimension: Int { count }
    func apply(_ v: [Double]) throws -> [Double] { v.indices.map { Double($0) * v[$0] } }
}
