/// The two NaNs a surface quantity can hold.
///
/// A point not computed yet is the ordinary quiet NaN (what Terrain, NumPy and h5py write for
/// NaN). A point whose loss came out NaN is stored as NaN too, as the reference stores it (and
/// as h5py, NumPy and matplotlib read it), but with the sign bit set, so that a resumed run knows
/// it was computed: PyTorch gives NaN there (a batch norm whose running variance an extrapolated
/// `states` direction made negative), and recomputing it would give NaN again. (The reference
/// recomputes values ≤ 0 on a rerun; NaN ≤ 0 is false, so it keeps them too.) +∞ stays the mark
/// of a diverged point (a loss that overflowed). TerrainPlot's `ScalarGrid` draws the signed
/// NaN as invalid, apart from the grey of points not computed.
public enum SurfaceValue {
    /// A point not computed yet.
    public static let notComputed = Double.nan
    /// A point computed to NaN.
    public static let invalid = -Double.nan

    public static func isNotComputed(_ value: Double) -> Bool { value.isNaN && value.sign == .plus }
    public static func isInvalid(_ value: Double) -> Bool { value.isNaN && value.sign == .minus }
}
