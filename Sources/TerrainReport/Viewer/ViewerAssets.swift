/// The viewer page's style and scripts, inlined into every page (a page must work from a file,
/// offline, with no other file beside it). Each part lives in its own file as a raw string:
/// `ViewerAssets+Common` (decoding, colour maps, scales, ticks), `+Surface3D` (the WebGL
/// renderer), `+ContourView` (heat map, contour lines, path, hover), `+CurveView` (1D
/// surfaces), `+App` (the page: controls, panels, frames, self-check) and `+Style`.
enum ViewerAssets {}
