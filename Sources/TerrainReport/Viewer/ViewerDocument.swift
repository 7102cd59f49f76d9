import Foundation
import TerrainPlot

/// What one viewer page shows: one or more surfaces side by side, on one colour scale per
/// quantity and scale group (computed over every surface of the group and every frame, so that
/// playing a stack never rescales the colours; a group is a data set, `ViewerSurface.scaleGroup`),
/// and the controls' first settings.
public struct ViewerDocument: Sendable {
    public var title: String
    public var surfaces: [ViewerSurface]
    /// The quantity shown first (default: the first of the first frame, `train_loss` usually).
    public var quantity: String?
    /// viridis, cividis, magma or diverging.
    public var colorMap: ColorMap = .viridis
    /// Log z and log colours; nil: on when every value of the quantity is positive (losses).
    public var logarithmic: Bool?
    /// The frame shown first.
    public var frame: Int = 0

    public init(title: String, surfaces: [ViewerSurface]) {
        self.title = title; self.surfaces = surfaces
    }
}
