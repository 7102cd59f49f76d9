import Foundation

/// The topology of one quantity of a 2D surface (`terrain analyze`): its critical points on the
/// 8-neighbourhood (`CriticalPoints.swift`), the persistence of its minima (`MinimumPersistence`),
/// the basin holding the centre at several levels (`CentreBasin`) and its roughness
/// (`SurfaceRoughness`). Points whose value is NaN or ±∞ are left out of all of it (`GridField`).
public struct SurfaceTopology: Sendable {
    /// The quantity analysed (`train_loss`, `test_loss`, `train_perplexity`, …).
    public var quantity: String
    public var validPoints: Int
    public var excludedPoints: Int
    /// The smallest and largest valid value (NaN when no point is valid).
    public var minimumValue: Double
    public var maximumValue: Double
    /// Every critical point, in index order.
    public var criticalPoints: [CriticalPoint]
    /// One pair per minimum, by decreasing persistence.
    public var persistence: [PersistencePair]
    /// nil when the centre point is excluded.
    public var centreBasin: CentreBasin?
    public var roughness: SurfaceRoughness
    public let field: GridField

    /// The default levels of the centre's basin: 1%, 5%, 10% and 25% of the surface's range above
    /// the basin's minimum.
    public static let defaultRises: [Double] = [0.01, 0.05, 0.1, 0.25]

    /// Analyses `field`; `levels` are the centre basin's levels.
    public init(quantity: String, field: GridField, levels: [CentreBasin.LevelSpec] = defaultRises.map { .rise($0) }) {
        self.quantity = quantity
        self.field = field
        validPoints = field.validCount
        excludedPoints = field.values.count - validPoints
        let finite = field.values.filter(\.isFinite)
        minimumValue = finite.min() ?? .nan
        maximumValue = finite.max() ?? .nan
        criticalPoints = field.criticalPoints()
        persistence = field.minimumPersistence()
        centreBasin = field.centreBasin(levels: levels, persistence: persistence)
        roughness = field.roughness()
    }

    public func points(_ kind: CriticalPointKind) -> [CriticalPoint] { criticalPoints.filter { $0.kind == kind } }
}

extension SurfaceFile {
    /// The names `values(of:)` accepts: the quantities the file holds, then grid-shaped extra
    /// datasets (`train_perplexity`, `max_eig`, …).
    public var gridQuantityNames: [String] {
        SurfaceQuantity.allCases.filter { values[$0] != nil }.map(\.rawValue)
            + extraDatasets.filter { !Self.isList($0.key) && $0.value.count == grid.pointCount }.keys.sorted()
    }

    /// One value per grid point of the quantity or grid-shaped dataset `name`; an error naming
    /// the file and listing what it holds when there is none.
    public func values(of name: String, path: String) throws -> [Double] {
        if let quantity = SurfaceQuantity(rawValue: name), let v = values[quantity] { return v }
        if let v = extraDatasets[name], !Self.isList(name), v.count == grid.pointCount { return v }
        let names = gridQuantityNames
        throw LandscapeError.incompatibleFile(path, "has no \(name); it holds "
                                              + (names.isEmpty ? "no quantity" : names.joined(separator: ", ")))
    }

    /// Refuses a file that is not one 2D surface, saying what it holds instead.
    public func requireTwoDimensional(path: String, for use: String) throws {
        guard !grid.isTwoDimensional else {
            guard !grid.x.isEmpty else { throw LandscapeError.incompatibleFile(path, "holds no grid points (xcoordinates is empty)") }
            return
        }
        let span = grid.x.isEmpty ? "" : " from α = \(Self.short(grid.x.first!)) to \(Self.short(grid.x.last!))"
        let origin: String
        if let from = textAttributes["terrain.from"], let to = textAttributes["terrain.to"] {
            origin = ", the interpolation from \(from) to \(to) written by `terrain interpolate`"
        } else {
            origin = ", a 1D surface (`terrain surface` without --y)"
        }
        throw LandscapeError.incompatibleFile(path, "holds a 1D curve of \(grid.x.count) points\(span)\(origin), not a 2D surface: "
                                              + "\(use) needs a 2D surface (`terrain surface` with --y, `terrain plane`, `terrain trajectory`)")
    }

    static func short(_ x: Double) -> String { String(format: "%g", x) }
}
