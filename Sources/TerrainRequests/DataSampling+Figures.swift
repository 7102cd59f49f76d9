import TerrainLandscape
import TerrainReport

extension DataSampling {
    /// Sampling to within `fraction` of the contour spacing of the figures' own levels
    /// (`FigureLevels.refinement()`, the levels `--adaptive` follows too): `--data-tolerance 1%`.
    public static func relativeToFigureLevels(fraction: Double, seed: UInt64 = 0, minimumSamples: Int = 1024,
                                       pilotStride: Int? = nil) -> DataSampling {
        DataSampling(tolerance: .contourSpacing(fraction: fraction, levels: FigureLevels.refinement()), seed: seed,
                     minimumSamples: minimumSamples, pilotStride: pilotStride)
    }
}
