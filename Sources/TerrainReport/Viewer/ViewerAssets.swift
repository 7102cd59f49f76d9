/// The viewer page's style and scripts, inlined into every page (a page must work from a file,
/// offline, with no other file beside it). Each part is a real file in `Viewer/Assets/`, so that
/// it is read, linted and diffed as the JavaScript or CSS it is; Package.swift embeds them with
/// `resources: [.embedInCode(…)]`, for which SwiftPM generates `PackageResources`: one
/// `static let` per file, named after the file with `.` and `-` as `_` (`contour-view.js` →
/// `contour_view_js`), holding its bytes as `[UInt8]`. Embedded in code, they need no
/// `Bundle.module`: the `terrain` binary carries them and needs no resource folder beside it.
///
/// The page puts each part on lines of its own (`ViewerPage`); the files end with a newline,
/// which `text(_:)` leaves out.
enum ViewerAssets {
    /// `error-capture.js`: errors and console errors are collected from the very start (before
    /// the viewer's own script is parsed), so that the self-check reports them all.
    static let errorCapture = text(PackageResources.error_capture_js)

    /// `common.js`: shared helpers: float32 grids from base64, colour maps, value scales (linear
    /// or log10), nice ticks and number formatting; and what the 2D views share: their axes
    /// (`TV.Axes`) and their canvas with its mouse tracking and readout (`TV.PlotView`).
    static let common = text(PackageResources.common_js)

    /// `surface-3d.js`: the WebGL 3D view: the grid as a triangle mesh coloured per vertex by the
    /// colour map and lit by one fixed light (both sides), a sparse wire mesh on top, the base box
    /// and ticks. Heights are t(v) of the value scale, so log z is the scale's log; fragments
    /// above the scale's top (the clip) are discarded, which cuts the surface flat at z max. Cells
    /// with a non-finite corner are holes (a cell with three finite corners keeps that triangle).
    /// Orbit camera: drag rotates, the wheel zooms, a double-click resets.
    static let surface3D = text(PackageResources.surface_3d_js)

    /// `contour-view.js`: the 2D view of a grid: a heat map (pixel centres on the grid points,
    /// smoothed), contour lines by marching squares at levels evenly spaced in the scale's t (so
    /// log-spaced on a log scale; saddles decided by the cell's mean), the training path (square:
    /// start, dot: end, red: learning-rate drops), axes, and the value under the mouse. Grey: not
    /// computed (NaN); pale red: diverged (±∞); values above the clip take the top colour.
    static let contourView = text(PackageResources.contour_view_js)

    /// `curve-view.js`: a 1D surface (`terrain surface` without --y, `terrain interpolate`): the
    /// quantity along α on the shared scale (log when the scale is), gaps at non-finite values,
    /// values on hover.
    static let curveView = text(PackageResources.curve_view_js)

    /// `app.js`: the page: title, controls (quantity, colour map, log z, z max, frame slider and
    /// play), the shared colour bar, one panel per surface (3D view and contour view, or a curve
    /// for 1D), and the self-check. One colour scale per quantity over every surface and frame.
    static let app = text(PackageResources.app_js)

    /// `viewer.css`: one column of controls above the panels; one surface: 3D and map side by
    /// side; several: cards side by side, 3D above the map.
    static let style = text(PackageResources.viewer_css)

    /// An embedded file's text (UTF-8) without the newline that ends the file.
    private static func text(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
    }
}
