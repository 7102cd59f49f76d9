/// The boundary of a union of polygons that meet along shared edges, as rings: what a filled
/// band (or several bands together) looks like once the edges between its own pieces are gone.
///
/// **Why.** `FilledContours` cuts a band into one piece per cell. Drawn as they are, a figure
/// holds every cell's piece of every band; merged, it holds only the band's outline, whose size
/// grows with the contours' length rather than the grid's area. That is what lets a chart fill
/// "everything at or above level k" for each k in turn (each band painted over the one below, so
/// no anti-aliased seam lets the background through) without its file growing with the square of
/// the level count.
///
/// **How.** The pieces tile the union with matching vertices: an edge inside the union is walked
/// once by each of the two pieces beside it, in opposite directions, with bit-identical ends.
/// Adding a polygon's edge p → q therefore cancels an edge q → p already held, and the edges left
/// are the union's boundary, with the union on their left when the pieces are counter-clockwise
/// (holes come out clockwise). Every vertex then has as many edges leaving as arriving, so the
/// edges chain into closed rings; filled with the non-zero rule they cover the union exactly.
/// Where a piece was dropped as a sliver of no area an edge can be left without a partner; its
/// chain is closed by a straight segment, which differs from the union by that sliver only.
///
/// Deterministic: rings come in the order their first edge was added.
public struct RegionOutline: Sendable {
    private struct Edge: Hashable { var from: PlotPoint, to: PlotPoint }
    private var edges: [Edge] = []
    private var alive: [Bool] = []
    /// The indices of live edges by their ends (a multiset: two pieces may add the same edge
    /// when one of them is degenerate).
    private var live: [Edge: [Int]] = [:]

    public init() {}

    /// Adds polygons (first vertex not repeated), cancelling edges they share with those held.
    public mutating func add(_ polygons: [[PlotPoint]]) {
        for polygon in polygons where polygon.count >= 2 {
            for k in polygon.indices {
                let edge = Edge(from: polygon[k], to: polygon[(k + 1) % polygon.count])
                guard edge.from != edge.to else { continue }
                let reverse = Edge(from: edge.to, to: edge.from)
                if var partners = live[reverse], let partner = partners.popLast() {
                    alive[partner] = false
                    live[reverse] = partners.isEmpty ? nil : partners
                } else {
                    live[edge, default: []].append(edges.count)
                    edges.append(edge)
                    alive.append(true)
                }
            }
        }
    }

    /// The boundary of everything added so far, as closed rings (first point not repeated).
    public var rings: [[PlotPoint]] {
        var leaving: [PlotPoint: [Int]] = [:]
        for k in edges.indices where alive[k] { leaving[edges[k].from, default: []].append(k) }
        var used = [Bool](repeating: false, count: edges.count)
        var result: [[PlotPoint]] = []
        for first in edges.indices where alive[first] && !used[first] {
            used[first] = true
            var ring = [edges[first].from]
            var current = edges[first].to
            while current != ring[0] {
                ring.append(current)
                guard let next = leaving[current]?.first(where: { !used[$0] }) else { break }
                used[next] = true
                current = edges[next].to
            }
            if ring.count >= 3 { result.append(ring) }
        }
        return result
    }
}
