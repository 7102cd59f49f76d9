/// The version of Terrain that writes a file (its `terrain.version` attribute) and that the
/// program reports with `--version`.
public enum TerrainVersion {
    public static let current = "0.1.0"
}
