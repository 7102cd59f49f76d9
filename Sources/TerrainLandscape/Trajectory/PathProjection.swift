/// Positions of parameter vectors on a surface's plane (or line): the least-squares (α, β) with
/// θ ≈ center + α·dx + β·dy. For orthonormal or axis directions this is a plain dot product;
/// for random directions it solves the 2×2 normal equations.
public enum PathProjection {
    public static func project(_ points: [[Double]], center: [Double], x dx: Direction, y dy: Direction?) throws -> [(x: Double, y: Double)] {
        let xx = dot(dx, dx)
        guard xx > 0 else { throw LandscapeError.invalidRequest("cannot project onto a zero direction") }
        let xy = dy.map { dot(dx, $0) } ?? 0, yy = dy.map { dot($0, $0) } ?? 0
        let det = xx * yy - xy * xy
        if dy != nil && det <= 1e-12 * xx * yy {
            throw LandscapeError.invalidRequest("the two directions are parallel: no plane to project onto")
        }
        return points.map { theta in
            let r = Direction(values: zip(theta, center).map { $0 - $1 })
            let bx = dot(dx, r)
            guard let dy else { return (bx / xx, 0) }
            let by = dot(dy, r)
            return ((yy * bx - xy * by) / det, (xx * by - xy * bx) / det)
        }
    }
}
