import Foundation

/// Eigenvalues and eigenvectors of a symmetric tridiagonal matrix T (diagonal d₀ … d_{m−1},
/// off-diagonal e₀ … e_{m−2}) by the implicit QL algorithm with Wilkinson shifts.
///
/// Why not `SymmetricEigen` (cyclic Jacobi on a dense matrix)? Lanczos solves the eigenproblem
/// of its tridiagonal T_j after every step j to test convergence: Jacobi costs O(j³) per sweep
/// on a dense copy, QL costs O(j) per iteration for the eigenvalues plus O(j) per tracked row of
/// the eigenvector matrix, so watching m = 300 steps costs milliseconds instead of minutes.
///
/// The method. An unreduced block T[l…h] (all its off-diagonal entries non-negligible) is
/// replaced by QᵀTQ where T − σI = QL (Q orthogonal, L lower triangular). With σ the eigenvalue
/// of the block's leading 2×2 closer to d_l (Wilkinson's shift) e_l goes to zero quadratically
/// (cubically in practice), after which d_l is an eigenvalue and the block shrinks. Q is never
/// formed: the step is a chain of plane rotations in the planes (i, i+1), i = h−1 … l, the
/// first fixed by the shift and each later one chasing the bulge the previous one created
/// (the implicit Q theorem makes the result the same). The eigenvector matrix Z accumulates the
/// same rotations on its columns; rotations act on each row of Z independently, so tracking a
/// few rows (the last one for Lanczos residuals, the first for quadrature weights) costs a few
/// numbers per rotation instead of m.
public enum TridiagonalEigen {
    /// Eigenvalues in ascending order and, for each, the requested components of its unit
    /// eigenvector: `vectors[i][r]` is component `rows[r]` of the i-th eigenvector (all m
    /// components, in order, when `rows` was nil).
    public struct Decomposition: Sendable, Equatable {
        public var values: [Double]
        public var vectors: [[Double]]
    }

    /// Decomposes T. Eigenvectors carry an arbitrary sign. Throws when an entry is not finite or
    /// (which never happens to finite input in practice) the iteration fails to converge.
    public static func decompose(diagonal: [Double], offDiagonal: [Double], rows: [Int]? = nil) throws -> Decomposition {
        let m = diagonal.count
        guard offDiagonal.count == max(m - 1, 0) else {
            throw LandscapeError.invalidRequest("a \(m)×\(m) tridiagonal matrix has \(max(m - 1, 0)) off-diagonal entries, not \(offDiagonal.count)")
        }
        guard diagonal.allSatisfy(\.isFinite), offDiagonal.allSatisfy(\.isFinite) else {
            throw LandscapeError.invalidRequest("the tridiagonal matrix has a NaN or infinite entry")
        }
        let tracked = rows ?? Array(0..<m)
        precondition(tracked.allSatisfy { $0 >= 0 && $0 < m }, "rows outside the matrix")
        let r = tracked.count
        // z[i·r + k]: component tracked[k] of the i-th column of Z (Z starts as the identity).
        var z = [Double](repeating: 0, count: m * r)
        for (k, row) in tracked.enumerated() { z[row * r + k] = 1 }
        var d = diagonal
        var e = offDiagonal + [0]   // e[m−1] = 0 is a sentinel: the last block always ends there

        for l in 0..<m {
            var iterations = 0
            while true {
                // The block starting at l ends at the first negligible off-diagonal entry: one
                // below rounding relative to its two diagonal neighbours, so dropping it changes
                // T by less than its own rounding error.
                var h = l
                while h < m - 1 {
                    if abs(e[h]) <= Double.ulpOfOne * (abs(d[h]) + abs(d[h + 1])) { break }
                    h += 1
                }
                if h == l { break }   // d[l] has converged
                iterations += 1
                guard iterations <= 60 else {
                    throw LandscapeError.invalidRequest("the tridiagonal eigenproblem did not converge (eigenvalue \(l) of \(m))")
                }
                // Wilkinson's shift σ = d_l − e_l / (t + sign(t)·√(t² + 1)), t = (d_{l+1} − d_l)/(2e_l):
                // the eigenvalue of [[d_l, e_l], [e_l, d_{l+1}]] nearer d_l, written so that
                // nothing cancels. g starts as d_h − σ, the entry that fixes the first rotation.
                var t = (d[l + 1] - d[l]) / (2 * e[l])
                var radius = hypot(t, 1)
                var g = d[h] - d[l] + e[l] / (t + (t >= 0 ? radius : -radius))
                var sine = 1.0, cosine = 1.0, p = 0.0
                var i = h - 1
                var splitEarly = false
                while i >= l {
                    let f = sine * e[i], b = cosine * e[i]
                    radius = hypot(f, g)
                    e[i + 1] = radius
                    if radius == 0 {
                        // The bulge vanished: T split at i+1 by itself. Undo the pending shift of
                        // d[i+1] and look for blocks again.
                        d[i + 1] -= p
                        e[h] = 0
                        splitEarly = true
                        break
                    }
                    sine = f / radius
                    cosine = g / radius
                    g = d[i + 1] - p
                    t = (d[i] - g) * sine + 2 * cosine * b
                    p = sine * t
                    d[i + 1] = g + p
                    g = cosine * t - b
                    // Z ← Z·G(i, i+1): columns i and i+1 rotate, row by row.
                    z.withUnsafeMutableBufferPointer { zb in
                        let ci = i * r, cj = (i + 1) * r
                        for k in 0..<r {
                            let zi = zb[ci + k], zj = zb[cj + k]
                            zb[cj + k] = sine * zi + cosine * zj
                            zb[ci + k] = cosine * zi - sine * zj
                        }
                    }
                    i -= 1
                }
                if splitEarly { continue }
                d[l] -= p
                e[l] = g
                e[h] = 0
            }
        }
        // Ascending order; equal values keep their index order, so the result is deterministic.
        let order = (0..<m).sorted { d[$0] != d[$1] ? d[$0] < d[$1] : $0 < $1 }
        return Decomposition(values: order.map { d[$0] },
                             vectors: order.map { Array(z[($0 * r)..<($0 * r + r)]) })
    }
}
