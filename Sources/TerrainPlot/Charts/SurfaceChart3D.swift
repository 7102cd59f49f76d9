import Foundation

/// A surface z = f(x, y) drawn in 3D: a lit, shaded mesh seen from a viewpoint, inside an axis box
/// with ticks and labels (the look of the paper's 3D figures and of matplotlib's `plot_surface`).
///
/// **Space.** x and y are normalized to [-1, 1], z to [0, 1] and then stretched to `boxAspect` × 2
/// (the box's height over its base, 0.75 = matplotlib's 4:4:3 box). The box is turned by
/// `azimuth` about the vertical axis and tilted by `elevation` (matplotlib's `view_init`
/// convention: the viewer looks from the horizontal direction (cos azimuth, sin azimuth) and from
/// `elevation` degrees above the xy plane), projected orthographically and fitted into the frame
/// with its aspect kept, leaving room for the title, tick labels and axis labels.
///
/// **Hidden surfaces** (painter's algorithm). Each grid cell is split along its (i, j)–(i+1, j+1)
/// diagonal into two triangles. Cells are drawn back to front by the *horizontal* depth of their
/// centre (ties by index), the component of their (x, y) in box space along the viewer's
/// horizontal direction; inside a cell the two triangles are ordered the same way by their
/// centroids. For a height field over a rectilinear grid and an orthographic view this order is
/// exact, whatever the heights and for any elevation strictly between -90° and 90°, from above or
/// from below: a viewing ray meets points in the order of their horizontal depth, and if a ray
/// passes through cell A and then, nearer the viewer, through cell B, every nonzero component of
/// the offset from A's centre to B's has the sign of the ray's horizontal direction towards the
/// viewer (the cells' footprints are disjoint intervals along each axis), so B's centre is at
/// least as near. (Ordering by the full 3D depth of the centres is not exact: a tall cell behind
/// a low one can be nearer in 3D.) At ±90° no two cells overlap on the page, so any order is right.
///
/// **Shading.** The colour map's colour for each triangle's mean height, multiplied by the light
/// at its corners, averaged: `ambient + diffuse · max(0, n · l)` with n the height field's normal
/// at the corner in box space (central differences), taken on the side of the triangle that faces
/// the viewer, and l the `light`'s direction. Averaging the corners shades a coarse grid smoothly
/// rather than facet by facet. Every triangle is grown by half a pixel (of PNG output) so that
/// neighbours overlap and their anti-aliased edges leave no light seams.
///
/// **Values.** NaN (not computed) and -∞ leave holes: a triangle with such a corner is not drawn.
/// +∞ (diverged) is drawn at the ceiling, `zClip` when given, else the largest finite value, in
/// light grey (`SurfaceChart3D.divergedColor`, shaded like the rest), so a diverged region shows as
/// a pale plateau. With `logarithmic`, z is shown as log10 z and zero or negative values count as
/// missing (holes), like NaN. `zClip` caps values (after which log10 is taken): a peak above it
/// becomes a flat top, so extreme values cannot squash the rest of the surface.
public struct SurfaceChart3D: Chart, Sendable {
    /// The light, fixed relative to the viewer so that a turned view stays lit the same way: by
    /// default from the viewer's front left, 45° up.
    public struct Light: Sendable, Equatable {
        /// Degrees around the vertical axis from the viewer's direction; positive = from the
        /// viewer's left.
        public var azimuth: Double
        /// Degrees above the horizontal plane (below it when the view is from below, so that the
        /// side one sees is lit).
        public var elevation: Double
        /// The shade of a facet turned away from the light (0...1).
        public var ambient: Double
        /// The shade added for a facet facing the light squarely.
        public var diffuse: Double

        public init(azimuth: Double = 45, elevation: Double = 45, ambient: Double = 0.45, diffuse: Double = 0.6) {
            self.azimuth = azimuth; self.elevation = elevation; self.ambient = ambient; self.diffuse = diffuse
        }
    }

    public var grid: ScalarGrid
    public var title: String?
    public var xLabel: String
    public var yLabel: String
    public var zLabel: String
    /// Degrees; the viewer looks from the horizontal direction (cos azimuth, sin azimuth).
    /// -60 (matplotlib's default) puts the x axis across the front, the y axis on the right.
    public var azimuth: Double
    /// Degrees above the xy plane (negative: from below), clamped to -90...90.
    public var elevation: Double
    /// z shown as log10 z; zero and negative values are missing.
    public var logarithmic: Bool
    /// Values above are drawn at this value (and diverged points at this height).
    public var zClip: Double?
    /// The z range of the box, in the data's units (before log10); nil: the values' own range.
    /// Frames of an animation pass one range so that heights, colours and ticks mean the same
    /// in every frame; values outside it are drawn at its ends.
    public var zLimits: ClosedRange<Double>?
    /// Colours by height: the low end at the lowest value.
    public var colorMap: ColorMap
    /// Thin mesh lines along the grid; nil: automatic, on when neither axis has more than
    /// `automaticEdgeLimit` points.
    public var showsEdges: Bool?
    public var light: Light
    /// The box's height over the width of its base.
    public var boxAspect: Double

    /// Grids with more points along an axis get no mesh lines unless `showsEdges` asks for them.
    public static let automaticEdgeLimit = 61
    /// The colour of diverged (+∞) facets before shading.
    public static let divergedColor = Color(hex: 0xf0f0f0)

    public init(grid: ScalarGrid, title: String? = nil, xLabel: String = "x", yLabel: String = "y",
                zLabel: String = "loss", azimuth: Double = -60, elevation: Double = 30, logarithmic: Bool = false,
                zClip: Double? = nil, colorMap: ColorMap = .viridis, showsEdges: Bool? = nil,
                light: Light = Light(), boxAspect: Double = 0.75) {
        self.grid = grid; self.title = title
        self.xLabel = xLabel; self.yLabel = yLabel; self.zLabel = zLabel
        self.azimuth = azimuth; self.elevation = elevation
        self.logarithmic = logarithmic; self.zClip = zClip; self.colorMap = colorMap
        self.showsEdges = showsEdges; self.light = light; self.boxAspect = boxAspect
    }

    /// Whether mesh lines are drawn: `showsEdges`, or automatic for small grids.
    public var drawsEdges: Bool {
        showsEdges ?? (max(grid.x.count, grid.y.count) <= Self.automaticEdgeLimit)
    }

    // MARK: Drawing

    public func draw(on canvas: Canvas, in frame: PlotRect) throws {
        let scene = try makeScene()
        let view = View(azimuth: azimuth, elevation: elevation)
        let axes = makeAxes(scene, view)
        let (layout, decorations) = fit(scene, view, axes, canvas: canvas, frame: frame)
        canvas.withSavedState {
            canvas.clip(to: frame)
            drawPanes(scene, view, axes, layout, canvas)
            drawSurface(scene, view, layout, canvas)
            drawAxes(decorations, canvas)
        }
    }

    /// The page position of the data point (x, y, z) as `draw(on:in:)` places it in `frame`
    /// (z in data units: clipped, log10 taken, +∞ at the ceiling). NaN coordinates when the chart
    /// cannot be drawn or z is missing.
    public func project(_ x: Double, _ y: Double, _ z: Double, in frame: PlotRect) -> PlotPoint {
        guard let scene = try? makeScene() else { return PlotPoint(.nan, .nan) }
        let view = View(azimuth: azimuth, elevation: elevation)
        let (layout, _) = fit(scene, view, makeAxes(scene, view), canvas: Canvas(width: 1, height: 1, scale: 1), frame: frame)
        let w = scene.height(display(z))
        guard !w.isNaN else { return PlotPoint(.nan, .nan) }
        return layout.page(view.screen(scene.u(x), scene.v(y), w))
    }

    // MARK: Data

    /// The values as drawn: NaN = missing, +∞ = diverged, else clipped and (log) transformed.
    private func display(_ raw: Double) -> Double {
        if raw.isNaN || raw == -.infinity { return .nan }
        if raw == .infinity { return .infinity }
        if logarithmic && raw <= 0 { return .nan }
        let clipped = zClip.map { min(raw, $0) } ?? raw
        return logarithmic ? log10(clipped) : clipped
    }

    private func makeScene() throws -> Scene {
        let nx = grid.x.count, ny = grid.y.count
        guard nx >= 2, ny >= 2 else {
            throw PlotError.invalidData("a 3D surface needs at least 2 points along each axis; the grid has \(nx) x \(ny)")
        }
        guard let xMin = grid.x.min(), let xMax = grid.x.max(), let yMin = grid.y.min(), let yMax = grid.y.max(),
              xMin.isFinite, xMax.isFinite, yMin.isFinite, yMax.isFinite, xMax > xMin, yMax > yMin else {
            throw PlotError.invalidData("a 3D surface needs finite x and y coordinates that are not all equal")
        }
        guard azimuth.isFinite, elevation.isFinite, boxAspect.isFinite, boxAspect > 0 else {
            throw PlotError.invalidData("a 3D view needs a finite azimuth and elevation and a positive box aspect")
        }
        if let zClip {
            guard zClip.isFinite, !(logarithmic && zClip <= 0) else {
                throw PlotError.invalidData("zClip \(zClip) is not a \(logarithmic ? "positive" : "finite") value")
            }
        }
        var shown = grid.values.map(display)
        var limits: (low: Double, high: Double)?
        if let zLimits {
            guard zLimits.lowerBound.isFinite, zLimits.upperBound.isFinite, zLimits.lowerBound < zLimits.upperBound,
                  !(logarithmic && zLimits.lowerBound <= 0) else {
                throw PlotError.invalidData("z limits \(zLimits) are not an increasing range of \(logarithmic ? "positive" : "finite") values")
            }
            let range = logarithmic ? (log10(zLimits.lowerBound), log10(zLimits.upperBound)) : (zLimits.lowerBound, zLimits.upperBound)
            shown = shown.map { $0.isFinite ? min(max($0, range.0), range.1) : $0 }
            limits = range
        }
        var low = Double.infinity, high = -Double.infinity, anyDiverged = false
        for value in shown {
            if value.isFinite {
                low = min(low, value); high = max(high, value)
            } else if value == .infinity {
                anyDiverged = true
            }
        }
        guard low <= high else {
            throw PlotError.invalidData(logarithmic
                ? "nothing to draw: the surface has no positive finite value for a logarithmic z axis"
                : "nothing to draw: the surface has no finite value")
        }
        var ceiling = zClip.map { logarithmic ? log10($0) : $0 } ?? high
        if let limits {
            // The box spans exactly the limits; diverged points stand at its top at most.
            (low, high) = limits
            ceiling = min(ceiling, high)
        }
        if anyDiverged { high = max(high, ceiling) }
        if high - low <= 1e-12 * max(abs(low), abs(high), 1e-300) {
            let pad = max(abs(low) * 0.1, 0.5)
            low -= pad; high += pad
        }
        return Scene(nx: nx, ny: ny, xMin: xMin, xMax: xMax, yMin: yMin, yMax: yMax, zLow: low, zHigh: high,
                     ceiling: ceiling, boxHeight: 2 * boxAspect, x: grid.x, y: grid.y, shown: shown)
    }

    // MARK: Axes

    private func makeAxes(_ scene: Scene, _ view: View) -> Axes {
        let h = scene.boxHeight
        // x and y axes along the lowest edges on the page (the front floor edges seen from above,
        // the back ones from below): no surface point can hide them.
        func lowest(_ candidates: [(Double, Double)], _ point: (Double, Double) -> (Double, Double, Double)) -> (Double, Double) {
            candidates.min { a, b in
                let (pa, pb) = (point(a.0, a.1), point(b.0, b.1))
                let (sa, sb) = (view.screen(pa.0, pa.1, pa.2).y, view.screen(pb.0, pb.1, pb.2).y)
                if abs(sa - sb) > 1e-9 { return sa < sb }
                return view.depth(pa.0, pa.1) > view.depth(pb.0, pb.1)
            }!
        }
        let sides = [(-1.0, 0.0), (1.0, 0.0), (-1.0, h), (1.0, h)]
        let xEdge = lowest(sides) { (0, $0, $1) }     // (y, z) of the x axis
        let yEdge = lowest(sides) { ($0, 0, $1) }     // (x, z) of the y axis
        // The z axis on the vertical edge furthest left on the page.
        let corners = [(-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0), (1.0, 1.0)]
        let zCorner = corners.min { a, b in
            let (sa, sb) = (view.screen(a.0, a.1, 0).x, view.screen(b.0, b.1, 0).x)
            if abs(sa - sb) > 1e-9 { return sa < sb }
            return view.depth(a.0, a.1) > view.depth(b.0, b.1)
        }!
        let xTicks = TickMaker.linear(scene.xMin, scene.xMax).map { ($0.label, scene.u($0.value)) }
        let yTicks = TickMaker.linear(scene.yMin, scene.yMax).map { ($0.label, scene.v($0.value)) }
        let zTicks = (logarithmic ? TickMaker.logarithmic(scene.zLow, scene.zHigh) : TickMaker.linear(scene.zLow, scene.zHigh))
            .map { ($0.label, scene.height($0.value)) }
        return Axes(xEdge: xEdge, yEdge: yEdge, zCorner: zCorner, xTicks: xTicks, yTicks: yTicks, zTicks: zTicks)
    }

    private static let tickLength = 4.0, tickGap = 3.0, labelGap = 6.0
    private static let tickSize = 9.0, labelSize = 11.0, titleSize = 13.0
    private static let axisColor = Color(hex: 0x555555), tickTextColor = Color(hex: 0x444444)

    /// Ticks, tick labels and axis labels for one placement of the box.
    private func decorate(_ scene: Scene, _ view: View, _ axes: Axes, _ layout: Layout, _ canvas: Canvas) -> Decorations {
        var result = Decorations()
        let h = scene.boxHeight
        func page(_ p: (Double, Double, Double)) -> PlotPoint { layout.page(view.screen(p.0, p.1, p.2)) }
        func direction(_ d: (Double, Double, Double)) -> PlotPoint {
            let s = view.screen(d.0, d.1, d.2)
            return PlotPoint(s.x, -s.y)
        }

        let centre = page((0, 0, h / 2))

        /// One axis along the box edge a–b. Ticks point along `outward` (a direction in box space,
        /// so they follow the grid lines) unless that looks almost along the edge on the page; then
        /// they are perpendicular to it, away from the box. An edge seen end-on gets nothing.
        func axis(from a: (Double, Double, Double), to b: (Double, Double, Double), ticks: [(String, Double)],
                  at point: (Double) -> (Double, Double, Double), outward: (Double, Double, Double)?, label: String,
                  labelAngle: Double?) {
            let (pa, pb) = (page(a), page(b))
            let length = hypot(pb.x - pa.x, pb.y - pa.y)
            guard length >= 12 else { return }
            result.lines.append((pa, pb))
            let along = PlotPoint((pb.x - pa.x) / length, (pb.y - pa.y) / length)
            let mid = PlotPoint((pa.x + pb.x) / 2, (pa.y + pb.y) / 2)
            var perpendicular = PlotPoint(-along.y, along.x)
            if perpendicular.x * (mid.x - centre.x) + perpendicular.y * (mid.y - centre.y) < 0 {
                perpendicular = PlotPoint(-perpendicular.x, -perpendicular.y)
            }
            var outward = outward.map { Self.normalized(direction($0)) } ?? PlotPoint(-1, 0)
            if abs(outward.x * along.y - outward.y * along.x) < 0.5 || outward.x * perpendicular.x + outward.y * perpendicular.y < 0 {
                outward = perpendicular
            }
            var reach = 0.0
            for (text, position) in ticks {
                let p = page(point(position))
                let end = PlotPoint(p.x + outward.x * Self.tickLength, p.y + outward.y * Self.tickLength)
                result.ticks.append((p, end))
                let width = canvas.measure(text, size: Self.tickSize).width, height = Self.tickSize * 0.8
                let extent = Self.extent(width, height, angle: 0, along: outward)
                let distance = Self.tickLength + Self.tickGap + extent
                reach = max(reach, 2 * extent)
                let item = TextItem(text: text, at: PlotPoint(p.x + outward.x * distance, p.y + outward.y * distance),
                                    size: Self.tickSize, color: Self.tickTextColor, width: width, height: height)
                // Where two axes meet, a label that would overlap one already placed is left out.
                let padded = item.bounds.inset(left: -2, top: -2, right: -2, bottom: -2)
                if !result.labels.contains(where: { $0.bounds.intersects(padded) }) { result.labels.append(item) }
            }
            guard !label.isEmpty else { return }
            // Axis labels run along their edge, turned to read left to right (or bottom to top).
            var angle = labelAngle ?? atan2(-along.y, along.x)
            if angle > Double.pi / 2 + 1e-9 { angle -= Double.pi } else if angle <= -Double.pi / 2 + 1e-9 { angle += Double.pi }
            let width = canvas.measure(label, size: Self.labelSize).width, height = Self.labelSize * 0.8
            let distance = Self.tickLength + Self.tickGap + reach + Self.labelGap + Self.extent(width, height, angle: angle, along: outward)
            result.labels.append(TextItem(text: label, at: PlotPoint(mid.x + outward.x * distance, mid.y + outward.y * distance),
                                          size: Self.labelSize, color: .text, angle: angle, width: width, height: height))
        }

        // z first: its labels win where two axes meet.
        let (cx, cy) = axes.zCorner
        axis(from: (cx, cy, 0), to: (cx, cy, h), ticks: axes.zTicks, at: { (cx, cy, Double($0)) },
             outward: nil, label: zLabel, labelAngle: Double.pi / 2)
        let (xy, xz) = axes.xEdge
        axis(from: (-1, xy, xz), to: (1, xy, xz), ticks: axes.xTicks, at: { (Double($0), xy, xz) },
             outward: (0, xy, 0), label: xLabel, labelAngle: nil)
        let (yx, yz) = axes.yEdge
        axis(from: (yx, -1, yz), to: (yx, 1, yz), ticks: axes.yTicks, at: { (yx, Double($0), yz) },
             outward: (yx, 0, 0), label: yLabel, labelAngle: nil)
        return result
    }

    /// The distance from the centre of a w × h box turned by `angle` to its edge along `d`.
    private static func extent(_ w: Double, _ h: Double, angle: Double, along d: PlotPoint) -> Double {
        let (c, s) = (cos(angle), -sin(angle))   // page y is down
        let along = abs(d.x * c + d.y * s), across = abs(-d.x * s + d.y * c)
        return min(along > 1e-9 ? w / 2 / along : .infinity, across > 1e-9 ? h / 2 / across : .infinity)
    }

    private static func normalized(_ p: PlotPoint) -> PlotPoint {
        let n = hypot(p.x, p.y)
        return n > 0 ? PlotPoint(p.x / n, p.y / n) : PlotPoint(0, 1)
    }

    /// Places the box in the frame, then moves it so that ticks and labels fit too.
    private func fit(_ scene: Scene, _ view: View, _ axes: Axes, canvas: Canvas, frame: PlotRect) -> (Layout, Decorations) {
        var decorationsAbove: [TextItem] = []
        var top = 6.0
        if let title, !title.isEmpty {
            decorationsAbove.append(TextItem(text: title, at: PlotPoint(frame.center.x, frame.minY + 6), size: Self.titleSize,
                                             bold: true, color: .text, baseline: .top, width: 0, height: 0))
            top += Self.titleSize * 1.2 + 6
        }
        let inner = frame.inset(left: 6, top: top, right: 6, bottom: 6)
        var minX = Double.infinity, maxX = -Double.infinity, minY = Double.infinity, maxY = -Double.infinity
        for u in [-1.0, 1] {
            for v in [-1.0, 1] {
                for w in [0, scene.boxHeight] {
                    let s = view.screen(u, v, w)
                    minX = min(minX, s.x); maxX = max(maxX, s.x); minY = min(minY, s.y); maxY = max(maxY, s.y)
                }
            }
        }
        var margins = (left: 50.0, top: 10.0, right: 30.0, bottom: 40.0)
        var layout = Layout(scale: 1, originX: 0, originY: 0)
        var decorations = Decorations()
        for _ in 0..<3 {
            let area = inner.inset(left: margins.left, top: margins.top, right: margins.right, bottom: margins.bottom)
            let scale = max(min(area.width / max(maxX - minX, 1e-9), area.height / max(maxY - minY, 1e-9)), 1e-6)
            layout = Layout(scale: scale, originX: area.center.x - scale * (minX + maxX) / 2,
                            originY: area.center.y + scale * (minY + maxY) / 2)
            decorations = decorate(scene, view, axes, layout, canvas)
            let box = PlotRect(layout.originX + scale * minX, layout.originY - scale * maxY,
                               scale * (maxX - minX), scale * (maxY - minY))
            var used = box
            for item in decorations.labels { used = used.union(item.bounds) }
            for (_, end) in decorations.ticks { used = used.union(PlotRect(end.x, end.y, 0, 0)) }
            margins = (box.minX - used.minX + 2, box.minY - used.minY + 2, used.maxX - box.maxX + 2, used.maxY - box.maxY + 2)
        }
        decorations.labels += decorationsAbove
        return (layout, decorations)
    }

    // MARK: Painting

    private static let paneColor = Color(hex: 0xf2f2f4), paneGridColor = Color(hex: 0xd6d6da), paneEdgeColor = Color(hex: 0xb4b4b8)

    /// The three back faces of the box, with grid lines at the ticks.
    private func drawPanes(_ scene: Scene, _ view: View, _ axes: Axes, _ layout: Layout, _ canvas: Canvas) {
        let h = scene.boxHeight
        let xBack = view.cosAz > 0 ? -1.0 : 1.0, yBack = view.sinAz > 0 ? -1.0 : 1.0
        let zBack = view.sinEl >= 0 ? 0.0 : h
        func page(_ u: Double, _ v: Double, _ w: Double) -> PlotPoint { layout.page(view.screen(u, v, w)) }
        let panes: [[PlotPoint]] = [
            [page(-1, -1, zBack), page(1, -1, zBack), page(1, 1, zBack), page(-1, 1, zBack)],
            [page(xBack, -1, 0), page(xBack, 1, 0), page(xBack, 1, h), page(xBack, -1, h)],
            [page(-1, yBack, 0), page(1, yBack, 0), page(1, yBack, h), page(-1, yBack, h)],
        ]
        for pane in panes { canvas.fill(pane, with: Self.paneColor) }
        for (_, u) in axes.xTicks {
            canvas.stroke([page(u, -1, zBack), page(u, 1, zBack)], color: Self.paneGridColor, width: 0.6)
            canvas.stroke([page(u, yBack, 0), page(u, yBack, h)], color: Self.paneGridColor, width: 0.6)
        }
        for (_, v) in axes.yTicks {
            canvas.stroke([page(-1, v, zBack), page(1, v, zBack)], color: Self.paneGridColor, width: 0.6)
            canvas.stroke([page(xBack, v, 0), page(xBack, v, h)], color: Self.paneGridColor, width: 0.6)
        }
        for (_, w) in axes.zTicks {
            canvas.stroke([page(xBack, -1, w), page(xBack, 1, w)], color: Self.paneGridColor, width: 0.6)
            canvas.stroke([page(-1, yBack, w), page(1, yBack, w)], color: Self.paneGridColor, width: 0.6)
        }
        for pane in panes { canvas.stroke(pane, color: Self.paneEdgeColor, width: 0.6, closed: true) }
    }

    /// The mesh, back to front (see the type's documentation for the order).
    private func drawSurface(_ scene: Scene, _ view: View, _ layout: Layout, _ canvas: Canvas) {
        let nx = scene.nx, ny = scene.ny
        let us = scene.x.map(scene.u), vs = scene.y.map(scene.v)
        let ws = scene.shown.map(scene.height)
        var points = [PlotPoint](repeating: PlotPoint(0, 0), count: nx * ny)
        for j in 0..<ny {
            for i in 0..<nx where !ws[j * nx + i].isNaN {
                points[j * nx + i] = layout.page(view.screen(us[i], vs[j], ws[j * nx + i]))
            }
        }
        // Back to front by the horizontal depth of the cells' centres (ties by index: deterministic).
        var order: [(depth: Double, cell: Int32)] = []
        order.reserveCapacity((nx - 1) * (ny - 1))
        for j in 0..<(ny - 1) {
            for i in 0..<(nx - 1) {
                order.append((view.depth((us[i] + us[i + 1]) / 2, (vs[j] + vs[j + 1]) / 2), Int32(j * (nx - 1) + i)))
            }
        }
        order.sort { $0.depth < $1.depth || ($0.depth == $1.depth && $0.cell < $1.cell) }

        let eye = view.eye
        // Relative to the viewer: turning the viewer's direction counter-clockwise (seen from
        // above) moves it to the viewer's right, so the light's positive azimuth turns the other way.
        // Seen from below, the light comes from below too.
        let turned = (azimuth - light.azimuth) * .pi / 180
        let lightEl = (view.sinEl < 0 ? -light.elevation : light.elevation) * .pi / 180
        let lightDirection = (cos(lightEl) * cos(turned), cos(lightEl) * sin(turned), sin(lightEl))
        let edges = drawsEdges
        let seam = 0.5 / max(canvas.scale, 0.05)   // half a pixel in PNG output
        let edgeColor = Color(red: 0, green: 0, blue: 0, alpha: 0.28)
        let boxHeight = scene.boxHeight

        // Vertex normals of the height field (central differences, one-sided at edges and holes),
        // lit from above and from below: a facet takes the mean of its corners' light, which
        // shades a coarse grid smoothly instead of in triangle facets.
        var lightAbove = [Double](repeating: 0, count: nx * ny), lightBelow = lightAbove
        func slope(_ k: Int, _ i: Int, _ count: Int, _ step: Int, _ coordinate: (Int) -> Double) -> Double {
            let lo = i > 0 && !ws[k - step].isNaN ? i - 1 : i, hi = i < count - 1 && !ws[k + step].isNaN ? i + 1 : i
            guard hi > lo else { return 0 }
            return (ws[k + (hi - i) * step] - ws[k - (i - lo) * step]) / (coordinate(hi) - coordinate(lo))
        }
        for j in 0..<ny {
            for i in 0..<nx where !ws[j * nx + i].isNaN {
                let k = j * nx + i
                let (gu, gv) = (slope(k, i, nx, 1) { us[$0] }, slope(k, j, ny, nx) { vs[$0] })
                let cosine = (-gu * lightDirection.0 - gv * lightDirection.1 + lightDirection.2) / (gu * gu + gv * gv + 1).squareRoot()
                lightAbove[k] = light.ambient + light.diffuse * max(0, cosine)
                lightBelow[k] = light.ambient + light.diffuse * max(0, -cosine)
            }
        }

        func triangle(_ a: Int, _ b: Int, _ c: Int, _ ia: (Int, Int), _ ib: (Int, Int), _ ic: (Int, Int)) {
            let (wa, wb, wc) = (ws[a], ws[b], ws[c])
            guard !wa.isNaN, !wb.isNaN, !wc.isNaN else { return }
            // Which side of the facet faces the viewer: its normal's z and its dot with the eye agree?
            let e1 = (us[ib.0] - us[ia.0], vs[ib.1] - vs[ia.1], wb - wa)
            let e2 = (us[ic.0] - us[ia.0], vs[ic.1] - vs[ia.1], wc - wa)
            let n = (e1.1 * e2.2 - e1.2 * e2.1, e1.2 * e2.0 - e1.0 * e2.2, e1.0 * e2.1 - e1.1 * e2.0)
            let upward = n.2 >= 0, facing = n.0 * eye.0 + n.1 * eye.1 + n.2 * eye.2 >= 0
            let lit = upward == facing ? (lightAbove[a] + lightAbove[b] + lightAbove[c]) / 3
                                       : (lightBelow[a] + lightBelow[b] + lightBelow[c]) / 3
            let shade = min(max(lit, 0), 1)
            let diverged = scene.shown[a] == .infinity || scene.shown[b] == .infinity || scene.shown[c] == .infinity
            let base = diverged ? Self.divergedColor : colorMap.color(at: (wa + wb + wc) / 3 / boxHeight)
            let color = Color(red: base.red * shade, green: base.green * shade, blue: base.blue * shade)
            // Each side moved `seam` outwards: neighbours overlap a little, so their anti-aliased
            // edges leave no light seam (cheaper than an outline stroke).
            canvas.fill(Self.grown(points[a], points[b], points[c], by: seam), with: color)
            // Grid lines: the triangle's two sides along the grid (a-b, b-c), not the diagonal c-a.
            if edges { canvas.stroke([points[a], points[b], points[c]], color: edgeColor, width: 0.4) }
        }

        for (_, cell) in order {
            let i = Int(cell) % (nx - 1), j = Int(cell) / (nx - 1)
            let k00 = j * nx + i, k10 = k00 + 1, k01 = k00 + nx, k11 = k01 + 1
            // Lower triangle (i,j)-(i+1,j)-(i+1,j+1), upper (i+1,j+1)-(i,j+1)-(i,j); the nearer last.
            let lowerDepth = view.depth((us[i] + 2 * us[i + 1]) / 3, (2 * vs[j] + vs[j + 1]) / 3)
            let upperDepth = view.depth((2 * us[i] + us[i + 1]) / 3, (vs[j] + 2 * vs[j + 1]) / 3)
            let lower = { triangle(k00, k10, k11, (i, j), (i + 1, j), (i + 1, j + 1)) }
            let upper = { triangle(k11, k01, k00, (i + 1, j + 1), (i, j + 1), (i, j)) }
            if lowerDepth <= upperDepth { lower(); upper() } else { upper(); lower() }
        }
    }

    /// The triangle with each side moved `distance` outwards (corners capped at 3 × `distance`).
    private static func grown(_ a: PlotPoint, _ b: PlotPoint, _ c: PlotPoint, by distance: Double) -> [PlotPoint] {
        let area2 = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
        guard distance > 0, abs(area2) > 1e-12 else { return [a, b, c] }
        let sign: Double = area2 > 0 ? 1 : -1
        // Outward unit normal of the side p → q.
        func normal(_ p: PlotPoint, _ q: PlotPoint) -> PlotPoint {
            let (dx, dy) = (q.x - p.x, q.y - p.y)
            let length = (dx * dx + dy * dy).squareRoot()
            return length > 0 ? PlotPoint(sign * dy / length, -sign * dx / length) : PlotPoint(0, 0)
        }
        let (nab, nbc, nca) = (normal(a, b), normal(b, c), normal(c, a))
        func moved(_ p: PlotPoint, _ n1: PlotPoint, _ n2: PlotPoint) -> PlotPoint {
            let scale = distance / max(1 + n1.x * n2.x + n1.y * n2.y, 2.0 / 9)
            return PlotPoint(p.x + (n1.x + n2.x) * scale, p.y + (n1.y + n2.y) * scale)
        }
        return [moved(a, nca, nab), moved(b, nab, nbc), moved(c, nbc, nca)]
    }

    private func drawAxes(_ decorations: Decorations, _ canvas: Canvas) {
        for (a, b) in decorations.lines { canvas.stroke([a, b], color: Self.axisColor, width: 0.8) }
        for (a, b) in decorations.ticks { canvas.stroke([a, b], color: Self.axisColor, width: 0.8) }
        for item in decorations.labels {
            canvas.text(item.text, at: item.at, size: item.size, color: item.color, bold: item.bold,
                        anchor: .center, baseline: item.baseline, angle: item.angle)
        }
    }
}

// MARK: - Geometry

/// The data in box space.
private struct Scene {
    let nx: Int, ny: Int
    let xMin: Double, xMax: Double, yMin: Double, yMax: Double
    /// The z range in display units (log10 for a logarithmic chart), the box's bottom and top.
    let zLow: Double, zHigh: Double
    /// Where diverged values are drawn, in display units.
    let ceiling: Double
    let boxHeight: Double
    let x: [Double], y: [Double]
    /// Display values: NaN missing, +∞ diverged.
    let shown: [Double]

    func u(_ x: Double) -> Double { 2 * (x - xMin) / (xMax - xMin) - 1 }
    func v(_ y: Double) -> Double { 2 * (y - yMin) / (yMax - yMin) - 1 }
    /// The height in the box of a display value (diverged at the ceiling; NaN stays NaN).
    func height(_ z: Double) -> Double {
        let z = z == .infinity ? ceiling : z
        return (z - zLow) / (zHigh - zLow) * boxHeight
    }
}

/// An orthographic view: screen x to the viewer's right, screen y up.
private struct View {
    let cosAz: Double, sinAz: Double, cosEl: Double, sinEl: Double

    init(azimuth: Double, elevation: Double) {
        let az = azimuth * .pi / 180, el = min(max(elevation, -90), 90) * .pi / 180
        cosAz = cos(az); sinAz = sin(az); cosEl = cos(el); sinEl = sin(el)
    }

    /// Towards the viewer.
    var eye: (Double, Double, Double) { (cosEl * cosAz, cosEl * sinAz, sinEl) }

    @inline(__always) func screen(_ u: Double, _ v: Double, _ w: Double) -> (x: Double, y: Double) {
        (-sinAz * u + cosAz * v, -sinEl * (cosAz * u + sinAz * v) + cosEl * w)
    }

    /// Horizontal depth: larger is nearer the viewer.
    @inline(__always) func depth(_ u: Double, _ v: Double) -> Double { cosAz * u + sinAz * v }
}

private struct Layout {
    let scale: Double, originX: Double, originY: Double
    func page(_ s: (x: Double, y: Double)) -> PlotPoint { PlotPoint(originX + scale * s.x, originY - scale * s.y) }
}

private struct Axes {
    /// (y, z) of the edge carrying the x axis; (x, z) of the y axis's; (x, y) of the z axis's.
    let xEdge: (Double, Double), yEdge: (Double, Double), zCorner: (Double, Double)
    /// (label, position in box space).
    let xTicks: [(String, Double)], yTicks: [(String, Double)], zTicks: [(String, Double)]
}

private struct TextItem {
    var text: String
    var at: PlotPoint
    var size: Double
    var bold = false
    var color: Color
    var baseline: TextBaseline = .middle
    var angle = 0.0
    var width: Double, height: Double

    /// The page rectangle the text covers (centred at `at`, turned by `angle`).
    var bounds: PlotRect {
        let (c, s) = (abs(cos(angle)), abs(sin(angle)))
        let w = width * c + height * s, h = width * s + height * c
        return PlotRect(at.x - w / 2, at.y - h / 2, w, h)
    }
}

private struct Decorations {
    var lines: [(PlotPoint, PlotPoint)] = []
    var ticks: [(PlotPoint, PlotPoint)] = []
    var labels: [TextItem] = []
}

private extension PlotRect {
    func intersects(_ other: PlotRect) -> Bool {
        minX < other.maxX && other.minX < maxX && minY < other.maxY && other.minY < maxY
    }

    func union(_ other: PlotRect) -> PlotRect {
        let x0 = min(minX, other.minX), y0 = min(minY, other.minY)
        return PlotRect(x0, y0, max(maxX, other.maxX) - x0, max(maxY, other.maxY) - y0)
    }
}

// MARK: - Ticks

/// Round tick values and their labels (kept private to this chart).
private enum TickMaker {
    /// About `target` round values (1, 2, 2.5, 5 × 10^k apart) inside lo...hi.
    static func linear(_ lo: Double, _ hi: Double, target: Int = 5) -> [(value: Double, label: String)] {
        let span = hi - lo
        guard span > 0, span.isFinite else { return [(lo, format(lo, step: max(abs(lo), 1)))] }
        let raw = span / Double(target)
        let magnitude = pow(10, floor(log10(raw)))
        let fraction = raw / magnitude
        let nice: Double = fraction < 1.5 ? 1 : fraction < 2.25 ? 2 : fraction < 3.5 ? 2.5 : fraction < 7.5 ? 5 : 10
        let step = nice * magnitude
        let tolerance = step * 1e-9
        var values: [(Double, String)] = []
        var k = (lo / step - 1e-9).rounded(.up)
        while k * step <= hi + tolerance {
            let value = abs(k * step) < tolerance ? 0 : k * step
            values.append((value, format(value, step: step)))
            k += 1
        }
        return values
    }

    /// Ticks for log10 values lo...hi: whole decades when two or more fall inside, else 1, 2, 5 × 10^k
    /// (or 1...9 × 10^k), labelled with the values themselves.
    static func logarithmic(_ lo: Double, _ hi: Double, target: Int = 5) -> [(value: Double, label: String)] {
        if hi - lo >= 1 - 1e-9 {
            let first = Int((lo - 1e-9).rounded(.up)), last = Int((hi + 1e-9).rounded(.down))
            let stride = max(1, Int((Double(last - first + 1) / Double(target)).rounded(.up)))
            // A range such as 0.2...5 holds one decade only: 1, 2, 5 × 10^k read better there.
            if last > first { return Swift.stride(from: first, through: last, by: stride).map { (Double($0), decade($0)) } }
        }
        for mantissas in [[1.0, 2, 5], [1.0, 2, 3, 4, 5, 6, 7, 8, 9]] {
            var values: [(Double, String)] = []
            for k in Int(lo.rounded(.down))...Int(hi.rounded(.up)) {
                for m in mantissas {
                    let t = log10(m) + Double(k)
                    if t >= lo - 1e-9 && t <= hi + 1e-9 {
                        let value = m * pow(10, Double(k))
                        values.append((t, format(value, step: pow(10, Double(k)))))
                    }
                }
            }
            if values.count >= 2 { return values }
        }
        return linear(pow(10, lo), pow(10, hi), target: target).filter { $0.value > 0 }.map { (log10($0.value), $0.label) }
    }

    private static func decade(_ k: Int) -> String {
        (-3...4).contains(k) ? format(pow(10, Double(k)), step: pow(10, Double(k))) : "1e\(k)"
    }

    /// `value` with as many decimals as `step` needs.
    static func format(_ value: Double, step: Double) -> String {
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e5 || magnitude < 1e-4 { return String(format: "%.3g", value) }
        var decimals = 0
        while decimals < 8 {
            let scaled = abs(step) * pow(10, Double(decimals))
            if abs(scaled - scaled.rounded()) < 1e-6 * max(scaled, 1) { break }
            decimals += 1
        }
        return String(format: "%.\(decimals)f", value)
    }
}
