/// The local minima, saddles and maxima of a `GridField` on its 8-neighbourhood.
///
/// For a valid point p, its *link* is the ring of its 8 neighbours (`GridField`); neighbours
/// outside the grid or excluded (NaN, ±∞) are absent from it. The *lower link* is the set of
/// present neighbours below p, the *upper link* those above it (in the total order, so every
/// present neighbour is in exactly one). Then p is
///
/// - a **minimum** when its lower link is empty (every present neighbour is higher);
/// - a **maximum** when its upper link is empty and it has at least one present neighbour;
/// - a **saddle** when its lower link has k ≥ 2 *groups*: maximal sets of lower neighbours joined
///   through lower neighbours that touch (8-neighbours of each other). Its multiplicity is k − 1
///   (1 for an ordinary saddle, 2 for a monkey saddle).
///
/// On a full interior ring this is the sign-change rule: the sign of f(q) − f(p) changes at least
/// 4 times going once around the ring, except that a single higher *diagonal* neighbour between
/// two lower orthogonal ones does not separate them (the two touch diagonally, so the 8-connected
/// sublevel set already joins them, and no basin merges at p). With that reading the rule is
/// exactly the condition for p to be able to merge basins in the 8-connected union-find of
/// `MinimumPersistence`: every point at which two basins merge is a saddle here.
///
/// **Edges.** The grid's edge and excluded points are treated alike: the missing positions are
/// absent, so the ring becomes an open chain (or several) and the same rules apply to what is
/// present. A point on the edge is therefore a minimum when every neighbour it has is higher (a
/// minimum of the slice, which the function may continue below outside the range; `onEdge` marks
/// it), and a saddle when two groups of lower neighbours meet there. An isolated valid point (no
/// present neighbour) is a minimum of its own one-point component and not a maximum.
public enum CriticalPointKind: Int, Sendable, CaseIterable, Codable {
    case minimum = 1, saddle = 2, maximum = 3
}

/// One critical point of a `GridField`.
public struct CriticalPoint: Sendable, Equatable {
    public var kind: CriticalPointKind
    /// The point's index j·nx + i.
    public var index: Int
    public var alpha: Double
    public var beta: Double
    public var value: Double
    /// Saddles: the number of lower-link groups minus one; 1 for minima and maxima.
    public var multiplicity: Int
    /// Whether the point lies on the grid's first or last row or column.
    public var onEdge: Bool
}

extension GridField {
    /// The number of groups of the lower link (`below == true`) or upper link of `p`: present
    /// neighbours on that side, joined when they touch.
    func linkGroupCount(of p: Int, below: Bool) -> Int {
        var member = [Bool](repeating: false, count: 8)
        for k in 0..<8 {
            if let q = neighbour(of: p, at: k) { member[k] = isBelow(q, p) == below }
        }
        // Union of touching members over 8 positions: a tiny union-find by labels.
        var label = Array(0..<8)
        func root(_ a: Int) -> Int { var a = a; while label[a] != a { a = label[a] }; return a }
        for a in 0..<8 where member[a] {
            for b in (a + 1)..<8 where member[b] && Self.ringPositionsTouch(a, b) {
                let (ra, rb) = (root(a), root(b))
                if ra != rb { label[max(ra, rb)] = min(ra, rb) }
            }
        }
        return (0..<8).filter { member[$0] && root($0) == $0 }.count
    }

    /// Whether `p` has at least one present neighbour.
    func hasNeighbour(_ p: Int) -> Bool { (0..<8).contains { neighbour(of: p, at: $0) != nil } }

    /// The kind of critical point `p` is, with its multiplicity, or nil for a regular or excluded
    /// point (see `CriticalPointKind`).
    public func criticalKind(of p: Int) -> (kind: CriticalPointKind, multiplicity: Int)? {
        guard isValid(p) else { return nil }
        let lower = linkGroupCount(of: p, below: true)
        if lower == 0 { return (.minimum, 1) }
        if lower >= 2 { return (.saddle, lower - 1) }
        if linkGroupCount(of: p, below: false) == 0 { return (.maximum, 1) }
        return nil
    }

    /// Every critical point, in index order (row by row over β).
    public func criticalPoints() -> [CriticalPoint] {
        values.indices.compactMap { p in
            guard let (kind, multiplicity) = criticalKind(of: p) else { return nil }
            let (alpha, beta) = coordinates(of: p)
            return CriticalPoint(kind: kind, index: p, alpha: alpha, beta: beta, value: values[p],
                                 multiplicity: multiplicity, onEdge: isOnEdge(p))
        }
    }
}
