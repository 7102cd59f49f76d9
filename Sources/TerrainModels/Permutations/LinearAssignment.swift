/// The linear assignment problem: given an n×n matrix of weights w, the permutation π that
/// maximizes Σᵢ w[i][π(i)].
///
/// Solved exactly by the Hungarian method in its shortest-augmenting-path form (Kuhn–Munkres with
/// the potentials of Jonker and Volgenant): rows are added one at a time, each by Dijkstra's search
/// for the cheapest augmenting path on reduced costs c[i][j] − u[i] − v[j] ≥ 0, so the whole solve is
/// O(n³) and every comparison is strict in index order, which makes the result deterministic
/// (ties go to the lowest column index). Costs are the negated weights, in Double.
///
/// It lives in `TerrainModels` beside its one client, weight matching (`WeightMatching`), and
/// knows nothing of models: only arrays of Doubles.
public enum LinearAssignment {
    /// π with π[row] = column, maximizing Σ weights[row·n + π[row]] for the row-major n×n
    /// matrix `weights`. Every entry must be finite (a programming error otherwise).
    public static func maximize(_ weights: [Double], size n: Int) -> [Int] {
        precondition(weights.count == n * n, "an assignment of size \(n) needs \(n * n) weights, got \(weights.count)")
        precondition(weights.allSatisfy(\.isFinite), "assignment weights must be finite")
        guard n > 0 else { return [] }
        // 1-based arrays with a virtual column 0, as in the classical formulation.
        var u = [Double](repeating: 0, count: n + 1), v = [Double](repeating: 0, count: n + 1)
        var rowOfColumn = [Int](repeating: 0, count: n + 1)
        var way = [Int](repeating: 0, count: n + 1)
        var minimum = [Double](repeating: 0, count: n + 1)
        var used = [Bool](repeating: false, count: n + 1)
        for row in 1...n {
            rowOfColumn[0] = row
            var column0 = 0
            for j in 0...n { minimum[j] = .infinity; used[j] = false }
            repeat {
                used[column0] = true
                let i0 = rowOfColumn[column0]
                var delta = Double.infinity, column1 = 0
                for j in 1...n where !used[j] {
                    let reduced = -weights[(i0 - 1) * n + (j - 1)] - u[i0] - v[j]
                    if reduced < minimum[j] { minimum[j] = reduced; way[j] = column0 }
                    if minimum[j] < delta { delta = minimum[j]; column1 = j }
                }
                for j in 0...n {
                    if used[j] {
                        u[rowOfColumn[j]] += delta
                        v[j] -= delta
                    } else {
                        minimum[j] -= delta
                    }
                }
                column0 = column1
            } while rowOfColumn[column0] != 0
            // Flip the augmenting path back to the virtual column.
            repeat {
                let previous = way[column0]
                rowOfColumn[column0] = rowOfColumn[previous]
                column0 = previous
            } while column0 != 0
        }
        var assignment = [Int](repeating: 0, count: n)
        for j in 1...n { assignment[rowOfColumn[j] - 1] = j - 1 }
        return assignment
    }

    /// Σᵢ weights[i·n + π[i]].
    public static func value(of assignment: [Int], _ weights: [Double], size n: Int) -> Double {
        var total = 0.0
        for (row, column) in assignment.enumerated() { total += weights[row * n + column] }
        return total
    }
}
