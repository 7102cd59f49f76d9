import Foundation

/// A checksum for every stored point of a surface file, so that a damaged value (a flipped bit,
/// a zeroed block) is found instead of adopted by a resume or drawn by a figure.
///
/// Stored beside the reference's datasets (which stay as they are): `point_checksum`, float64,
/// shaped like the surface's quantities ((len(y), len(x)); frames first for a stack), and the
/// attribute `terrain.point_checksum_covers`, the comma-separated names of the datasets it covers.
/// Point k's checksum is the 32-bit fold of FNV-1a over the 64-bit words
///
///     k, x[i], y[j] (2D), then for each covered dataset in the listed order its value at k,
///
/// where a quantity (train_loss, …) and a stack's dataset shaped like them (its perplexity)
/// contribute element k, a grid-shaped dataset (max_eig, min_eig, computed_mask) element k mod
/// (points per frame), and a stack's per-frame list (frame_train_loss, frame_epoch, …) element k
/// div (points per frame). Values enter as their
/// IEEE bit patterns, so NaN (not computed) and ±∞ (diverged) are covered like any number, and a
/// 32-bit sum is held exactly by a float64.
///
/// On reading, a point whose checksum fails loses every covered value and its quantities' values
/// (they become NaN: not computed), so a resume computes it again and a figure leaves it out; `damagedPoints` counts
/// them. Files without `point_checksum` (the reference's, older Terrain files) are read as they are.
enum PointChecksums {
    static let datasetName = "point_checksum"
    static let coversAttribute = "terrain.point_checksum_covers"

    /// The datasets a checksum covers in `file`, in order: its quantities, then its grid-shaped
    /// and per-frame numeric datasets by name.
    static func coveredNames(of file: SurfaceFile) -> [String] {
        let quantities = SurfaceQuantity.allCases.filter { file.values[$0] != nil }.map(\.rawValue)
        let extras = file.extraDatasets.keys.filter { name in
            name != datasetName && role(of: name, in: file) != nil
        }.sorted()
        return quantities + extras
    }

    /// How a dataset lines up with the points: per point (a quantity, or a stack's extra dataset
    /// shaped like one), per grid point, or per frame; nil when it does not (a path, or a dataset
    /// of another length).
    enum Role { case point, stackPoint, gridPoint, frame }

    static func role(of name: String, in file: SurfaceFile) -> Role? {
        if let q = SurfaceQuantity(rawValue: name) {
            return file.values[q]?.count == file.valueCount ? .point : nil
        }
        guard let values = file.extraDatasets[name] else { return nil }
        if let frames = file.frameCount, name.hasPrefix("frame_") { return values.count == frames ? .frame : nil }
        if file.isStackShaped(name, count: values.count) { return .stackPoint }
        return !SurfaceFile.isList(name) && values.count == file.grid.pointCount ? .gridPoint : nil
    }

    /// The covered values of dataset `name` at point `k`, or nil when the file lacks it.
    private static func value(_ name: String, at k: Int, in file: SurfaceFile) -> Double? {
        let perFrame = file.grid.pointCount
        switch role(of: name, in: file) {
        case .point?: return file.values[SurfaceQuantity(rawValue: name)!]![k]
        case .stackPoint?: return file.extraDatasets[name]![k]
        case .gridPoint?: return file.extraDatasets[name]![k % perFrame]
        case .frame?: return file.extraDatasets[name]![k / perFrame]
        case nil: return nil
        }
    }

    /// Point k's checksum over `names`; nil when one of them is missing from the file.
    static func checksum(at k: Int, names: [String], in file: SurfaceFile) -> Double? {
        var hasher = FingerprintHasher()
        hasher.mix(UInt64(k))
        let (alpha, beta) = file.grid.coordinates(of: k % file.grid.pointCount)
        hasher.mix(alpha.bitPattern)
        if file.grid.isTwoDimensional { hasher.mix(beta.bitPattern) }
        for name in names {
            guard let v = value(name, at: k, in: file) else { return nil }
            hasher.mix(v.bitPattern)
        }
        let folded = UInt32(truncatingIfNeeded: hasher.value ^ (hasher.value >> 32))
        return Double(folded)
    }

    /// The checksums of every point of `file`, and the names they cover.
    static func compute(for file: SurfaceFile) -> (names: [String], sums: [Double]) {
        let names = coveredNames(of: file)
        guard file.grid.pointCount > 0 else { return (names, []) }
        return (names, (0..<file.valueCount).map { checksum(at: $0, names: names, in: file) ?? .nan })
    }

    /// Checks every point of a file just read against its stored checksums, and makes the
    /// covered values of each point that fails NaN. Returns how many failed.
    static func verify(_ file: inout SurfaceFile, stored: [Double], covers: String) -> Int {
        let names = covers.split(separator: ",").map(String.init)
        let count = file.valueCount
        guard count > 0 else { return 0 }
        var failed: [Int] = []
        for k in 0..<count {
            let expected = k < stored.count ? stored[k] : .nan
            if checksum(at: k, names: names, in: file) != expected { failed.append(k) }
        }
        guard !failed.isEmpty else { return 0 }
        let perFrame = file.grid.pointCount
        // Every quantity the file holds, whatever the (perhaps damaged) list names: a resume
        // decides from them which points are computed.
        let quantities = SurfaceQuantity.allCases.filter { file.values[$0] != nil }.map(\.rawValue)
        for name in Set(names + quantities) {
            switch role(of: name, in: file) {
            case .point?:
                let q = SurfaceQuantity(rawValue: name)!
                for k in failed { file.values[q]![k] = .nan }
            case .stackPoint?:
                for k in failed { file.extraDatasets[name]![k] = .nan }
            case .gridPoint?:
                for k in failed { file.extraDatasets[name]![k % perFrame] = .nan }
            case .frame?:
                for k in failed { file.extraDatasets[name]![k / perFrame] = .nan }
            case nil:
                break
            }
        }
        return failed.count
    }
}
