/// The 0-dimensional sublevel-set persistence of a `GridField`'s minima: how deep each basin is
/// before it joins an older one.
///
/// The sublevel set at level t is the set of valid points with f ≤ t, 8-connected. Sweeping t
/// upwards, a component is *born* at each minimum, and when a point joins two or more components
/// they merge there. By the elder rule the component whose minimum is lowest (in `GridField`'s
/// total order) survives and each other one *dies* at the value of the joining point, its saddle.
/// So a minimum m has
///
///     birth = f(m),   death = f(s),   persistence = death − birth ≥ 0,
///
/// with s the saddle where its basin first runs into a lower one. A component's lowest minimum
/// never dies (death = +∞): the global minimum, and the lowest minimum of any part of the grid
/// that excluded points cut off from the rest.
///
/// The algorithm is the standard one: visit the valid points in increasing order, union-find over
/// those visited (path halving), each root remembering its component's minimum. Every minimum of
/// `criticalPoints()` is born exactly once (a point with no lower neighbour starts a component),
/// and every death happens at a saddle of `criticalPoints()`.
public struct PersistencePair: Sendable, Equatable {
    /// The minimum's index and value (its birth).
    public var minimum: Int
    public var birth: Double
    /// The saddle's index and value where the basin merged into a lower one; nil and +∞ for a
    /// minimum that never dies.
    public var saddle: Int?
    public var death: Double

    /// death − birth (+∞ for a minimum that never dies).
    public var persistence: Double { death - birth }
}

extension GridField {
    /// One pair per minimum, by decreasing persistence (those that never die first, then the
    /// deepest basins; ties by the minimum's order).
    public func minimumPersistence() -> [PersistencePair] {
        let order = values.indices.filter(isValid).sorted(by: isBelow)
        var parent = [Int](repeating: -1, count: values.count)  // -1: not visited yet
        var lowest = [Int](repeating: -1, count: values.count)  // at a root: its component's minimum
        func root(_ a: Int) -> Int {
            var a = a
            while parent[a] != a { parent[a] = parent[parent[a]]; a = parent[a] }
            return a
        }
        var pairs: [PersistencePair] = []
        for p in order {
            var roots: [Int] = []
            for k in 0..<8 {
                if let q = neighbour(of: p, at: k), parent[q] >= 0 {
                    let r = root(q)
                    if !roots.contains(r) { roots.append(r) }
                }
            }
            guard !roots.isEmpty else {
                parent[p] = p; lowest[p] = p  // a minimum: a new component
                continue
            }
            // The elder survives: the root whose minimum is lowest.
            let survivor = roots.min { isBelow(lowest[$0], lowest[$1]) }!
            for r in roots where r != survivor {
                pairs.append(PersistencePair(minimum: lowest[r], birth: values[lowest[r]], saddle: p, death: values[p]))
                parent[r] = survivor
            }
            parent[p] = survivor
        }
        for p in values.indices where parent[p] == p {
            pairs.append(PersistencePair(minimum: lowest[p], birth: values[lowest[p]], saddle: nil, death: .infinity))
        }
        return pairs.sorted { a, b in
            a.persistence != b.persistence ? a.persistence > b.persistence : isBelow(a.minimum, b.minimum)
        }
    }
}
